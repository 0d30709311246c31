// A suspension with a monitor held is refused at build time, with its line; the build fails after both.
def lines = new File(basedir, 'build.log').text.readLines()
assert lines.contains('[ERROR] sample/Locked.java:12: sample.Locked.holdsAMonitor()V: call to coroutine function'
        + ' io.aioco.Coroutine.yield()V inside a synchronized block: a coroutine cannot suspend while it holds a'
        + ' monitor; use a CoMutex, or move the call out of the synchronized block')
assert lines.contains('[ERROR] sample/Locked.java:18: sample.Locked.synchronizedMethod()V: a synchronized method'
        + ' cannot suspend (it would hold its monitor across the suspension); use a CoMutex, or move the suspending'
        + ' call out of the synchronized method')
assert !lines.any { it.contains('releasesFirst') }
assert lines.any { it.contains('aioco: 2 errors in ') }
assert !lines.any { it.trim().startsWith('at ') } : 'no stack trace'
return true
