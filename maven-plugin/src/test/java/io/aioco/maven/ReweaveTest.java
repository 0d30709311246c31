package io.aioco.maven;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import java.io.File;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 item 6: a woven caller is woven again, from its original bytes, when only its callee
 * was recompiled and the callee's coroutine functions changed (an IDE build, no incremental
 * compilation); a clean build and an incremental one must give the same program.
 */
class ReweaveTest {
    private static final String HEADER = "package t;\nimport io.aioco.*;\nimport java.util.*;\n";

    /** A woven caller: a coroutine function that calls {@code B.m} and yields once itself. */
    private static final String CALLER = HEADER + """
            public class A {
                static final List<String> LOG = new ArrayList<>();
                @CoroutineFn static void work() {
                    LOG.add("before");
                    int r = B.m(21);
                    LOG.add("r=" + r);
                    Coroutine.yield();
                    LOG.add("end");
                }
                public static String run() {
                    Coroutine co = Coroutine.create(() -> work());
                    while (!co.isTerminated()) { co.enter(); LOG.add("|"); }
                    return String.join(",", LOG);
                }
            }
            """;
    private static final String PLAIN_CALLEE = HEADER + "public class B { public static int m(int x) { return x * 2; } }\n";
    private static final String SUSPENDING_CALLEE = HEADER + """
            public class B {
                @CoroutineFn public static int m(int x) { Coroutine.yield(); return x * 2; }
            }
            """;
    private static final String PLAIN_TRACE = "before,r=42,|,end,|";
    private static final String SUSPENDING_TRACE = "before,|,r=42,|,end,|";

    @TempDir
    Path root;

    private Path classes() {
        return root.resolve("target/classes");
    }

    /** Compiles sources into the folder, against what it holds already (as a build of one changed file does). */
    private void compile(String className, String source) throws IOException {
        Compiler.compile(root, Map.of(className, source), classes(), classes());
    }

    private Weaver.Result weave() throws IOException {
        return weave(classes());
    }

    private static Weaver.Result weave(Path folder) throws IOException {
        List<Path> elements = new ArrayList<>(List.of(folder));
        for (String element : System.getProperty("java.class.path").split(File.pathSeparator)) {
            elements.add(Path.of(element));
        }
        try (ClassPathLookup lookup = ClassPathLookup.open(elements, ClassLookup.ofClassLoader(null))) {
            return new Weaver(folder, lookup, new ClassNamePatterns(null, null), folder).scan();
        }
    }

    /** @return the caller's bytes as a clean build of these sources weaves them (the reference) */
    private byte[] cleanBuildCaller(Map<String, String> sources) throws IOException {
        Path clean = root.resolve("clean/target/classes");
        Compiler.compile(root.resolve("clean"), sources, clean);
        Weaver.Result result = weave(clean);
        assertEquals(List.of(), result.errors);
        result.write();
        return Files.readAllBytes(clean.resolve("t/A.class"));
    }

    private String runCaller() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes().toUri().toURL()},
                getClass().getClassLoader())) {
            return (String) loader.loadClass("t.A").getMethod("run").invoke(null);
        }
    }

    private Path file(String className) {
        return classes().resolve(className.replace('.', '/') + ".class");
    }

    @Test
    void wovenCallerIsWovenAgainWhenItsCalleeAloneBecomesACoroutineFunction() throws Exception {
        compile("t.B", PLAIN_CALLEE);
        compile("t.A", CALLER);
        Weaver.Result first = weave();
        assertEquals(List.of(), first.errors);
        first.write();
        assertEquals(PLAIN_TRACE, runCaller());

        compile("t.B", SUSPENDING_CALLEE); // NOTE: only B's file is written again
        Weaver.Result second = weave();
        assertEquals(List.of(), second.errors);
        assertEquals(List.of("t.A"), second.rewoven);
        assertTrue(second.woven.containsAll(List.of("t.A", "t.B")), second.woven.toString());
        second.write();
        assertEquals(SUSPENDING_TRACE, runCaller());
        assertArrayEquals(cleanBuildCaller(Map.of("t.A", CALLER, "t.B", SUSPENDING_CALLEE)),
                Files.readAllBytes(file("t.A")));

        Weaver.Result third = weave(); // settled: nothing more to do, the caller is not woven twice over
        assertEquals(List.of(), third.errors);
        assertEquals(List.of(), third.woven);
        assertEquals(2, third.alreadyWoven);
    }

    @Test
    void wovenCallerIsWovenAgainWhenItsCalleeStopsBeingACoroutineFunction() throws Exception {
        compile("t.B", SUSPENDING_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        assertEquals(SUSPENDING_TRACE, runCaller());

        compile("t.B", PLAIN_CALLEE);
        Weaver.Result again = weave();
        assertEquals(List.of(), again.errors);
        assertEquals(List.of("t.A"), again.rewoven);
        again.write();
        assertEquals(PLAIN_TRACE, runCaller());
        assertArrayEquals(cleanBuildCaller(Map.of("t.A", CALLER, "t.B", PLAIN_CALLEE)),
                Files.readAllBytes(file("t.A")));
    }

    @Test
    void wovenCallerOfADeletedCalleeIsWovenAgainAndFailsAsACleanBuildWould() throws Exception {
        compile("t.B", SUSPENDING_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        Files.delete(file("t.B"));

        Weaver.Result again = weave();
        assertEquals(List.of("t.A"), again.rewoven);
        again.write();
        Throwable failure = assertThrowsCause(this::runCaller);
        assertTrue(failure instanceof NoClassDefFoundError && failure.getMessage().contains("t/B"), failure.toString());
    }

    @Test
    void calleeRecompiledWithNewBodiesOnlyLeavesTheCallerAndItsTimeAlone() throws Exception {
        compile("t.B", SUSPENDING_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(file("t.A"), old);
        byte[] callerBefore = Files.readAllBytes(file("t.A"));

        compile("t.B", SUSPENDING_CALLEE.replace("x * 2", "x + x"));
        Weaver.Result again = weave();
        assertEquals(List.of(), again.errors);
        assertEquals(List.of(), again.rewoven);
        assertEquals(List.of("t.B"), again.woven);
        again.write();
        assertEquals(old, Files.getLastModifiedTime(file("t.A")));
        assertArrayEquals(callerBefore, Files.readAllBytes(file("t.A")));
        assertEquals(SUSPENDING_TRACE, runCaller());
    }

    @Test
    void calleeChangeThatDoesNotConcernTheCallerKeepsItsFileAndTime() throws Exception {
        compile("t.B", SUSPENDING_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(file("t.A"), old);

        compile("t.B", SUSPENDING_CALLEE.replace("public class B {", "public class B { public static int other() { return 1; }"));
        Weaver.Result again = weave(); // B's fingerprint changed: A is woven again, to the same bytes
        assertEquals(List.of(), again.errors);
        assertEquals(List.of(), again.rewoven);
        assertEquals(List.of("t.B"), again.woven);
        again.write();
        assertEquals(old, Files.getLastModifiedTime(file("t.A")));
        assertEquals(SUSPENDING_TRACE, runCaller());

        Weaver.Result settled = weave(); // and its record was renewed: nothing left to do
        assertEquals(List.of(), settled.woven);
        assertEquals(2, settled.alreadyWoven);
    }

    @Test
    void callerOfAnImplementationWhoseInterfaceMethodBecomesACoroutineFunctionIsWovenAgain() throws Exception {
        // NOTE: the caller names only Impl; Impl.m inherits the marker from its interface, so the
        // caller depends on Api through Impl's supertypes
        String plainApi = HEADER + "public interface Api { int m(int x); }\n";
        String impl = HEADER + """
                public class Impl implements Api {
                    public int m(int x) { return x * 2; }
                }
                """;
        String caller = CALLER.replace("B.m(21)", "api().m(21)")
                .replace("public static String run()", "static Impl api() { return new Impl(); }\n"
                        + "    public static String run()");
        compile("t.Api", plainApi);
        compile("t.Impl", impl);
        compile("t.A", caller);
        weave().write();
        assertEquals(PLAIN_TRACE, runCaller());

        compile("t.Api", plainApi.replace("int m(", "@CoroutineFn int m("));
        compile("t.Impl", impl.replace("return x * 2;", "Coroutine.yield(); return x * 2;"));
        Weaver.Result again = weave();
        assertEquals(List.of(), again.errors);
        assertEquals(List.of("t.A"), again.rewoven);
        again.write();
        assertEquals(SUSPENDING_TRACE, runCaller());
    }

    @Test
    void aCallerThatWasRecompiledIsWovenFreshAndItsRecordReplaced() throws Exception {
        compile("t.B", PLAIN_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        compile("t.B", SUSPENDING_CALLEE);
        compile("t.A", CALLER); // a build that recompiled both: nothing is woven twice
        Weaver.Result again = weave();
        assertEquals(List.of(), again.errors);
        assertEquals(List.of(), again.rewoven);
        again.write();
        assertEquals(SUSPENDING_TRACE, runCaller());
    }

    @Test
    void wovenClassesWithoutARecordAreCountedAndKept() throws Exception {
        compile("t.B", PLAIN_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        deleteRecursively(classes().resolveSibling(Weaver.STATE_FOLDER));
        byte[] callerBefore = Files.readAllBytes(file("t.A"));

        Weaver.Result again = weave();
        assertEquals(List.of(), again.errors);
        assertEquals(1, again.unrecorded);
        assertEquals(1, again.alreadyWoven);
        again.write();
        assertArrayEquals(callerBefore, Files.readAllBytes(file("t.A")));
    }

    @Test
    void aMissingOriginalIsAnErrorNamingTheClassAndTheChangedCallee() throws Exception {
        compile("t.B", PLAIN_CALLEE);
        compile("t.A", CALLER);
        weave().write();
        Path original = classes().resolveSibling(Weaver.STATE_FOLDER).resolve("classes/originals/t/A.class");
        assertTrue(Files.isRegularFile(original));
        Files.delete(original);

        compile("t.B", SUSPENDING_CALLEE);
        Weaver.Result again = weave();
        assertEquals(1, again.errors.size(), again.errors.toString());
        String error = again.errors.get(0);
        assertTrue(error.contains("t.A") && error.contains("t.B") && error.contains("mvn clean"), error);
    }

    @Test
    void fingerprintIsTheSameWovenOrNot() throws Exception {
        compile("t.B", SUSPENDING_CALLEE);
        byte[] original = Files.readAllBytes(file("t.B"));
        weave().write();
        byte[] woven = Files.readAllBytes(file("t.B"));
        assertFalse(java.util.Arrays.equals(original, woven));
        VerdictFingerprints fingerprints = new VerdictFingerprints(name -> null);
        fingerprints.define("orig", original);
        fingerprints.define("woven", woven);
        assertEquals(fingerprints.of("orig"), fingerprints.of("woven"));
        fingerprints.define("plain", compiled("t.B", PLAIN_CALLEE));
        assertFalse(fingerprints.of("orig").equals(fingerprints.of("plain")));
    }

    private byte[] compiled(String className, String source) throws IOException {
        Path elsewhere = root.resolve("elsewhere");
        Compiler.compile(root.resolve("src-elsewhere"), Map.of(className, source), elsewhere);
        return Files.readAllBytes(elsewhere.resolve(className.replace('.', '/') + ".class"));
    }

    private interface Action {
        Object run() throws Exception;
    }

    private static Throwable assertThrowsCause(Action action) {
        try {
            action.run();
        } catch (InvocationTargetException e) {
            return e.getCause();
        } catch (Throwable e) {
            return e;
        }
        throw new AssertionError("expected a failure");
    }

    private static void deleteRecursively(Path folder) throws IOException {
        try (var files = Files.walk(folder)) {
            for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }
}
