package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A switch expression with a {@code try} inside a constructor's arguments: javac (17 and 25) spills
 * the operand stack, the object under construction included, to local variables before the
 * switch. Saved with the frame, that uninitialized object made the whole class fail verification
 * ({@code VerifyError: Type uninitialized 0}); now it is allocated at its constructor call, and the
 * program runs as written. Compiled at test time by the JDK 17 compiler in process, and by JDK
 * 25's javac (a test that fails when that compiler is missing).
 */
class UninitializedInLocalsTest {
    private static final Path JAVAC_25 = Path.of("/usr/lib/jvm/temurin-25-jdk-amd64/bin/javac");

    private static final String SOURCE = Fixtures.HEADER + """
            public class SwitchTry {
                record Box(int a, int b) {}
                static final class Pair {
                    final Object left, right;
                    Pair(Object left, Object right) { this.left = left; this.right = right; }
                    @Override public String toString() { return left + "/" + right; }
                }
                @CoroutineFn static int co(int k) {
                    Driver.log("co" + k);
                    Coroutine.yield();
                    if (k == 3) throw new IllegalArgumentException("k3");
                    return k * 10;
                }
                @CoroutineFn static Object make(int k) {
                    return new Box(k, switch (k) {
                        case 1, 3 -> {
                            try { yield co(k); }
                            catch (IllegalArgumentException e) { Driver.log("caught " + e.getMessage()); yield co(-1); }
                        }
                        default -> 2;
                    });
                }
                @CoroutineFn static Object nested(int k) {
                    return new Pair(new Box(k, switch (k) { default -> { try { yield co(k); } finally { Driver.log("fin"); } } }),
                            String.valueOf(switch (k) { default -> { try { yield co(k + 1); } catch (RuntimeException e) { yield -9; } } }));
                }
                @CoroutineFn static Object inLoop() {
                    Object last = null;
                    for (int i = 0; i < 2; i++) {
                        last = new Box(i, switch (i) { default -> { try { yield co(7 + i); } catch (RuntimeException e) { yield -1; } } });
                    }
                    return last;
                }
                @CoroutineFn static void body() {
                    Driver.log(make(1));
                    Driver.log(make(2));
                    Driver.log(make(3));
                    Driver.log(nested(5));
                    Driver.log(inLoop());
                }
                public static Object run() { return Driver.drive(SwitchTry::body); }
            }
            """;

    private static final String EXPECTED = "co1,|,Box[a=1, b=10],Box[a=2, b=2],co3,|,caught k3,co-1,|,Box[a=3, b=-10],"
            + "co5,|,fin,co6,|,Box[a=5, b=50]/60,co7,|,co8,|,Box[a=1, b=80]";

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.SwitchTry", SOURCE);
        return sources;
    }

    private static void assertRunsAsWritten(InstrumentingLoader loader) {
        InstrumentationResult result = loader.result("t.SwitchTry");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
        assertEquals(List.of(), result.diagnostics());
        assertEquals(EXPECTED, loader.callStatic("t.SwitchTry", "run"));
    }

    @Test
    void switchWithTryInConstructorArgumentsCompiledByJdk17RunsAsWritten() {
        assertRunsAsWritten(InstrumentingLoader.of(sources()));
    }

    @Test
    void switchWithTryInConstructorArgumentsCompiledByJdk25RunsAsWritten(@TempDir Path root) throws Exception {
        assertTrue(Files.isExecutable(JAVAC_25), "the JDK 25 compiler is needed at " + JAVAC_25);
        Path out = root.resolve("out");
        List<String> command = new java.util.ArrayList<>(List.of(JAVAC_25.toString(), "--release", "17", "-d",
                out.toString(), "-cp", System.getProperty("java.class.path")));
        for (Map.Entry<String, String> source : sources().entrySet()) {
            Path file = root.resolve("src").resolve(source.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
            command.add(file.toString());
        }
        Process javac = new ProcessBuilder(command).redirectErrorStream(true).start();
        String log = new String(javac.getInputStream().readAllBytes());
        assertEquals(0, javac.waitFor(), log);
        assertRunsAsWritten(new InstrumentingLoader(classFiles(out)));
    }

    /**
     * Two paths from one NEW join before its constructor call, after a loop (the analyzer runs the
     * NEW more than once; the random-program test found it).
     */
    @Test
    void aConditionalInConstructorArgumentsJoinsOneAllocation() {
        assertEquals("co2,|,caught f0@2 20,caught f0@2 -1", Fixtures.run("Cond", """
                public class Cond {
                    static final class Boom extends RuntimeException { Boom(String m) { super(m); } }
                    @CoroutineFn static int co(int k) { Driver.log("co" + k); Coroutine.yield(); return k * 10; }
                    @CoroutineFn static void make(int depth, boolean z) throws Exception {
                        if (z) { } else { for (int i0 = 0; i0 < 0; i0++) { } } // NOTE: the analyzer visits what follows twice
                        try {
                            if (z) throw new Boom("f0@2 " + String.valueOf((depth > 0 ? ((long) co(depth + 1)) : (-1L))));
                        } catch (IllegalStateException | ArithmeticException e1) {
                            Driver.log("wrong " + e1);
                            if (z) throw new Exception("f0@4 " + String.valueOf(((Object) "o4")));
                            Coroutine.yield();
                        }
                    }
                    @CoroutineFn static void body() {
                        for (int depth = 1; depth >= 0; depth--) {
                            try { make(depth, true); } catch (Exception e) { Driver.log("caught " + e.getMessage()); }
                        }
                    }
                    public static Object run() { return Driver.drive(Cond::body); }
                }
                """));
    }

    private static Map<String, byte[]> classFiles(Path out) throws IOException {
        Map<String, byte[]> classes = new HashMap<>();
        try (Stream<Path> files = Files.walk(out)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                String name = out.relativize(file).toString().replace(File.separatorChar, '/');
                classes.put(name.substring(0, name.length() - ".class".length()), Files.readAllBytes(file));
            }
        }
        return classes;
    }
}
