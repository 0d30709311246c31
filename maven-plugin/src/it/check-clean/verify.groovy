// The check goal passes a project that keeps the rules and writes nothing: the classes stay as javac
// wrote them (no marker), and they run as coroutines under the agent, which weaves them at load time.
def classes = new File(basedir, 'target/classes')
def log = new File(basedir, 'build.log').text
assert log.contains('[INFO] aioco: checked ') && log.contains(': 0 errors, 0 warnings')
assert log.contains('BUILD SUCCESS')
def marker = 'Lio/aioco/internal/Instrumented;'
assert !new File(classes, 'sample/App.class').getText('ISO-8859-1').contains(marker)
assert !new File(basedir, 'target/aioco-state').exists()

def repository = localRepositoryPath
def runtime = new File(repository, "io/aioco/aioco-runtime/${aiocoVersion}/aioco-runtime-${aiocoVersion}.jar")
def agent = new File(repository, "io/aioco/aioco-agent/${aiocoVersion}/aioco-agent-${aiocoVersion}.jar")
assert runtime.isFile() && agent.isFile()
def java = new File(System.getProperty('java.home'), 'bin/java').path
def command = [java, "-javaagent:${agent.path}=cache=off", '-cp', classes.path + File.pathSeparator + runtime.path,
        'sample.App']
def process = command.execute()
def out = new StringBuilder(), err = new StringBuilder()
process.waitForProcessOutput(out, err)
assert process.exitValue() == 0 : "${command} exited ${process.exitValue()}:\n${out}\n${err}"
assert out.toString().trim() == 'step 1; step 2; step 3; entered 4 times' : "${out}\n${err}"
return true
