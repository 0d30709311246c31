// The check goal ran in verify (after packaging), listed the violations of the main and the test
// classes with file, line, method and fix, then failed the build; nothing was woven.
def log = new File(basedir, 'build.log').text
def lines = log.readLines()
assert lines.any { it.contains('aioco-maven-plugin') && it.contains(':check (default)') }
assert lines.contains('[ERROR] sample/Violations.java:15: sample.Violations.main([Ljava/lang/String;)V: call to'
        + ' coroutine function sample.Violations.step()V from a method that is not a coroutine function; mark this'
        + ' method @CoroutineFn (its callers must then be coroutine functions too), or run the call in a coroutine'
        + ' (Coroutine.create(() -> ...).enter())')
assert lines.contains('[ERROR] sample/Violations.java:21: sample.Violations.locked()V: call to coroutine function'
        + ' sample.Violations.step()V inside a synchronized block: a coroutine cannot suspend while it holds a'
        + ' monitor; use a CoMutex, or move the call out of the synchronized block')
assert lines.any { it.startsWith('[ERROR] sample/TestHelper.java:5: sample.TestHelper.drive()V: call to coroutine function') }
assert lines.any { it.contains('aioco: 2 errors in ') && it.contains('target/classes (listed above). Fix them') }
assert lines.any { it.contains('BUILD FAILURE') }
assert !lines.any { it.trim().startsWith('at ') } : 'no stack trace'
assert new File(basedir, 'target/check-violation-1.0.jar').isFile() : 'verify runs after package'
def marker = 'Lio/aioco/internal/Instrumented;'
assert !new File(basedir, 'target/classes/sample/Violations.class').getText('ISO-8859-1').contains(marker)
assert !new File(basedir, 'target/aioco-state').exists()
return true
