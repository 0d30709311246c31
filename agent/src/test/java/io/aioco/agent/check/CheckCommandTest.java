package io.aioco.agent.check;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.CoroutineFn;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The check command reads its jars as a class loader of the running JDK does: a multi-release jar's
 * classes are the ones this JDK would load (it checked the base entries, which this JDK never
 * loads, and missed the classes only a version directory holds).
 */
class CheckCommandTest {
    @TempDir
    Path dir;

    /** Compiles one source and returns the class file's bytes. */
    private byte[] compile(String name, String source) throws Exception {
        Path sources = Files.createDirectories(dir.resolve("src-" + name.replace('/', '-')));
        Path classes = Files.createDirectories(dir.resolve("classes-" + name.replace('/', '-')));
        Path file = sources.resolve(name.substring(name.lastIndexOf('/') + 1) + ".java");
        Files.writeString(file, source);
        String runtime = Path.of(CoroutineFn.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, "-cp", runtime, "-d",
                classes.toString(), file.toString()));
        return Files.readAllBytes(classes.resolve(name + ".class"));
    }

    private static Path jar(Path file, boolean multiRelease, Map<String, byte[]> entries) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (multiRelease) {
            manifest.getMainAttributes().put(new Attributes.Name("Multi-Release"), "true");
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(entry.getKey()));
                jar.write(entry.getValue());
                jar.closeEntry();
            }
        }
        return file;
    }

    private record Result(int exitCode, CheckCommand.Summary summary, String output) {}

    private static Result check(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CheckCommand command = new CheckCommand(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        int exitCode = command.run(args);
        return new Result(exitCode, command.summary(), bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void aMultiReleaseJarIsCheckedAsTheRunningJdkLoadsIt() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("p/Work.class", compile("p/Work", "package p; public class Work { public static int run() { return 1; } }"));
        entries.put("META-INF/versions/9/p/Work.class", compile("p/Work", "package p; public class Work {"
                + " @io.aioco.CoroutineFn public static int run() { io.aioco.Coroutine.yield(); return 1; } }"));
        entries.put("META-INF/versions/9/q/OnlyNine.class", compile("q/OnlyNine", "package q; public class OnlyNine {"
                + " @io.aioco.CoroutineFn public static void pause() { io.aioco.Coroutine.yield(); } }"));
        Path mr = jar(dir.resolve("mr.jar"), true, entries);

        Result result = check(mr.toString());
        assertEquals(0, result.exitCode(), result.output());
        assertEquals(2, result.summary().read(), "p.Work once, and q.OnlyNine: " + result.output());
        assertEquals(2, result.summary().rewritten(), "the versioned p.Work is the one this JDK loads: " + result.output());
    }

    @Test
    void aVersionedEntryOfAJarThatIsNotMultiReleaseIsNoClass() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("p/Work.class", compile("p/Work", "package p; public class Work { public static int run() { return 1; } }"));
        entries.put("META-INF/versions/9/q/OnlyNine.class", compile("q/OnlyNine", "package q; public class OnlyNine {"
                + " @io.aioco.CoroutineFn public static void pause() { io.aioco.Coroutine.yield(); } }"));
        Path plain = jar(dir.resolve("plain.jar"), false, entries);

        Result result = check(plain.toString());
        assertEquals(0, result.exitCode(), result.output());
        assertEquals(1, result.summary().read(), result.output());
        assertEquals(1, result.summary().unchanged(), result.output());
    }

    @Test
    void aJarThatCannotBeReadIsNamedAndIsBadInput() throws Exception {
        Path broken = Files.writeString(dir.resolve("broken.jar"), "not a zip");
        Result result = check(broken.toString());
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("broken.jar"), result.output());
    }

    @Test
    void aPathThatIsNoJarIsReportedWithOnePrefix() throws Exception {
        Path broken = Files.writeString(dir.resolve("notajar.jar"), "hi");
        Result result = check(broken.toString());
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().startsWith("aioco check: cannot open " + broken), result.output());
        assertFalse(result.output().contains("cannot read cannot"), result.output());
    }

    @Test
    void aTruncatedClassInAFolderIsNamedByItsFile() throws Exception {
        byte[] whole = compile("x/Gen", "package x; public class Gen { @io.aioco.CoroutineFn public static void"
                + " pause() { io.aioco.Coroutine.yield(); } }");
        Path folder = Files.createDirectories(dir.resolve("d").resolve("x"));
        Files.write(folder.resolve("Gen.class"), whole);
        Files.write(folder.resolve("Bad.class"), java.util.Arrays.copyOf(whole, 50));

        Result result = check(dir.resolve("d").toString());
        assertEquals(1, result.exitCode(), result.output());
        assertEquals(1, result.summary().failed(), result.output());
        assertEquals(1, result.summary().rewritten(), result.output());
        assertTrue(result.output().contains("x/Bad.class: not a readable class file (truncated or damaged: "),
                result.output());
        assertFalse(result.output().contains("<unreadable class>"), result.output());
        assertFalse(result.output().contains("cannot instrument: java."), result.output());
    }

    @Test
    void aSingleClassFileIsRefusedSayingAJarOrAFolderIsExpected() throws Exception {
        Path folder = Files.createDirectories(dir.resolve("x"));
        Path single = Files.write(folder.resolve("Gen.class"), compile("x/Gen", "package x; public class Gen {}"));
        Result result = check(single.toString());
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains(single + " is a class file; expected a jar or a folder"), result.output());
        assertFalse(result.output().contains("not a jar"), result.output());
    }

    /**
     * A jar whose classes' supertypes form a cycle (classes compiled at different times): the JVM
     * throws {@code ClassCircularityError} when it links them. The check names the cycle's classes
     * instead of taking it for a missing dependency.
     */
    @Test
    void circularSupertypesAreReportedAsACycleNotAsMissingDependencies() throws Exception {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("c/A.class", compile("c/A", "package c; public class A extends B {"
                + " @io.aioco.CoroutineFn public static void pause() { io.aioco.Coroutine.yield(); } }"
                + " class B {}"));
        entries.put("c/B.class", compile("c/B", "package c; public class B extends A {} class A {}"));
        entries.put("c/Below.class", compile("c/Below", "package c; public class Below extends A {"
                + " @io.aioco.CoroutineFn public static void rest() { io.aioco.Coroutine.yield(); } }"
                + " class A {}"));
        Path circular = jar(dir.resolve("circular.jar"), false, entries);
        String runtime = Path.of(CoroutineFn.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();

        Result result = check("--verify", "--classpath", runtime, circular.toString());
        assertEquals(2, result.summary().rewritten(), result.output());
        assertEquals(0, result.summary().verified(), result.output());
        assertTrue(result.output().contains("c.A: cannot be linked: its supertypes form a cycle: c.A -> c.B -> c.A"
                + " (ClassCircularityError)"), result.output());
        assertTrue(result.output().contains("c.Below: cannot be linked: its supertypes form a cycle: c.A -> c.B -> c.A"
                + " (ClassCircularityError)"), result.output());
        assertTrue(result.output().contains("2 with circular supertypes"), result.output());
        assertFalse(result.output().contains("2 not loadable here (missing dependencies)"), result.output());
    }

    /** Every option the check's parser accepts (the test below checks each against the parser too). */
    private static final java.util.List<String> OPTIONS = java.util.List.of("--all-methods", "--verify",
            "--classpath", "-cp", "--help", "-h");

    @Test
    void helpListsEveryOptionAndAnExample() throws Exception {
        Result result = check("--help");
        assertEquals(0, result.exitCode(), result.output());
        assertEquals(CheckCommand.HELP, result.output());
        for (String option : OPTIONS) {
            assertTrue(java.util.regex.Pattern.compile("(?m)^  (.*[ ,])?" + java.util.regex.Pattern.quote(option)
                    + "[ ,]").matcher(result.output()).find(), option + " is not listed:\n" + result.output());
        }
        assertTrue(result.output().contains("Example:\n  java -jar aioco-agent.jar check "), result.output());
        // each listed option is one the parser accepts: none is answered "unknown option"
        java.util.regex.Matcher listed = java.util.regex.Pattern.compile("(?m)^  (-[-a-z]+)").matcher(result.output());
        Path empty = Files.createDirectories(dir.resolve("empty"));
        int seen = 0;
        while (listed.find()) {
            String option = listed.group(1);
            Result parsed = option.equals("--classpath") || option.equals("-cp")
                    ? check(option, empty.toString(), empty.toString()) : check(option, empty.toString());
            assertFalse(parsed.output().contains("unknown option"), option + ": " + parsed.output());
            seen++;
        }
        assertEquals(OPTIONS.size() - 1, seen, "one line each, -h beside --help: "
                + result.output());
    }

    @Test
    void aBadOptionNamesTheOptionsAndTheHelp() throws Exception {
        Result result = check("--verfy", dir.toString());
        assertEquals(2, result.exitCode(), result.output());
        assertTrue(result.output().contains("unknown option --verfy; the options are --all-methods, --verify,"),
                result.output());
        assertTrue(result.output().contains("check --help describes every option"), result.output());
    }

    /**
     * {@code check --verify app.jar} with no runtime on the paths: the agent links the rewritten
     * classes against the runtime it carries (the JVM's verifier runs on them).
     */
    @Test
    void verifyNeedsNoRuntimeOnThePaths() throws Exception {
        assertTrue(CheckCommand.class.getResource(CheckCommand.EMBEDDED_RUNTIME) != null,
                "the build copies aioco-runtime into the agent's classes");
        Map<String, byte[]> entries = new LinkedHashMap<>();
        entries.put("app/Work.class", compile("app/Work", "package app; public class Work {"
                + " @io.aioco.CoroutineFn public static int run() { io.aioco.Coroutine.yield(); return 1; }"
                + " @io.aioco.CoroutineFn public int twice() { return run() + run(); } }"));
        Path app = jar(dir.resolve("app.jar"), false, entries);

        Result result = check("--verify", app.toString());
        assertEquals(0, result.exitCode(), result.output());
        assertEquals(1, result.summary().rewritten(), result.output());
        assertEquals(1, result.summary().verified(), "linked against the agent's runtime: " + result.output());
        assertEquals(0, result.summary().notVerifiable(), result.output());
    }
}
