// Every violation is listed, each with its file, line, method and fix; then the build fails cleanly.
def log = new File(basedir, 'build.log').text
def lines = log.readLines()
assert lines.contains('[ERROR] sample/Violations.java:14: sample.Violations.main([Ljava/lang/String;)V: call to'
        + ' coroutine function sample.Violations.step()V from a method that is not a coroutine function; mark this'
        + ' method @CoroutineFn (its callers must then be coroutine functions too), or run the call in a coroutine'
        + ' (Coroutine.create(() -> ...).enter())')
assert lines.contains('[ERROR] sample/Violations.java:18: sample.Violations.lambda$task$0()V: call to coroutine'
        + ' function sample.Violations.step()V from a lambda whose functional interface method is not a coroutine'
        + ' function; make the lambda a CoroutineEntry (or another interface whose method is @CoroutineFn)')
assert lines.contains('[WARNING] sample/Violations.java:23: sample.Violations$Worker.run()V: overrides coroutine'
        + ' function io.aioco.CoroutineEntry.run()V without @CoroutineFn: it is instrumented as a coroutine function'
        + ' all the same (the marker is inherited); add @CoroutineFn so that readers and callers see it')
assert lines.any { it.contains('aioco: 2 errors in ') && it.contains('(listed above); nothing was woven') }
assert !lines.any { it.trim().startsWith('at ') } : 'no stack trace'
def marker = 'Lio/aioco/internal/Instrumented;'
assert !new File(basedir, 'target/classes/sample/Violations.class').getText('ISO-8859-1').contains(marker)
return true
