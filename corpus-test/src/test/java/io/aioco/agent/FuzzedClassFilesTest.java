package io.aioco.agent;

import io.aioco.corpusfixture.CoroutineShapes;
import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.check.BytecodeVerifier;
import io.aioco.testing.TriesFromProperty;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;

/**
 * Damaged class files (see {@link ClassFileMutation}: truncation, flipped bytes, corrupted
 * constants, bogus attribute and code lengths, wrong stack map frames), made from real classes of
 * the {@link Corpus} (the last seed, {@link CoroutineShapes}, in a third of the inputs), fed to the instrumenter in its stress mode
 * and to the agent's transformer. For every input:
 * <ul>
 *   <li>{@link Instrumenter#instrument(byte[])} returns (it never throws: a class it cannot read
 *       comes back {@code FAILED}), and the transformer returns (null or bytes);
 *   <li>bytes they return are no worse than their input: every method that ASM's analyzer rejects
 *       in the output was rejected in the input too (or the JVM rejects the input), and when the
 *       JVM's verifier rejects the output it rejected (or could not load) the input too;
 *   <li>each input is handled within {@value #TIME_LIMIT_SECONDS} s (a hang detector, far above
 *       the few milliseconds an input takes).
 * </ul>
 * CI tries 5000 inputs; more with {@code -Daioco.fuzz.tries=N} ({@link TriesFromProperty}).
 */
class FuzzedClassFilesTest {
    static final int TIME_LIMIT_SECONDS = 30;
    private static final int SEEDS_PER_JAR = 5;
    /** How {@link BytecodeVerifier#verify} reports a class file it cannot read. */
    private static final String UNREADABLE = "unreadable class file";
    private static final ClassLoader LOADER = FuzzedClassFilesTest.class.getClassLoader();
    private static final ClassLookup LOOKUP = caching(ClassLookup.ofClassLoader(LOADER));
    /** Held so that the level sticks: the transformer logs one line per class it cannot read. */
    private static final Logger AGENT_LOG = Logger.getLogger("io.aioco.agent");
    private static final List<Seed> SEEDS = readSeeds();
    private static ExecutorService executor = newExecutor();

    static {
        AGENT_LOG.setLevel(Level.OFF);
    }

    /** A well-formed class file to damage. */
    record Seed(String name, byte[] bytes, ClassFileLayout layout) {
        @Override
        public String toString() {
            return name + " (" + bytes.length + " bytes)";
        }
    }

    /** A third of the inputs come from the coroutine fixture: the only seed the agent really rewrites. */
    @Provide
    Arbitrary<Seed> seeds() {
        Seed fixture = SEEDS.get(SEEDS.size() - 1);
        return Arbitraries.frequencyOf(Tuple.of(2, Arbitraries.of(SEEDS.subList(0, SEEDS.size() - 1))),
                Tuple.of(1, Arbitraries.just(fixture)));
    }

    @Property(tries = 5000, shrinking = ShrinkingMode.BOUNDED)
    @AddLifecycleHook(TriesFromProperty.Fuzz.class)
    void damagedClassFilesNeverCrashHangOrComeOutWorse(@ForAll("seeds") Seed seed,
            @ForAll ClassFileMutation mutation, @ForAll long noise) {
        byte[] mutant = mutation.mutate(seed.bytes(), seed.layout(), new Random(noise));
        String input = seed + ", " + mutation + ", noise " + noise;
        Outcome outcome = withinTimeLimit(input, () -> examine(seed.name(), mutant));
        Statistics.label("instrumenter (stress mode)").collect(outcome.instrumenter());
        Statistics.label("agent's transformer").collect(outcome.agent());
        Statistics.label("mutation").collect(mutation);
    }

    /** What the instrumenter and the transformer made of one input. */
    record Outcome(InstrumentationResult.Outcome instrumenter, String agent) {}

    /**
     * Runs both on one input and checks what they return; throws {@link AssertionError} on a
     * finding.
     */
    static Outcome examine(String seedName, byte[] mutant) {
        InstrumentationResult result = new Instrumenter(LOOKUP, new Instrumenter.Options(true, false)).instrument(mutant);
        switch (result.outcome()) {
            case FAILED -> check(result.bytes() == null && !result.diagnostics().isEmpty(),
                    "FAILED must come without bytes and with a diagnostic: " + result);
            case UNCHANGED -> check(result.bytes() == null, "UNCHANGED must come without bytes");
            case REWRITTEN -> checkNoWorse("instrumenter", mutant, result.bytes());
        }
        byte[] transformed = new CoroutineTransformer(AgentOptions.parse(""))
                .transform(LOADER, seedName, null, null, mutant);
        if (transformed != null) {
            checkNoWorse("agent's transformer", mutant, transformed);
        }
        return new Outcome(result.outcome(), transformed == null ? "unchanged" : "rewritten");
    }

    private static void check(boolean condition, String message) {
        if (!condition) {
            throw new AssertionError(message);
        }
    }

    /** The output must not fail a check that its input passes: ASM's analyzer, then the JVM's verifier. */
    static void checkNoWorse(String who, byte[] input, byte[] output) {
        List<String> outputProblems = new BytecodeVerifier(LOOKUP).verify(output);
        if (!outputProblems.isEmpty()) {
            List<String> inputProblems = new BytecodeVerifier(LOOKUP).verify(input);
            if (isUnreadable(inputProblems)) {
                // the instrumenter reads class files without their stack map frames: so does this
                byte[] withoutFrames = withoutFrames(input);
                if (withoutFrames != null) {
                    inputProblems = new BytecodeVerifier(LOOKUP).verify(withoutFrames);
                }
            }
            Set<String> failingInInput = new HashSet<>();
            for (String problem : inputProblems) {
                failingInInput.add(methodOf(problem));
            }
            // an input ASM cannot read even without frames counts as passing nothing
            boolean unreadable = isUnreadable(inputProblems);
            List<String> introduced = outputProblems.stream()
                    .filter(p -> unreadable || !failingInInput.contains(Instrumenter.originalDescriptor(methodOf(p))))
                    .toList();
            if (!introduced.isEmpty()) {
                // NOTE: the analyzer skips methods flagged abstract or native, and the rewrite may
                // move their code into a body it does analyze: an input the JVM rejects is no better
                String inputLinkage = link(input);
                check(inputLinkage.startsWith("rejected"), who + " wrote methods that ASM's analyzer rejects, and"
                        + " their input passes it (the JVM: " + inputLinkage + "): " + introduced);
            }
        }
        String outputLinkage = link(output);
        if (outputLinkage.startsWith("rejected")) {
            String inputLinkage = link(input);
            check(!inputLinkage.equals("linked"), who + " wrote a class the JVM " + outputLinkage
                    + ", and the JVM links its input");
        }
    }

    private static boolean isUnreadable(List<String> problems) {
        return problems.size() == 1 && problems.get(0).startsWith(UNREADABLE);
    }

    /** @return the class file without its stack map frames, or null if ASM cannot read it */
    private static byte[] withoutFrames(byte[] bytes) {
        try {
            ClassWriter writer = new ClassWriter(0);
            new ClassReader(bytes).accept(writer, ClassReader.SKIP_FRAMES);
            return writer.toByteArray();
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String methodOf(String problem) {
        int colon = problem.indexOf(": ");
        return colon < 0 ? problem : problem.substring(0, colon);
    }

    /**
     * Defines and links a class file in a throwaway class loader whose parent sees the corpus and
     * the runtime; the JVM's verifier runs as it links.
     *
     * @return "linked", "rejected: ERROR" (a VerifyError or ClassFormatError), or "not loadable: ERROR"
     */
    static String link(byte[] bytes) {
        String target;
        try {
            target = new ClassReader(bytes).getClassName().replace('/', '.');
        } catch (RuntimeException e) {
            return "not loadable: no readable class name: " + e;
        }
        ClassLoader throwaway = new ClassLoader("aioco-fuzz", LOADER) {
            @Override
            protected Class<?> loadClass(String className, boolean resolve) throws ClassNotFoundException {
                if (className.equals(target)) {
                    synchronized (getClassLoadingLock(className)) {
                        Class<?> loaded = findLoadedClass(className);
                        return loaded != null ? loaded : defineClass(className, bytes, 0, bytes.length);
                    }
                }
                return super.loadClass(className, resolve);
            }
        };
        try {
            Class<?> type = throwaway.loadClass(target);
            type.getDeclaredMethods(); // links the class: the verifier runs
            return "linked";
        } catch (VerifyError | ClassFormatError e) {
            return "rejected: " + e;
        } catch (LinkageError | ClassNotFoundException | SecurityException e) {
            return "not loadable: " + e;
        }
    }

    /** Runs one input on the executor; a hang or an exception becomes a failure that names the input. */
    private static Outcome withinTimeLimit(String input, Callable<Outcome> work) {
        Future<Outcome> future = executor.submit(work);
        try {
            return future.get(TIME_LIMIT_SECONDS, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            future.cancel(true);
            executor.shutdownNow();
            executor = newExecutor(); // the hung thread is a daemon: leave it behind
            throw new AssertionError("no answer within " + TIME_LIMIT_SECONDS + " s (a hang) on " + input);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof AssertionError finding) {
                throw new AssertionError(finding.getMessage() + "\non " + input, finding);
            }
            throw new AssertionError("uncaught " + cause + " on " + input, cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted on " + input, e);
        }
    }

    private static ExecutorService newExecutor() {
        return Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "fuzz-input");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * The seeds: {@value #SEEDS_PER_JAR} classes of 600 bytes to 10 KB evenly spaced in each corpus
     * jar's sorted list of classes, and the coroutine fixture.
     */
    private static List<Seed> readSeeds() {
        List<Seed> seeds = new ArrayList<>();
        for (Corpus.Jar jar : Corpus.JARS) {
            try (ZipFile zip = new ZipFile(jar.path().toFile())) {
                List<? extends ZipEntry> classes = zip.stream()
                        .filter(e -> e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/")
                                && !e.getName().endsWith("module-info.class"))
                        .filter(e -> e.getSize() >= 600 && e.getSize() <= 10_000)
                        .sorted((a, b) -> a.getName().compareTo(b.getName()))
                        .toList();
                for (int i = 0; i < SEEDS_PER_JAR && i < classes.size(); i++) {
                    ZipEntry entry = classes.get(i * classes.size() / SEEDS_PER_JAR);
                    try (InputStream in = zip.getInputStream(entry)) {
                        seeds.add(seed(in.readAllBytes()));
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        try (InputStream in = CoroutineShapes.class.getResourceAsStream("CoroutineShapes.class")) {
            seeds.add(seed(in.readAllBytes()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return List.copyOf(seeds);
    }

    private static Seed seed(byte[] bytes) {
        return new Seed(new ClassReader(bytes).getClassName(), bytes, new ClassFileLayout(bytes));
    }

    private static ClassLookup caching(ClassLookup lookup) {
        Map<String, Optional<byte[]>> cache = new ConcurrentHashMap<>();
        return name -> cache.computeIfAbsent(name, n -> Optional.ofNullable(lookup.classBytes(n))).orElse(null);
    }
}
