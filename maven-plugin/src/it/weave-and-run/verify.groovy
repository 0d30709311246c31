// Woven at build time: the classes carry the marker, and the program runs its coroutines without the
// agent; under the agent the woven classes are left alone and behave the same.
def classes = new File(basedir, 'target/classes')
def log = new File(basedir, 'build.log').text
assert log.contains('[INFO] aioco: woven sample.App')
assert log.contains('[INFO] aioco: excluded sample.generated.Excluded')
assert log.contains('[INFO] aioco: wove 1 class of 1 in ')

def marker = 'Lio/aioco/internal/Instrumented;'
assert new File(classes, 'sample/App.class').getText('ISO-8859-1').contains(marker)
assert !new File(classes, 'sample/generated/Excluded.class').getText('ISO-8859-1').contains(marker)

def repository = localRepositoryPath
def runtime = new File(repository, "io/aioco/aioco-runtime/${aiocoVersion}/aioco-runtime-${aiocoVersion}.jar")
def agent = new File(repository, "io/aioco/aioco-agent/${aiocoVersion}/aioco-agent-${aiocoVersion}.jar")
assert runtime.isFile() && agent.isFile()
def java = new File(System.getProperty('java.home'), 'bin/java').path

def run = { List<String> jvmOptions ->
    def command = [java] + jvmOptions + ['-cp', classes.path + File.pathSeparator + runtime.path, 'sample.App']
    def process = command.execute()
    def out = new StringBuilder(), err = new StringBuilder()
    process.waitForProcessOutput(out, err)
    assert process.exitValue() == 0 : "${command} exited ${process.exitValue()}:\n${out}\n${err}"
    [out.toString().trim(), err.toString()]
}

def expected = 'put 1; got 1 sum 1; put 2; got 2 sum 3; put 3; got 3 sum 6'
def (plain, plainErr) = run([])
assert plain == expected : plainErr
def (underAgent, agentErr) = run(["-javaagent:${agent.path}=verbose".toString()])
assert underAgent == expected : agentErr
assert !agentErr.contains('instrumented sample.App') : agentErr  // already woven: the agent leaves it alone
return true
