// JaCoCo's offline instrumentation, then aioco's weaving, wired as README ("Coverage with JaCoCo") says:
// the report on the coroutine function is exact, and the package holds woven classes without JaCoCo's probes.
import java.util.zip.ZipFile

def log = new File(basedir, 'build.log').text
// the order of the goals: JaCoCo instruments what javac wrote, aioco weaves that; after the tests JaCoCo
// restores javac's classes, reports on them, and aioco weaves them again for the package
def steps = [':instrument (instrument) @',
             ':instrument (weave-for-tests) @',
             ':test (default-test) @',
             ':restore-instrumented-classes (restore-and-report) @',
             ':report (restore-and-report) @',
             ':instrument (weave-for-package) @',
             ':jar (default-jar) @']
def positions = steps.collect { log.indexOf(it) }
assert !positions.contains(-1) : "missing step ${steps[positions.indexOf(-1)]}"
assert positions == positions.sort(false) : "steps out of order: ${positions}"
assert log.count('[INFO] aioco: woven sample.Counter') == 2 : 'woven once for the tests, once for the package'
assert log.contains('Tests run: 1, Failures: 0, Errors: 0, Skipped: 0')
assert !log.contains('Skipping JaCoCo execution') : 'the tests wrote the execution data where jacoco:report reads it'

// the lines of the source marked // NAME
def source = new File(basedir, 'src/main/java/sample/Counter.java').readLines()
def line = { String mark ->
    def i = source.findIndexOf { it.contains("// ${mark}") }
    assert i >= 0 : mark
    i + 1
}

def report = new File(basedir, 'target/site/jacoco/jacoco.xml')
assert report.isFile()
def factory = javax.xml.parsers.DocumentBuilderFactory.newInstance()
factory.setFeature('http://apache.org/xml/features/nonvalidating/load-external-dtd', false)
def document = factory.newDocumentBuilder().parse(report)
def elements = { node, String tag ->
    def list = node.getElementsByTagName(tag)
    (0..<list.length).collect { list.item(it) }
}
def counter = elements(document, 'class').findAll { it.getAttribute('name') == 'sample/Counter' }
assert counter.size() == 1 : 'sample/Counter is in the report'
counter = counter[0]

// only the methods of the source, under their own names: no woven body, no aioco parameter
def methodElements = elements(counter, 'method')
def methods = methodElements.collect { it.getAttribute('name') + it.getAttribute('desc') }
assert methods == ['<init>()V', 'addTwice(I)I', 'start(Lsample/Counter;I[I)Lio/aioco/Coroutine;',
                   'lambda$start$0([ILsample/Counter;I)V'] : methods
assert !methods.any { it.contains('aioco$') || it.contains('io/aioco/internal/') } : methods
def addTwice = methodElements.find { it.getAttribute('name') == 'addTwice' }
def methodCounter = elements(addTwice, 'counter').find { it.getAttribute('type') == 'METHOD' }
assert methodCounter.getAttribute('covered') == '1' && methodCounter.getAttribute('missed') == '0' :
        'addTwice counted as one covered method'
assert addTwice.getAttribute('line') == "${line('BEFORE')}".toString() : 'addTwice starts at its first line'

def sourcefile = elements(document, 'sourcefile').find {
    it.getAttribute('name') == 'Counter.java' && it.parentNode.getAttribute('name') == 'sample'
}
def lines = elements(sourcefile, 'line')
def at = { String mark ->
    def nr = line(mark)
    def l = lines.find { it.getAttribute('nr') == "${nr}".toString() }
    assert l != null : "line ${nr} (${mark}) has code in the report"
    [mi: l.getAttribute('mi').toInteger(), ci: l.getAttribute('ci').toInteger(),
     mb: l.getAttribute('mb').toInteger(), cb: l.getAttribute('cb').toInteger()]
}
def before = at('BEFORE'), after = at('AFTER'), branch = at('BRANCH'), untaken = at('UNTAKEN'), lambda = at('LAMBDA')
assert before.ci > 0 && before.mi == 0 : "before the suspension: ${before}"
assert after.ci > 0 && after.mi == 0 : "after the suspension: ${after}"
assert branch.cb == 1 && branch.mb == 1 : "the if is partly covered: ${branch}"
assert untaken.ci == 0 && untaken.mi > 0 : "the branch never taken is missed: ${untaken}"
assert lambda.ci > 0 && lambda.mi == 0 : "the coroutine's entry lambda ran: ${lambda}"

// the package: woven, from the classes javac wrote (no JaCoCo probes left in them)
def marker = 'Lio/aioco/internal/Instrumented;'
def jar = new ZipFile(new File(basedir, 'target/jacoco-offline-1.0.jar'))
try {
    def bytes = new String(jar.getInputStream(jar.getEntry('sample/Counter.class')).bytes, 'ISO-8859-1')
    assert bytes.contains(marker) : 'the packaged class is woven'
    assert !bytes.contains('$jacocoData') && !bytes.contains('org/jacoco/') : 'the packaged class has no JaCoCo probes'
} finally {
    jar.close()
}
return true
