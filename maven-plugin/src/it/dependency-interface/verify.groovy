// The hierarchy came from the api jar: the implementation was woven, and it suspends through the
// interface without the agent.
def log = new File(basedir, 'build.log').text
assert log.contains('[INFO] aioco: wove 2 classes of 2 in ')
def marker = 'Lio/aioco/internal/Instrumented;'
def classes = new File(basedir, 'app/target/classes')
assert new File(classes, 'sample/app/Countdown.class').getText('ISO-8859-1').contains(marker)
def runtime = new File(localRepositoryPath, "io/aioco/aioco-runtime/${aiocoVersion}/aioco-runtime-${aiocoVersion}.jar")
def api = new File(basedir, 'api/target/api-1.0.jar')
def classpath = [classes.path, api.path, runtime.path].join(File.pathSeparator)
def command = [new File(System.getProperty('java.home'), 'bin/java').path, '-cp', classpath, 'sample.app.Main']
def process = command.execute()
def out = new StringBuilder(), err = new StringBuilder()
process.waitForProcessOutput(out, err)
assert process.exitValue() == 0 : "${out}\n${err}"
assert out.toString().trim() == '[t-3, t-2, t-1] in 5 enters' : "${out}\n${err}"
return true
