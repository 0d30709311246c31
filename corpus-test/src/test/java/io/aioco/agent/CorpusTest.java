package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import io.aioco.agent.check.CheckCommand;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

/**
 * Every jar of the {@link Corpus} through the check command's {@code --all-methods --verify}:
 * every method of every class taken as a coroutine function, every rewritten class checked by
 * ASM's analyzer and linked by the JVM (its verifier runs). No class may fail, and every refused
 * method must be refused for a documented reason ({@link Refusal}).
 *
 * <p>CI checks a deterministic sample of each jar: the top-level classes (with their nested
 * classes) whose name hashes to 0 modulo {@value #SAMPLE_MODULUS}, about a third. All classes:
 * {@code -Daioco.corpus.all=true}. Counts per jar are printed, and a table of them at the end.
 */
class CorpusTest {
    /** The system property that checks every class instead of the sample. */
    static final String ALL = "aioco.corpus.all";
    private static final int SAMPLE_MODULUS = 3;

    /**
     * Classes whose instrumentation is known to fail, left out of the assertion (each with the
     * reproducer that documents it). Empty: every class of the corpus passes.
     */
    private static final Set<String> KNOWN_FAILURES = Set.of();

    /** The documented reasons to refuse a method, by a phrase of the instrumenter's message. */
    enum Refusal {
        /** A synchronized method holds its monitor across a suspension. */
        SYNCHRONIZED_METHOD("a synchronized method cannot suspend"),
        /** A synchronized block holds its monitor across a suspension. */
        SYNCHRONIZED_BLOCK("inside a synchronized block"),
        /** The rewritten method would pass the JVM's 64 KiB limit on a method's code. */
        TOO_LARGE("method too large once instrumented");

        final String phrase;

        Refusal(String phrase) {
            this.phrase = phrase;
        }

        /** @return the reason of a refusal diagnostic, or null if it is none of the documented ones */
        static Refusal of(String diagnostic) {
            for (Refusal refusal : values()) {
                if (diagnostic.contains(refusal.phrase)) {
                    return refusal;
                }
            }
            return null;
        }
    }

    /** What the check found in one jar. */
    record JarCounts(Corpus.Jar jar, String file, boolean sampled, CheckCommand.Summary summary,
            Map<Refusal, Integer> refusedByReason) {
        String line() {
            CheckCommand.Summary s = summary;
            return String.format("%-20s %-45s %6d %6d %6d %6d %6d %6d %6d %6d %6d", jar.label(), file
                    + (sampled ? " (sample)" : ""), s.read(), s.rewritten(), s.unchanged(),
                    refusedByReason.get(Refusal.SYNCHRONIZED_METHOD), refusedByReason.get(Refusal.SYNCHRONIZED_BLOCK),
                    refusedByReason.get(Refusal.TOO_LARGE), s.failed(), s.verified(), s.notVerifiable());
        }
    }

    private static final Map<String, JarCounts> RESULTS = new ConcurrentHashMap<>();

    static final List<Corpus.Jar> JARS = Corpus.JARS;

    @ParameterizedTest(name = "{0}")
    @FieldSource("JARS")
    void everyClassInstrumentsAndVerifiesOrIsRefusedForADocumentedReason(Corpus.Jar jar) {
        Path jarPath = jar.path();
        boolean all = Boolean.getBoolean(ALL);
        List<String> classpath = new ArrayList<>();
        for (Path other : Corpus.allJars()) {
            if (!other.equals(jarPath)) {
                classpath.add(other.toString());
            }
        }
        classpath.add(Corpus.runtime().toString());

        ByteArrayOutputStream output = new ByteArrayOutputStream();
        CheckCommand command = new CheckCommand(new PrintStream(output, true, StandardCharsets.UTF_8),
                all ? name -> true : CorpusTest::inSample);
        int exitCode = command.run(new String[] {"--all-methods", "--verify", "--classpath",
                String.join(File.pathSeparator, classpath), jarPath.toString()});
        CheckCommand.Summary summary = command.summary();

        Map<Refusal, Integer> byReason = new EnumMap<>(Refusal.class);
        for (Refusal refusal : Refusal.values()) {
            byReason.put(refusal, 0);
        }
        List<String> undocumented = new ArrayList<>();
        for (String diagnostic : summary.refusals()) {
            Refusal reason = Refusal.of(diagnostic);
            if (reason == null) {
                undocumented.add(diagnostic);
            } else {
                byReason.merge(reason, 1, Integer::sum);
            }
        }
        JarCounts counts = new JarCounts(jar, jarPath.getFileName().toString(), !all, summary, byReason);
        RESULTS.put(jar.label(), counts);
        System.out.println("corpus " + counts.line());

        List<String> failures = summary.failures().stream()
                .filter(failure -> KNOWN_FAILURES.stream().noneMatch(known -> failure.startsWith(known + ":")))
                .toList();
        assertTrue(summary.read() > 0, () -> jar + ": no class read\n" + output);
        assertTrue(failures.isEmpty(), () -> jar + ": " + failures.size() + " failures:\n"
                + String.join("\n", failures));
        assertTrue(undocumented.isEmpty(), () -> jar + ": refused for a reason that is not documented:\n"
                + String.join("\n", undocumented));
        assertEquals(summary.read(), summary.rewritten() + summary.unchanged()
                + classesWith(summary, CANNOT_INSTRUMENT), jar + ": every class is rewritten, unchanged or failed");
        assertEquals(summary.rewritten(), summary.verified() + summary.notVerifiable()
                + classesWith(summary, DOES_NOT_VERIFY) + classesWith(summary, REJECTED_BY_JVM),
                jar + ": every rewritten class is verified, not loadable here, or failed");
        assertTrue(summary.verified() > 0, () -> jar + ": the JVM verified nothing\n" + output);
        assertEquals(summary.refused(), summary.refusals().size());
        assertEquals(summary.failed() == 0 && summary.refused() == 0 ? 0 : 1, exitCode);
    }

    private static final String CANNOT_INSTRUMENT = ": cannot be instrumented: ";
    private static final String DOES_NOT_VERIFY = ": does not verify: ";
    private static final String REJECTED_BY_JVM = ": rejected by the JVM's verifier: ";

    /** @return how many classes have a failure line of this kind */
    private static int classesWith(CheckCommand.Summary summary, String kind) {
        return (int) summary.failures().stream().filter(f -> f.contains(kind))
                .map(f -> f.substring(0, f.indexOf(kind))).distinct().count();
    }

    /**
     * Whether a class is in the CI sample: its top-level class's name hashes to 0 modulo {@value
     * #SAMPLE_MODULUS} (nested classes go with their top-level class). {@link String#hashCode()} is
     * specified, so the sample is the same on every JVM.
     */
    static boolean inSample(String internalName) {
        String topLevel = internalName.split("\\$", 2)[0];
        return Math.floorMod(topLevel.hashCode(), SAMPLE_MODULUS) == 0;
    }

    @AfterAll
    static void printTable() {
        if (RESULTS.isEmpty()) {
            return;
        }
        String header = String.format("%-20s %-45s %6s %6s %6s %6s %6s %6s %6s %6s %6s", "jar", "file", "read",
                "rewr", "unch", "syncM", "syncB", "large", "failed", "jvmOk", "notLd");
        String rows = Corpus.JARS.stream().map(jar -> RESULTS.get(jar.label())).filter(r -> r != null)
                .map(JarCounts::line).collect(Collectors.joining("\n"));
        System.out.println("corpus counts (refused: synchronized method / synchronized block / too large once"
                + " instrumented; jvmOk: linked by the JVM, its verifier passed; notLd: not loadable here)\n"
                + header + "\n" + rows);
    }
}
