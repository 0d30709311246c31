package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shaded agent jar as a user runs it: {@code java -jar aioco-agent.jar check --verify JAR} on a
 * real jar, with no {@code --classpath} naming aioco-runtime (the agent carries the runtime it was
 * built with), and {@code --help} on the jar and on each command.
 */
class AgentJarCheckTest {
    private record Run(int exitCode, String output) {}

    private static Path agentJar() {
        String jar = System.getProperty("aioco.agent.jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("aioco.agent.jar (" + jar + ") is not a file: run the tests through Maven"
                    + " with the agent module in the reactor (mvn -B verify -pl corpus-test -am)");
        }
        return Path.of(jar);
    }

    private static Run java(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-jar");
        command.add(agentJar().toString());
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] output = process.getInputStream().readAllBytes(); // NOTE: until the child closes it, at its exit
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the check did not exit: " + command);
        return new Run(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    @Test
    void checkVerifyNeedsNoRuntimeFlagOnARealJar() throws Exception {
        Path asm = Corpus.allJars().stream().filter(p -> p.getFileName().toString().matches("asm-\\d.*\\.jar"))
                .findFirst().orElseThrow(() -> new IllegalStateException("no asm jar in " + Corpus.folder()));
        Run run = java("check", "--all-methods", "--verify", asm.toString());
        assertFalse(run.output().contains("needs aioco-runtime"), run.output());
        Matcher summary = Pattern.compile("aioco check: (\\d+) classes read, (\\d+) rewritten, \\d+ unchanged,"
                + " (\\d+) methods refused, (\\d+) failed; (\\d+) verified by the JVM").matcher(run.output());
        assertTrue(summary.find(), run.output());
        int rewritten = Integer.parseInt(summary.group(2));
        int refused = Integer.parseInt(summary.group(3));
        assertEquals(0, Integer.parseInt(summary.group(4)), run.output());
        assertTrue(rewritten > 0, run.output());
        assertEquals(rewritten, Integer.parseInt(summary.group(5)), "every rewritten class linked: " + run.output());
        assertEquals(refused == 0 ? 0 : 1, run.exitCode(), run.output());
    }

    @Test
    void theJarAndItsCommandsAnswerHelp() throws Exception {
        Run jar = java("--help");
        assertEquals(0, jar.exitCode(), jar.output());
        assertTrue(jar.output().contains("  check "), jar.output());
        assertTrue(jar.output().contains("cache=DIR|off"), jar.output());
        Run check = java("check", "--help");
        assertEquals(0, check.exitCode(), check.output());
        assertTrue(check.output().contains("--verify"), check.output());
        assertFalse(check.output().contains("unknown option"), check.output());
    }
}
