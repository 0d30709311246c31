// The unreadable file is named by its path and fails the build, without a stack trace of the plugin's.
def lines = new File(basedir, 'build.log').text.readLines()
assert lines.any { it.startsWith('[ERROR] target/classes/sample/Broken.class: not a valid class file (') }
assert lines.any { it.contains('aioco: 1 error in ') && it.contains('nothing was woven') }
assert !lines.any { it.trim().startsWith('at ') } : 'no stack trace'
def marker = 'Lio/aioco/internal/Instrumented;'
assert !new File(basedir, 'target/classes/sample/Fine.class').getText('ISO-8859-1').contains(marker)
return true
