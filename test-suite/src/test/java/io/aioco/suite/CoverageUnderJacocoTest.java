package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.check.BytecodeVerifier;
import org.jacoco.core.analysis.Analyzer;
import org.jacoco.core.analysis.CoverageBuilder;
import org.jacoco.core.analysis.IClassCoverage;
import org.jacoco.core.analysis.ICounter;
import org.jacoco.core.analysis.IMethodCoverage;
import org.jacoco.core.runtime.OfflineInstrumentationAccessGenerator;
import org.jacoco.core.tools.ExecFileLoader;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Line coverage of coroutine functions under JaCoCo's agent (the version of this build), in child
 * JVMs that run {@code coverage.fixture.Main}: {@code Account.charge} yields once, between
 * {@code @line yield} and {@code @line after}, and is resumed by a second {@code enter}.
 *
 * <p>Where the report, made against the original class files as usual, is exact (the lines before
 * and after the suspension point covered, the branch never taken and the method never called
 * missed, only the source's methods counted):
 * <ul>
 *   <li>JaCoCo's agent first, aioco's second (what {@code jacoco-maven-plugin}'s {@code argLine}
 *       followed by aioco's gives): JaCoCo instruments the class as javac wrote it, aioco weaves
 *       that.
 *   <li>aioco's agent first: the same, because aioco's transformer is retransformation-capable and
 *       the JVM runs JaCoCo's incapable one before it; JaCoCo's class ids show it saw the same bytes.
 *   <li>Classes instrumented offline by JaCoCo, then woven as the plugin weaves (the Maven setup
 *       the README gives for plugin-woven projects).
 * </ul>
 * JaCoCo's agent on classes the plugin wove runs right, but a report loses the bodies' lines
 * (README, "Coverage with JaCoCo"): asserted here, so that the README is changed with the
 * behaviour.
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
        List<String> command = ChildJvm.command();
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

    /**
     * The report JaCoCo gives of {@code exec} against the original class files is exact: the lines
     * before and after the suspension point covered, the branch never taken and the method never
     * called missed, and only the source's methods counted.
     */
    private static void assertExactReport(Path exec) throws IOException {
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
        assertEquals(2, charge.getBranchCounter().getTotalCount(), "the branches of the source only");
        int check = FixtureSource.line("Account.java", "before") + 3; // if (amount > before + attempts)
        assertEquals(1, account.getLine(check).getBranchCounter().getMissedCount(), "Account.java:" + check);
        assertEquals(1, account.getMethodCounter().getMissedCount(), "refund only");

        IClassCoverage main = analyze(exec, FixtureSource.originalClasses(), "Main");
        // (JaCoCo leaves the private empty constructor out)
        assertEquals(List.of("lambda$main$0([JLcoverage/fixture/Account;)V", "main([Ljava/lang/String;)V"), methods(main));
        assertEquals(ICounter.FULLY_COVERED, main.getLine(FixtureSource.line("Main.java", "lambda")).getStatus());
        assertEquals(0, main.getMethodCounter().getMissedCount(), "main and its lambda ran");
        for (IClassCoverage coverage : List.of(account, main)) {
            for (IMethodCoverage method : coverage.getMethods()) {
                assertFalse(method.getDesc().contains("io/aioco/") || method.getName().startsWith("lambda$aioco$"),
                        "a method of the rewrite counted: " + coverage.getName() + "." + method.getName() + method.getDesc());
            }
        }
    }

    @Test
    void jacocoFirstReportsTheOriginalLinesBeforeAndAfterTheSuspensionAndNoWovenMethod() throws Exception {
        assertExactReport(run("jacoco-first", FixtureSource.originalClasses(), jacoco("jacoco-first"), ChildJvm.agent("cache=off")));
    }

    @Test
    void aiocoFirstOnTheCommandLineReportsTheSameAsJacocoFirst() throws Exception {
        // aioco's transformer is retransformation-capable: the JVM runs JaCoCo's (incapable) before it
        // whatever the order of the options
        assertExactReport(run("aioco-first", FixtureSource.originalClasses(), ChildJvm.agent("cache=off"), jacoco("aioco-first")));
        run("jacoco-first", FixtureSource.originalClasses(), jacoco("jacoco-first"), ChildJvm.agent("cache=off"));
        // JaCoCo names the classes it saw by their CRC: in both orders, the bytes javac wrote
        assertArrayEquals(dumped("jacoco-first"), dumped("aioco-first"));
    }

    /**
     * Plugin-woven classes, the supported way: JaCoCo's offline instrumentation ({@code jacoco:instrument})
     * before aioco's weaving ({@code aioco:instrument}), the program run with JaCoCo's runtime on the
     * class path and no agent, the report made against the classes as javac wrote them (README,
     * "Coverage with JaCoCo").
     */
    @Test
    void offlineInstrumentedThenWovenClassesReportTheSameAsJacocoFirst() throws Exception {
        Path classes = work.resolve("offline-classes");
        org.jacoco.core.instr.Instrumenter jacoco = new org.jacoco.core.instr.Instrumenter(new OfflineInstrumentationAccessGenerator());
        for (String name : List.of("Account", "Main", "Trace")) {
            Path file = FixtureSource.originalClasses().resolve(FIXTURE + name + ".class");
            Files.createDirectories(classes.resolve(FIXTURE));
            Files.write(classes.resolve(FIXTURE + name + ".class"), jacoco.instrument(Files.readAllBytes(file), name));
        }
        weaveAsThePluginDoes(classes);
        assertTrue(new String(Files.readAllBytes(classes.resolve(FIXTURE + "Account.class")), StandardCharsets.ISO_8859_1)
                .contains("io/aioco/internal/CoStack"), "woven");

        Path exec = work.resolve("offline.exec");
        String output = ChildJvm.run(ChildJvm.command("-Djacoco-agent.destfile=" + exec,
                "-cp", classes + File.pathSeparator + ChildJvm.runtime() + File.pathSeparator + jacocoAgent(),
                "coverage.fixture.Main"));
        assertTrue(output.contains(EXPECTED_OUTPUT), output);
        assertExactReport(exec);
    }

    @Test
    void jacocosAgentOnPluginWovenClassesRunsRightButAReportLosesTheBodiesLinesAsTheReadmeSays() throws Exception {
        Path plugin = run("plugin", FixtureSource.wovenClasses(), jacoco("plugin"));

        // against the original class files nothing matches: a class id is that of the bytes JaCoCo saw
        IClassCoverage againstOriginal = analyze(plugin, FixtureSource.originalClasses(), "Account");
        assertTrue(againstOriginal.isNoMatch() || againstOriginal.getInstructionCounter().getCoveredCount() == 0,
                "the execution data of woven bytes does not apply to the original class");

        // against the woven class files: the bodies are synthetic and JaCoCo leaves them out, so only
        // the wrapper's line (the first) is reported; the lines after the suspension are lost
        IClassCoverage account = analyze(plugin, FixtureSource.wovenClasses(), "Account");
        assertFalse(account.isNoMatch());
        assertEquals(List.of("<init>(J)V", "charge(JLjava/lang/String;)J", "refund(J)V"), methods(account),
                "the synthetic bodies are not counted");
        assertLine("partly covered", account, "before");
        for (String marker : List.of("label", "yield", "after", "store", "trace", "never")) {
            assertLine("no code", account, marker);
        }
        // JaCoCo keeps synthetic methods named lambda$...: a lambda's body and fresh body are
        // counted beside its wrapper, and the fresh body (not called here) is a missed method
        IClassCoverage main = analyze(plugin, FixtureSource.wovenClasses(), "Main");
        assertEquals(List.of("lambda$main$0([JLcoverage/fixture/Account;)V",
                "lambda$main$0([JLcoverage/fixture/Account;Lio/aioco/internal/CoStack;)V",
                "lambda$main$0([JLcoverage/fixture/Account;Lio/aioco/internal/CoStack;I)V",
                "main([Ljava/lang/String;)V"), methods(main));
        assertEquals(1, main.getMethodCounter().getMissedCount());
    }

    /**
     * Weaves the class files of {@code classes} in place as {@code aioco:instrument} does (its
     * {@code Weaver}: the agent's instrumenter over the project's class path, each result verified).
     */
    private static void weaveAsThePluginDoes(Path classes) throws IOException {
        try (ClassPathLookup lookup = ClassPathLookup.open(List.of(classes, ChildJvm.runtime()), ClassLookup.ofClassLoader(null))) {
            Instrumenter instrumenter = new Instrumenter(lookup, new Instrumenter.Options(false, false));
            BytecodeVerifier verifier = new BytecodeVerifier(lookup);
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".class")).toList()) {
                    InstrumentationResult result = instrumenter.instrument(Files.readAllBytes(file));
                    assertEquals(List.of(), result.diagnostics(), file.toString());
                    if (result.outcome() == InstrumentationResult.Outcome.REWRITTEN) {
                        assertEquals(List.of(), verifier.verify(result.bytes()), file.toString());
                        Files.write(file, result.bytes());
                    }
                }
            }
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
