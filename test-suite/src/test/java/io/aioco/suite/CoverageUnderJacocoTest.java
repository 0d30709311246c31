package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.jacoco.core.analysis.Analyzer;
import org.jacoco.core.analysis.CoverageBuilder;
import org.jacoco.core.analysis.IClassCoverage;
import org.jacoco.core.analysis.ICounter;
import org.jacoco.core.analysis.IMethodCoverage;
import org.jacoco.core.tools.ExecFileLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Line coverage of coroutine functions under JaCoCo's agent (the version of this build), in child
 * JVMs that run {@code coverage.fixture.Main}: {@code Account.charge} yields once, between
 * {@code @line yield} and {@code @line after}, and is resumed by a second {@code enter}.
 *
 * <ul>
 *   <li>JaCoCo's agent first, aioco's second (what {@code jacoco-maven-plugin}'s {@code argLine}
 *       followed by aioco's gives): JaCoCo instruments the class as javac wrote it, aioco weaves
 *       that; the report, made against the original class files, is exact: the lines before and
 *       after the suspension point covered, the branch never taken and the method never called
 *       missed, and only the source's methods counted.
 *   <li>aioco's agent first, or classes woven by the plugin: JaCoCo sees woven classes. The
 *       program still runs right, JaCoCo's class ids show both weavers produced the same bytes,
 *       but a report loses the bodies' lines (README, "Coverage with JaCoCo"): asserted here, so
 *       that the README is changed with the behaviour.
 * </ul>
 *
 * <p>Runs in the suite's agent run only: the child JVMs do not depend on how this JVM was woven.
 */
class CoverageUnderJacocoTest {
    private static final String FIXTURE = "coverage/fixture/";
    private static final String EXPECTED_OUTPUT = "enters=2 result=70 trace=order-7:30=70";

    @TempDir
    Path work;

    @BeforeEach
    void onlyInTheAgentRun() {
        assertEquals("agent", System.getProperty("aioco.mode"),
                "runs in the agent run only: test-suite/pom.xml leaves it out of the woven run");
    }

    /** @return JaCoCo's agent jar (the runtime one, on the test class path) */
    private static Path jacocoAgent() {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.contains("org.jacoco.agent") && entry.endsWith("-runtime.jar")) {
                return Path.of(entry);
            }
        }
        throw new AssertionError("org.jacoco.agent (classifier runtime) not on the test class path");
    }

    /** @return JaCoCo's {@code -javaagent} argument writing {@code NAME.exec}, dumping the classes it saw to {@code NAME-dump} */
    private String jacoco(String name) {
        return "-javaagent:" + jacocoAgent() + "=destfile=" + work.resolve(name + ".exec") + ",includes=coverage.fixture.*"
                + ",classdumpdir=" + work.resolve(name + "-dump");
    }

    /** Runs the fixture with these agents on these classes; checks its output; returns the exec file. */
    private Path run(String name, Path classes, String... agents) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(ChildJvm.java()));
        command.addAll(List.of(agents));
        command.addAll(List.of("-cp", classes + File.pathSeparator + ChildJvm.runtime(), "coverage.fixture.Main"));
        String output = ChildJvm.run(command);
        assertTrue(output.contains(EXPECTED_OUTPUT), output);
        Path exec = work.resolve(name + ".exec");
        assertTrue(Files.isRegularFile(exec), "JaCoCo wrote no " + exec + ":\n" + output);
        return exec;
    }

    /** @return the coverage of {@code coverage/fixture/SIMPLE_NAME} in {@code classes}, with the execution data of {@code exec} */
    private static IClassCoverage analyze(Path exec, Path classes, String simpleName) throws IOException {
        ExecFileLoader loader = new ExecFileLoader();
        loader.load(exec.toFile());
        CoverageBuilder builder = new CoverageBuilder();
        new Analyzer(loader.getExecutionDataStore(), builder)
                .analyzeClass(Files.readAllBytes(classes.resolve(FIXTURE + simpleName + ".class")), simpleName);
        IClassCoverage found = null;
        for (IClassCoverage coverage : builder.getClasses()) {
            if (coverage.getName().equals(FIXTURE + simpleName)) {
                found = coverage;
            }
        }
        assertNotNull(found, simpleName + " not analyzed");
        return found;
    }

    private static String status(IClassCoverage coverage, int line) {
        return switch (coverage.getLine(line).getStatus()) {
            case ICounter.EMPTY -> "no code";
            case ICounter.NOT_COVERED -> "missed";
            case ICounter.PARTLY_COVERED -> "partly covered";
            case ICounter.FULLY_COVERED -> "covered";
            default -> throw new AssertionError();
        };
    }

    private static void assertLine(String expected, IClassCoverage coverage, String marker) throws IOException {
        int line = FixtureSource.line("Account.java", marker);
        assertEquals(expected, status(coverage, line), "Account.java:" + line + " (@line " + marker + ")");
    }

    /** @return each method JaCoCo counted, as {@code name+desc} */
    private static List<String> methods(IClassCoverage coverage) {
        return coverage.getMethods().stream().map(m -> m.getName() + m.getDesc()).sorted().toList();
    }

    @Test
    void jacocoFirstReportsTheOriginalLinesBeforeAndAfterTheSuspensionAndNoWovenMethod() throws Exception {
        Path exec = run("jacoco-first", FixtureSource.originalClasses(), jacoco("jacoco-first"), ChildJvm.agent("cache=off"));

        IClassCoverage account = analyze(exec, FixtureSource.originalClasses(), "Account");
        assertFalse(account.isNoMatch(), "the execution data is that of the original class");
        for (String marker : List.of("before", "label", "yield", "after", "store", "trace")) {
            assertLine("covered", account, marker);
        }
        assertLine("missed", account, "never");
        assertLine("missed", account, "refund");
        assertEquals(List.of("<init>(J)V", "charge(JLjava/lang/String;)J", "refund(J)V"), methods(account));
        IMethodCoverage charge = account.getMethods().stream().filter(m -> m.getName().equals("charge")).findFirst().orElseThrow();
        assertEquals(1, charge.getBranchCounter().getMissedCount(), "amount > before: only the false branch taken");
        assertEquals(1, account.getMethodCounter().getMissedCount(), "refund only");

        IClassCoverage main = analyze(exec, FixtureSource.originalClasses(), "Main");
        // (JaCoCo leaves the private empty constructor out)
        assertEquals(List.of("lambda$main$0([JLcoverage/fixture/Account;)V", "main([Ljava/lang/String;)V"), methods(main));
        assertEquals(ICounter.FULLY_COVERED, main.getLine(FixtureSource.line("Main.java", "lambda")).getStatus());
        for (IClassCoverage coverage : List.of(account, main)) {
            for (IMethodCoverage method : coverage.getMethods()) {
                assertFalse(method.getDesc().contains("io/aioco/") || method.getName().startsWith("lambda$aioco$"),
                        "a method of the rewrite counted: " + coverage.getName() + "." + method.getName() + method.getDesc());
            }
        }
    }

    @Test
    void wovenBeforeJacocoRunsRightButAReportLosesTheBodiesLinesAsTheReadmeSays() throws Exception {
        Path aiocoFirst = run("aioco-first", FixtureSource.originalClasses(), ChildJvm.agent("cache=off"), jacoco("aioco-first"));
        Path plugin = run("plugin", FixtureSource.wovenClasses(), jacoco("plugin"));

        // JaCoCo names the classes it saw by their CRC: the agent's and the plugin's weaving are the same bytes
        assertArrayEquals(dumped("aioco-first"), dumped("plugin"));

        // against the original class files nothing matches: a class id is that of the bytes JaCoCo saw
        IClassCoverage againstOriginal = analyze(aiocoFirst, FixtureSource.originalClasses(), "Account");
        assertTrue(againstOriginal.isNoMatch() || againstOriginal.getInstructionCounter().getCoveredCount() == 0,
                "the execution data of woven bytes does not apply to the original class");

        // against the woven class files: the bodies are synthetic and JaCoCo leaves them out, so only
        // the wrapper's line (the first) is reported; the lines after the suspension are lost
        for (Path exec : List.of(aiocoFirst, plugin)) {
            IClassCoverage account = analyze(exec, FixtureSource.wovenClasses(), "Account");
            assertFalse(account.isNoMatch());
            assertEquals(List.of("<init>(J)V", "charge(JLjava/lang/String;)J", "refund(J)V"), methods(account),
                    "the synthetic bodies are not counted");
            assertLine("partly covered", account, "before");
            for (String marker : List.of("label", "yield", "after", "store", "trace", "never")) {
                assertLine("no code", account, marker);
            }
            // JaCoCo keeps synthetic methods named lambda$...: a lambda's body and fresh body are
            // counted beside its wrapper, and the fresh body (not called here) is a missed method
            IClassCoverage main = analyze(exec, FixtureSource.wovenClasses(), "Main");
            assertEquals(List.of("lambda$main$0([JLcoverage/fixture/Account;)V",
                    "lambda$main$0([JLcoverage/fixture/Account;Lio/aioco/internal/CoStack;)V",
                    "lambda$main$0([JLcoverage/fixture/Account;Lio/aioco/internal/CoStack;I)V",
                    "main([Ljava/lang/String;)V"), methods(main));
            assertEquals(1, main.getMethodCounter().getMissedCount());
        }
    }

    /** @return the names of the classes JaCoCo dumped in run {@code name}, with their ids */
    private String[] dumped(String name) throws IOException {
        try (Stream<Path> files = Files.walk(work.resolve(name + "-dump"))) {
            return files.filter(Files::isRegularFile).map(f -> work.resolve(name + "-dump").relativize(f).toString())
                    .sorted().toArray(String[]::new);
        }
    }
}
