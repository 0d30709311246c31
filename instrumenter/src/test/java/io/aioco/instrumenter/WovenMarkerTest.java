package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;

/**
 * The woven marker carries the protocol version: a class woven now is left alone by a second
 * pass; a class woven by another version (an older aioco's marker has no version) is never taken
 * as woven, which mixed protocols and left coroutines unfinished: it is refused, naming the class
 * and both versions, and its coroutine functions throw that message instead of running.
 */
class WovenMarkerTest {
    private static final Map<String, byte[]> ORIGINAL = TestCompiler.compile(Map.of(
            "t.Driver", Fixtures.DRIVER,
            "t.Old", Fixtures.HEADER + """
                    public class Old {
                        @CoroutineFn static int co() { Coroutine.yield(); return 7; }
                        public static Object plain() { return 42; }
                        public static Object run() { return Driver.drive(() -> Driver.log(co())); }
                    }
                    """));

    private static Instrumenter instrumenter() {
        return new Instrumenter(ClassLookup.chain(ORIGINAL::get, ClassLookup.ofClassLoader(WovenMarkerTest.class.getClassLoader())));
    }

    private static byte[] woven() {
        InstrumentationResult result = instrumenter().instrument(ORIGINAL.get("t/Old"));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
        return result.bytes();
    }

    /** The woven class with its marker's version replaced ({@code null}: no version, as aioco wrote it before). */
    private static byte[] withMarkerVersion(byte[] classBytes, Integer version) {
        ClassNode node = new ClassNode();
        new ClassReader(classBytes).accept(node, 0);
        for (AnnotationNode annotation : node.invisibleAnnotations) {
            if (annotation.desc.equals(RuntimeNames.INSTRUMENTED_DESC)) {
                annotation.values = version == null ? null : new java.util.ArrayList<>(List.of("version", version));
            }
        }
        ClassWriter writer = new ClassWriter(0);
        node.accept(writer);
        return writer.toByteArray();
    }

    @Test
    void aClassWovenNowCarriesTheCurrentVersionAndIsLeftAlone() {
        assertEquals(WovenMarker.NOT_WOVEN, WovenMarker.versionOf(ORIGINAL.get("t/Old")));
        byte[] woven = woven();
        assertEquals(WovenMarker.CURRENT_VERSION, WovenMarker.versionOf(woven));
        assertEquals(InstrumentationResult.Outcome.UNCHANGED, instrumenter().instrument(woven).outcome());
    }

    @Test
    void aClassWovenByAnOlderAiocoIsRefusedNamingItAndBothVersionsAndItsCoroutineFunctionsThrow() {
        byte[] old = withMarkerVersion(woven(), null);
        assertEquals(1, WovenMarker.versionOf(old));
        assertRefused(old, 1);
    }

    @Test
    void aClassWovenByANewerAiocoIsRefusedToo() {
        byte[] newer = withMarkerVersion(woven(), WovenMarker.CURRENT_VERSION + 1);
        assertEquals(WovenMarker.CURRENT_VERSION + 1, WovenMarker.versionOf(newer));
        assertRefused(newer, WovenMarker.CURRENT_VERSION + 1);
    }

    private static void assertRefused(byte[] classBytes, int version) {
        InstrumentationResult result = instrumenter().instrument(classBytes);
        assertEquals(1, result.diagnostics().size(), result.diagnostics().toString());
        Diagnostic error = result.diagnostics().get(0);
        assertEquals(Diagnostic.Severity.ERROR, error.severity());
        assertEquals("t/Old.java: t.Old: woven by an aioco whose coroutine protocol is version " + version
                + "; this aioco's is version " + WovenMarker.CURRENT_VERSION + ", the two cannot call each other, and"
                + " the original class cannot be recovered from the woven one: recompile it (a clean build) so that"
                + " this aioco weaves it; until then its coroutine functions throw", error.format());
        assertEquals(version, WovenMarker.versionOf(result.bytes())); // refused again by the next run

        Map<String, byte[]> classes = new HashMap<>(ORIGINAL);
        classes.put("t/Old", classBytes);
        InstrumentingLoader loader = new InstrumentingLoader(classes);
        assertEquals(42, loader.callStatic("t.Old", "plain"));
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Old", "run"));
        assertTrue(thrown.getMessage().equals(error.format()), thrown.getMessage());
    }
}
