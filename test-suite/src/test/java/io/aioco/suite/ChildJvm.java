package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;
import javax.tools.ToolProvider;

/**
 * What the tests that start a JVM of their own under the agent share: the launcher, the agent and
 * runtime jars of this build, compiling sources to a folder or a jar, and running the child to its
 * end. Called by a test's own thread.
 */
final class ChildJvm {
    private ChildJvm() {}

    /** @return the {@code java} launcher of the JDK running the tests */
    static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * A child JVM's command line: this JDK's launcher with {@code -ea} (the child runs aioco's
     * {@code assert}s, as the tests themselves do), then {@code arguments}.
     *
     * @param arguments the JVM options, class path, main class and program arguments
     * @return a new modifiable list
     */
    static List<String> command(String... arguments) {
        List<String> command = new ArrayList<>(List.of(java(), "-ea"));
        command.addAll(List.of(arguments));
        return command;
    }

    /**
     * @param options the agent's options ({@code cache=off}, {@code verbose}, ...)
     * @return the {@code -javaagent} argument for this build's aioco agent
     */
    static String agent(String options) {
        return "-javaagent:" + System.getProperty("aioco.agent.jar") + "=" + options;
    }

    /** @return the aioco runtime on the test class path (its jar, or its classes in a reactor build) */
    static Path runtime() {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.contains("aioco-runtime") || entry.endsWith("runtime/target/classes")) {
                return Path.of(entry);
            }
        }
        throw new AssertionError("aioco-runtime not on the test class path");
    }

    /** @return the ASM jar on the test class path (for an agent of a test that rewrites bytecode) */
    static Path asm() {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.matches(".*[/\\\\]asm-9[0-9.]*\\.jar")) {
                return Path.of(entry);
            }
        }
        throw new AssertionError("ASM not on the test class path");
    }

    /**
     * Runs a command to its end (two minutes at most).
     *
     * @return its output, standard error included
     * @throws AssertionError if it does not end in time or ends with another status than 0
     */
    static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new AssertionError(command + " failed:\n" + output);
        }
        return output;
    }

    /**
     * Compiles sources with this JDK's compiler into {@code work/NAME-classes}.
     *
     * @param sources each a path below the source folder and its text
     * @return the classes' folder
     */
    static Path compile(Path work, String name, String[][] sources, String classPath) throws IOException {
        Path sourceDir = Files.createDirectories(work.resolve(name + "-src"));
        Path classes = Files.createDirectories(work.resolve(name + "-classes"));
        List<String> arguments = new ArrayList<>(List.of("-cp", classPath, "-d", classes.toString()));
        for (String[] source : sources) {
            Path file = sourceDir.resolve(source[0]);
            Files.createDirectories(file.getParent());
            Files.writeString(file, source[1]);
            arguments.add(file.toString());
        }
        assertEquals(0, ToolProvider.getSystemJavaCompiler().run(null, null, null, arguments.toArray(String[]::new)));
        return classes;
    }

    /**
     * Writes a jar of a folder's files.
     *
     * @param manifest the jar's manifest, or null for none
     * @return the jar
     */
    static Path jar(Path jar, Path classes, Manifest manifest) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream stream = manifest == null ? new JarOutputStream(out) : new JarOutputStream(out, manifest);
                Stream<Path> files = Files.walk(classes)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                stream.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                stream.write(Files.readAllBytes(file));
                stream.closeEntry();
            }
        }
        return jar;
    }
}
