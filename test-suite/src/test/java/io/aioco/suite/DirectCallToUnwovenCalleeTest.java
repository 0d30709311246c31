package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A static call from a woven class to a coroutine function of another class that the agent expects
 * to weave too (its include/exclude accept it) is a plain {@code invokestatic} of the callee's fresh
 * body, guarded by a dynamic constant that keeps the linked call when the callee's class was loaded
 * unwoven after all (review rv1718). The callee below never suspends; each test loads it unwoven by
 * a normal means the agent's name check does not see and expects the program to print
 * {@code result=42} (the callee run as plain code, as before protocol 5), with one warning that
 * names the class and why it is not woven, never a {@link NoSuchMethodError}.
 *
 * <p>Without the guard (the plain {@code invokestatic} alone) the first four tests fail: the child
 * dies with {@code java.lang.NoSuchMethodError: 'int p.Callee.m(int, io.aioco.internal.CoStack)'}.
 * The shapes test runs the cross-class shapes that must keep plain Java's behaviour (mutual
 * recursion with long/double/varargs, a private static nestmate, an interface static method, an
 * inherited static method, a callee whose static initializer fails) under the agent.
 */
class DirectCallToUnwovenCalleeTest {
    @TempDir
    Path work;

    private static final String CALLEE = """
            package p;
            import io.aioco.CoroutineFn;
            public class Callee {
                @CoroutineFn public static int m(int x) { return x + 1; }
                @CoroutineFn public static int n(int x) { return x - 1; }
            }
            """;

    private static final String MAIN = """
            package q;
            import io.aioco.Coroutine;
            import io.aioco.CoroutineFn;
            public class Main {
                static int result;
                // two methods of the class: two guards, one warning
                @CoroutineFn static void body() { result = p.Callee.m(41) + p.Callee.n(1); }
                public static void main(String[] a) {
                    Coroutine.create(Main::body).enter();
                    System.out.println("result=" + result);
                }
            }
            """;

    /** An agent that, as many monitoring or configuration agents do, touches an application class in premain. */
    private static final String OTHER_AGENT = """
            package o;
            public class Other {
                public static void premain(String args, java.lang.instrument.Instrumentation inst) throws Exception {
                    Class.forName("p.Callee");
                }
            }
            """;

    private static final String WARNING = "aioco: p.Callee is not woven: ";

    private Path lib;
    private Path app;

    private void compile() throws IOException {
        String runtime = ChildJvm.runtime().toString();
        lib = ChildJvm.compile(work, "lib", new String[][] {{"p/Callee.java", CALLEE}}, runtime);
        app = ChildJvm.compile(work, "app", new String[][] {{"q/Main.java", MAIN}}, runtime + File.pathSeparator + lib);
    }

    /** Runs the child and returns its output whatever its exit status. */
    private static String runChild(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), command + " did not end");
        return output;
    }

    /** The callee ran as plain code, and the one warning says why with {@code reason}. */
    private static void assertPlainWithWarning(String output, String reason) {
        assertTrue(output.contains("result=42"), "expected result=42 (the callee run as plain code), got:\n" + output);
        assertFalse(output.contains("NoSuchMethodError"), output);
        int warning = output.indexOf(WARNING);
        assertTrue(warning >= 0, "expected the warning naming p.Callee, got:\n" + output);
        assertEquals(warning, output.lastIndexOf(WARNING), "one warning per class:\n" + output);
        assertTrue(output.contains("first: q.Main calling "), output);
        assertTrue(output.substring(warning).contains(reason), "expected the reason '" + reason + "':\n" + output);
    }

    @Test
    void calleeOnTheBootClassPathAppendIsNotWovenAndRunsAsPlainCode() throws Exception {
        compile();
        List<String> command = ChildJvm.command("-Xbootclasspath/a:" + lib, ChildJvm.agent("cache=off"),
                "-cp", ChildJvm.runtime() + File.pathSeparator + app, "q.Main");
        assertPlainWithWarning(runChild(command), "boot class loader");
    }

    @Test
    void calleeLoadedByAnotherAgentsPremainBeforeAiocosIsNotWovenAndRunsAsPlainCode() throws Exception {
        compile();
        Path otherClasses = ChildJvm.compile(work, "other", new String[][] {{"o/Other.java", OTHER_AGENT}}, "");
        java.util.jar.Manifest manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().putValue("Premain-Class", "o.Other");
        Path otherJar = ChildJvm.jar(work.resolve("other.jar"), otherClasses, manifest);
        List<String> command = ChildJvm.command("-javaagent:" + otherJar, ChildJvm.agent("cache=off"),
                "-cp", ChildJvm.runtime() + File.pathSeparator + lib + File.pathSeparator + app, "q.Main");
        assertPlainWithWarning(runChild(command), "loaded before the agent started");
    }

    /** The agent attached at run time: the callee was loaded before, the caller after (woven). */
    @Test
    void calleeLoadedBeforeARunTimeAttachIsNotWovenAndRunsAsPlainCode() throws Exception {
        compile();
        String classPath = ChildJvm.runtime() + File.pathSeparator + lib + File.pathSeparator + app;
        Path attach = ChildJvm.compile(work, "attach", new String[][] {{"z/Attach.java", resource("Attach.java")}},
                classPath);
        String agentJar = System.getProperty("aioco.agent.jar");
        String output = runChild(ChildJvm.command("-Djdk.attach.allowAttachSelf=true",
                "-cp", classPath + File.pathSeparator + attach, "z.Attach", agentJar));
        assertPlainWithWarning(output, "loaded before the agent started");
    }

    /**
     * A callee whose class is near the constant-pool limit: weaving adds its wrapper/bodies and frame
     * table constants and ASM throws ClassTooLargeException; the agent logs it and loads the class
     * unchanged (documented). 21,837 constants: the most javac compiles with the two methods is
     * 21,838 (three constant-pool entries each), and weaving adds more than three entries.
     */
    @Test
    void calleeWhoseClassBecomesTooLargeWhenWovenIsLoadedUnwovenAndRunsAsPlainCode() throws Exception {
        StringBuilder big = new StringBuilder("package p;\nimport io.aioco.CoroutineFn;\npublic class Callee {\n");
        for (int i = 0; i < 21_837; i++) {
            big.append("    public static final String S").append(i).append(" = \"v").append(i).append("\";\n");
        }
        big.append("    @CoroutineFn public static int m(int x) { return x + 1; }\n");
        big.append("    @CoroutineFn public static int n(int x) { return x - 1; }\n}\n");
        String runtime = ChildJvm.runtime().toString();
        Path classes = ChildJvm.compile(work, "big", new String[][] {{"p/Callee.java", big.toString()}, {"q/Main.java", MAIN}},
                runtime);
        String output = runChild(ChildJvm.command(ChildJvm.agent("cache=off"),
                "-cp", runtime + File.pathSeparator + classes, "q.Main"));
        assertTrue(output.contains("ClassTooLargeException"), "the callee was expected to be too large once woven:\n"
                + output);
        assertPlainWithWarning(output, "its weaving failed");
    }

    @Test
    void sameProgramWithTheCalleeWovenPrints42WithoutWarning() throws Exception {
        // control: the only difference to the tests above is how the callee is loaded
        compile();
        String output = runChild(ChildJvm.command(ChildJvm.agent("cache=off"),
                "-cp", ChildJvm.runtime() + File.pathSeparator + lib + File.pathSeparator + app, "q.Main"));
        assertTrue(output.contains("result=42"), output);
        assertFalse(output.contains("is not woven"), output);
    }

    /**
     * Cross-class static shapes (resources {@code rv1718/shapes}) print what the program computes
     * as plain Java: mutual recursion A/B with long, double and varargs, a private static nestmate,
     * an interface static method, an inherited static method called through the subclass (which
     * Java does not initialize), and a static initializer that runs once; with {@code -Dfail=true}
     * that initializer fails: ExceptionInInitializerError from the call, as in plain Java.
     */
    @Test
    void crossClassShapesBehaveAsPlainJava() throws Exception {
        String runtime = ChildJvm.runtime().toString();
        String[] names = {"A", "B", "I", "Late", "Main", "Sub", "Sup"};
        String[][] sources = new String[names.length][];
        for (int i = 0; i < names.length; i++) {
            sources[i] = new String[] {"s/" + names[i] + ".java", resource("shapes/" + names[i] + ".java")};
        }
        Path classes = ChildJvm.compile(work, "shapes", sources, runtime);
        String classPath = runtime + File.pathSeparator + classes;
        String output = runChild(ChildJvm.command(ChildJvm.agent("cache=off"), "-cp", classPath, "s.Main"));
        assertEquals("Late.<clinit> ran\nf=36;secret=16;twice=42;inherited=101;late=7; enters=13 clinitRuns=1\n",
                output);
        String failing = runChild(ChildJvm.command("-Dfail=true", ChildJvm.agent("cache=off"),
                "-cp", classPath, "s.Main"));
        assertTrue(failing.startsWith("Late.<clinit> ran\nException in thread \"main\" java.lang.ExceptionInInitializerError"),
                failing);
        assertTrue(failing.contains("Caused by: java.lang.IllegalStateException: boom"), failing);
        assertFalse(failing.contains("NoSuchMethodError") || failing.contains("NoClassDefFoundError"), failing);
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = DirectCallToUnwovenCalleeTest.class.getResourceAsStream("/rv1718/" + name)) {
            assertTrue(in != null, name);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
