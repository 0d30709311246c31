package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent's startup cache in a real JVM, started twice with {@code -javaagent} over the same
 * jars: the second start reads what the first saved at exit, skips the clean classes, and still
 * instruments the class that inherits a coroutine function from another jar without naming the
 * runtime (were it skipped, its suspension would cross a frame that is not instrumented and throw).
 * The same with {@code java -jar}, the jars named by the launcher jar's manifest.
 */
class StartupCacheUnderAgentTest {
    private static final Pattern LOADED = Pattern.compile("startup cache .*: (\\d+) clean classes");
    private static final Pattern SAVED = Pattern.compile("aioco: saved (\\d+) clean classes");

    private static final String[][] LIB = {
        {"lib/Stepper.java", "package lib; public interface Stepper { @io.aioco.CoroutineFn int step(int x); }"},
        {"lib/Yielder.java", "package lib; public final class Yielder {"
                + " @io.aioco.CoroutineFn public static void pause() { io.aioco.Coroutine.yield(); } }"},
    };
    private static final String[][] APP = {
        // names nothing of aioco: only lib.Stepper makes step a coroutine function
        {"app/Step.java", "package app; public class Step implements lib.Stepper {"
                + " public int step(int x) { lib.Yielder.pause(); return x + 1; } }"},
        {"app/Plain.java", "package app; public class Plain { public int twice(int x) { return 2 * x; } }"},
        {"app/Main.java", """
                package app;
                import io.aioco.Coroutine;
                public class Main {
                    static int result;
                    public static void main(String[] args) {
                        lib.Stepper stepper = new Step();
                        Coroutine co = Coroutine.create(() -> result = new Plain().twice(stepper.step(stepper.step(1))));
                        int enters = 0;
                        while (!co.isTerminated()) { co.enter(); enters++; }
                        System.out.println("result=" + result + " enters=" + enters);
                    }
                }
                """},
    };

    @TempDir
    Path work;

    @Test
    void aSecondStartSkipsTheCleanClassesAndStillInstrumentsAnInheritedCoroutineFunction() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path lib = compileToJar("lib", LIB, runtime.toString());
        Path app = compileToJar("app", APP, runtime + File.pathSeparator + lib);
        Path cache = work.resolve("cache");
        List<String> command = ChildJvm.command(
                ChildJvm.agent("verbose,cache=" + cache),
                "-cp", lib + File.pathSeparator + app + File.pathSeparator + runtime, "app.Main");

        String first = ChildJvm.run(command);
        assertTrue(first.contains("result=6 enters=3"), first);
        assertEquals(0, cleanClassesRead(first), first);
        Matcher saved = SAVED.matcher(first);
        assertTrue(saved.find(), "verbose says what it saved at exit: " + first);
        assertTrue(Integer.parseInt(saved.group(1)) >= 1, first);
        try (Stream<Path> files = Files.list(cache)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().endsWith(".bin")).count());
        }

        String second = ChildJvm.run(command);
        assertTrue(second.contains("result=6 enters=3"), second);
        assertTrue(second.contains("instrumented app.Step"), "still instrumented: " + second);
        assertTrue(cleanClassesRead(second) >= 1, "at least app.Plain is known clean: " + second);
        assertTrue(!second.contains("instrumented app.Plain"), second);
    }

    @Test
    void aSecondJavaJarStartSkipsTheCleanClassesOfTheJarsItsManifestNames() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path lib = compileToJar("lib", LIB, runtime.toString());
        Path app = compileToJar("app", APP, runtime + File.pathSeparator + lib);
        // relative entries, then the runtime by its URL (a folder in a reactor build: trusted nothing after it)
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(Attributes.Name.MAIN_CLASS, "app.Main");
        manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, "lib.jar app.jar " + runtime.toUri());
        Path launcher = work.resolve("launcher.jar");
        try (OutputStream out = Files.newOutputStream(launcher); JarOutputStream stream = new JarOutputStream(out, manifest)) {
            stream.flush();
        }
        Path cache = work.resolve("cache");
        List<String> command = ChildJvm.command(
                ChildJvm.agent("verbose,cache=" + cache),
                "-jar", launcher.toString());

        String first = ChildJvm.run(command);
        assertTrue(first.contains("result=6 enters=3"), first);
        assertEquals(0, cleanClassesRead(first), first);

        String second = ChildJvm.run(command);
        assertTrue(second.contains("result=6 enters=3"), second);
        assertTrue(second.contains("instrumented app.Step"), "still instrumented: " + second);
        assertTrue(cleanClassesRead(second) >= 1, "at least app.Plain (app.jar) is known clean: " + second);
        assertTrue(!second.contains("instrumented app.Plain"), second);
    }

    private static int cleanClassesRead(String output) {
        Matcher matcher = LOADED.matcher(output);
        assertTrue(matcher.find(), "no startup cache line in:\n" + output);
        return Integer.parseInt(matcher.group(1));
    }

    private Path compileToJar(String name, String[][] sources, String classPath) throws IOException {
        return ChildJvm.jar(work.resolve(name + ".jar"), ChildJvm.compile(work, name, sources, classPath), null);
    }
}
