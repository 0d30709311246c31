package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.WovenMarker;
import io.aioco.instrumenter.check.BytecodeVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Weaves one folder of class files in place, in two steps: {@link #scan()} checks and instruments
 * every class in memory and writes nothing; {@link Result#write()} then writes the classes that
 * changed. A build that fails on errors therefore leaves the folder as the compiler wrote it, so
 * the next build reports the same errors again instead of finding woven classes.
 *
 * <p>Every class is checked by {@link BytecodeVerifier} before it is kept for writing: a class the
 * weaving broke is an error naming the class, the method and the verifier's message, and is never
 * written (the JVM would refuse the whole class when it is loaded).
 *
 * <p>The instrumenter is the agent's: for the same class and the same classpath the bytes are the
 * same. Classes it already wove carry its marker and come back unchanged, so weaving is idempotent
 * and a file is only written when its content changes. A woven class is woven again, from the
 * original the {@link WeaveState} kept, when a class its weaving rested on changed its
 * {@link VerdictFingerprints fingerprint} since (a callee recompiled alone); a folder class is read
 * once per build, and only the originals of classes woven again are read. A class woven by an aioco of another
 * protocol version ({@link WovenMarker}) is an error naming the class and both versions: the build
 * fails until it is recompiled.
 *
 * <p>Confined to the mojo's thread.
 */
final class Weaver {
    /** Where the state of a folder is kept, beside it: {@code target/classes} has {@code target/aioco-state/classes}. */
    static final String STATE_FOLDER = "aioco-state";

    private final Path classesDirectory;
    private final Path stateDirectory;
    private final ClassLookup lookup;
    private final Path displayRoot;
    private final ClassNamePatterns filter;
    private final Instrumenter instrumenter;
    private final BytecodeVerifier verifier;
    /** What happens to the instrumenter's bytes before they are verified: nothing, but in tests. */
    private final UnaryOperator<byte[]> afterInstrumenting;

    /**
     * @param classesDirectory the folder to weave
     * @param lookup the class files of the build (the folder itself first, then its classpath)
     * @param filter which classes to weave and check
     * @param displayRoot paths in messages are shown relative to it (the project's folder)
     */
    Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot) {
        this(classesDirectory, lookup, filter, displayRoot, false, UnaryOperator.identity());
    }

    /**
     * As above; with {@code verbose}, an internal failure of the instrumenter is reported with the
     * method's code as text and the stack trace (the plugin's {@code aioco.verbose}).
     */
    Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot, boolean verbose) {
        this(classesDirectory, lookup, filter, displayRoot, verbose, UnaryOperator.identity());
    }

    /** As above, with the instrumenter's output changed by {@code afterInstrumenting} (tests: a broken rewrite). */
    Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot,
            UnaryOperator<byte[]> afterInstrumenting) {
        this(classesDirectory, lookup, filter, displayRoot, false, afterInstrumenting);
    }

    private Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot,
            boolean verbose, UnaryOperator<byte[]> afterInstrumenting) {
        this.classesDirectory = classesDirectory;
        this.stateDirectory = classesDirectory.resolveSibling(STATE_FOLDER).resolve(classesDirectory.getFileName());
        this.lookup = lookup;
        this.displayRoot = displayRoot;
        this.filter = filter;
        // static calls to coroutine functions of the classes of this folder that it weaves go straight to their bodies
        this.instrumenter = new Instrumenter(lookup, new Instrumenter.Options(false, verbose,
                name -> filter.accepts(name.replace('/', '.')) && Files.isRegularFile(classesDirectory.resolve(name + ".class"))));
        this.verifier = new BytecodeVerifier(lookup);
        this.afterInstrumenting = afterInstrumenting;
    }

    /** What {@link #scan()} found, and the new bytes it has yet to write. */
    static final class Result {
        /** Errors, each on one line: the coroutine_fn rule, refused methods, unreadable files. */
        final List<String> errors = new ArrayList<>();
        /** Warnings, each on one line. */
        final List<String> warnings = new ArrayList<>();
        /** Binary names of the classes rewritten, in path order. */
        final List<String> woven = new ArrayList<>();
        /** Binary names of the classes left alone because of includes/excludes. */
        final List<String> excluded = new ArrayList<>();
        /** How many class files were read. */
        int scanned;
        /** How many of them were woven by an earlier build (they carry the instrumenter's marker). */
        int alreadyWoven;
        /**
         * Binary names of the classes an earlier build wove that are woven again (from their
         * originals) because a class they depend on changed its coroutine functions; also in {@link #woven}.
         */
        final List<String> rewoven = new ArrayList<>();
        /**
         * How many classes carry the marker without the plugin's record of them (woven by a build
         * before the record existed, or by another tool): kept as they are, they cannot be woven again
         * when a class they call changes.
         */
        int unrecorded;
        private final Map<Path, byte[]> pending = new LinkedHashMap<>();
        /** The originals of the classes woven now, by path in the folder, to keep in the state. */
        private final Map<String, byte[]> originals = new LinkedHashMap<>();
        private final WeaveState state;

        private Result(WeaveState state) {
            this.state = state;
        }

        /**
         * Writes the rewritten classes over their files (each through a temporary file in the same
         * folder, so that a file is never left half written): first the originals of the classes
         * woven now into the state's folder, then the classes, then the state (only if it changed).
         * Files whose content does not change are not touched.
         *
         * @throws IOException if a file cannot be written
         */
        void write() throws IOException {
            for (Map.Entry<String, byte[]> original : originals.entrySet()) {
                state.saveOriginal(original.getKey(), original.getValue());
            }
            originals.clear();
            for (Map.Entry<Path, byte[]> entry : pending.entrySet()) {
                Path target = entry.getKey();
                Path temporary = target.resolveSibling(target.getFileName() + ".aioco-tmp");
                Files.write(temporary, entry.getValue());
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            pending.clear();
            if (state != null) {
                state.save();
            }
        }
    }

    /**
     * Reads, checks and instruments every class file of the folder, in path order; then weaves again,
     * from the original kept in the {@link WeaveState}, every class woven by an earlier build whose
     * dependencies' {@link VerdictFingerprints fingerprints} changed since.
     *
     * @return the findings and the new bytes; nothing is written yet
     * @throws IOException if the folder, a file in it or the saved state cannot be read
     */
    Result scan() throws IOException {
        WeaveState state = WeaveState.load(stateDirectory);
        Result result = new Result(state);
        VerdictFingerprints fingerprints = new VerdictFingerprints(lookup);
        Map<Path, byte[]> recorded = new LinkedHashMap<>(); // woven by an earlier build, with a record
        Map<Path, Woven> toRecord = new LinkedHashMap<>(); // woven now
        Set<String> seen = new HashSet<>();
        for (Path file : classFiles()) {
            String className = binaryName(file);
            if (!filter.accepts(className)) {
                result.excluded.add(className);
                continue;
            }
            result.scanned++;
            String path = relativePath(file);
            seen.add(path);
            byte[] bytes = Files.readAllBytes(file);
            fingerprints.define(className.replace('.', '/'), bytes);
            if (WovenMarker.versionOf(bytes) == WovenMarker.CURRENT_VERSION) {
                WeaveState.Entry entry = state.get(path);
                if (entry != null && entry.wovenDigest().equals(VerdictFingerprints.digest(bytes))) {
                    recorded.put(file, bytes); // NOTE: decided below, once every class of the folder is known
                    continue;
                }
                state.remove(path); // NOTE: woven, but not by what we wrote: nothing to weave it again from
                result.unrecorded++;
            } else {
                state.remove(path); // NOTE: compiled again: what was kept of the earlier one is stale
            }
            if (weave(file, bytes, result) == InstrumentationResult.Outcome.REWRITTEN) {
                toRecord.put(file, new Woven(bytes, result.pending.get(file)));
            }
        }
        for (Map.Entry<Path, byte[]> woven : recorded.entrySet()) {
            reweaveIfStale(woven.getKey(), woven.getValue(), fingerprints, state, result, toRecord);
        }
        for (Map.Entry<Path, Woven> woven : toRecord.entrySet()) {
            record(woven.getKey(), woven.getValue(), fingerprints, result);
        }
        for (String path : state.paths()) {
            if (!seen.contains(path)) {
                state.remove(path); // NOTE: deleted (or now excluded): its original goes too
            }
        }
        return result;
    }

    /**
     * Decides on a class an earlier build wove and recorded: kept as it is while every class it
     * depends on keeps its fingerprint, else woven again from its original, never from its woven
     * bytes (the plugin never weaves a class twice over).
     */
    private void reweaveIfStale(Path file, byte[] wovenBytes, VerdictFingerprints fingerprints, WeaveState state,
            Result result, Map<Path, Woven> toRecord) throws IOException {
        String path = relativePath(file);
        String changed = changedDependency(state.get(path), fingerprints);
        if (changed == null) {
            weave(file, wovenBytes, result); // NOTE: the common case: checked, and found already woven
            return;
        }
        byte[] original = state.readOriginal(path);
        if (original == null || WovenMarker.versionOf(original) != WovenMarker.NOT_WOVEN) {
            state.remove(path);
            result.errors.add(display(file) + ": " + binaryName(file) + " was woven against an earlier "
                    + changed.replace('/', '.') + ", whose coroutine functions changed since, and its compiled"
                    + " bytes are missing from " + display(state.original(path)) + ": rebuild it (mvn clean)");
            return;
        }
        result.rewoven.add(binaryName(file));
        InstrumentationResult.Outcome outcome = weave(file, original, result);
        if (outcome == InstrumentationResult.Outcome.REWRITTEN) {
            byte[] rewoven = result.pending.get(file);
            toRecord.put(file, new Woven(original, rewoven));
            if (Arrays.equals(rewoven, wovenBytes)) { // NOTE: the change did not concern it: the file keeps its time
                result.pending.remove(file);
                result.woven.remove(binaryName(file));
                result.rewoven.remove(binaryName(file));
                result.alreadyWoven++;
            }
        } else if (outcome == InstrumentationResult.Outcome.UNCHANGED) {
            result.pending.put(file, original); // NOTE: nothing to weave any more: back to the compiler's bytes
            state.remove(path);
        } // FAILED: reported; the record stays, so that the next build tries again
    }

    /** @return the first class whose fingerprint is not the one recorded, or null if none changed */
    private static String changedDependency(WeaveState.Entry entry, VerdictFingerprints fingerprints) {
        for (Map.Entry<String, String> dependency : entry.dependencies().entrySet()) {
            if (!fingerprints.of(dependency.getKey()).equals(dependency.getValue())) {
                return dependency.getKey();
            }
        }
        return null;
    }

    /** A class woven in this build: the compiler's bytes and the instrumenter's. */
    private record Woven(byte[] original, byte[] woven) {}

    /** Remembers a class woven now: its original, the digest of its new bytes, what it depended on. */
    private void record(Path file, Woven woven, VerdictFingerprints fingerprints, Result result) {
        Map<String, String> dependencies = new TreeMap<>();
        for (String type : fingerprints.withSupertypes(ReferencedTypes.of(woven.original()))) {
            dependencies.put(type, fingerprints.of(type));
        }
        String path = relativePath(file);
        result.state.put(path, new WeaveState.Entry(VerdictFingerprints.digest(woven.woven()), dependencies));
        result.originals.put(path, woven.original());
    }

    private List<Path> classFiles() throws IOException {
        try (Stream<Path> files = Files.walk(classesDirectory)) {
            return files.filter(Weaver::isClassFile).sorted().toList();
        }
    }

    private static boolean isClassFile(Path file) {
        String name = file.getFileName().toString();
        return name.endsWith(".class") && !name.equals("module-info.class") && !name.equals("package-info.class")
                && Files.isRegularFile(file);
    }

    /** @return the path of the class file relative to the folder, with '/' separators (the state's key) */
    private String relativePath(Path file) {
        return classesDirectory.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
    }

    private String binaryName(Path file) {
        String relative = classesDirectory.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
        return relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
    }

    /**
     * Checks and instruments one class; the new bytes, if any, are left in {@code result.pending}.
     *
     * @return REWRITTEN when new bytes are pending, UNCHANGED when there is nothing to write, FAILED
     *     when errors were reported instead
     */
    private InstrumentationResult.Outcome weave(Path file, byte[] original, Result result) {
        InstrumentationResult instrumented = findings(file, original, result);
        if (instrumented == null) {
            return InstrumentationResult.Outcome.FAILED;
        }
        if (instrumented.outcome() == InstrumentationResult.Outcome.REWRITTEN) {
            byte[] woven = afterInstrumenting.apply(instrumented.bytes());
            List<String> problems = introducedProblems(original, woven);
            if (!problems.isEmpty()) {
                for (String problem : problems) {
                    result.errors.add(display(file) + ": " + binaryName(file) + "." + problem + " (the woven class does"
                            + " not verify; it is not written: please report this as a bug of aioco)");
                }
                return InstrumentationResult.Outcome.FAILED; // NOTE: never written, even with failOnError=false
            }
            result.woven.add(binaryName(file));
            result.pending.put(file, woven);
            return InstrumentationResult.Outcome.REWRITTEN;
        }
        if (WovenMarker.versionOf(original) == WovenMarker.CURRENT_VERSION) {
            result.alreadyWoven++;
        }
        return InstrumentationResult.Outcome.UNCHANGED;
    }

    /**
     * Checks one class: QEMU's {@code coroutine_fn} rule, then the instrumenter's refusals (what the
     * agent would replace by a throw); every finding goes to {@code result}'s errors or warnings.
     *
     * @return what the instrumenter made of the class, or null when it could not read or instrument
     *     it (reported as errors)
     */
    private InstrumentationResult findings(Path file, byte[] original, Result result) {
        List<Diagnostic> ruleFindings;
        try {
            ruleFindings = instrumenter.checkCoroutineFnRule(original);
        } catch (InstrumentationException e) {
            result.errors.add(display(file) + ": not a valid class file (" + e.getMessage() + "); rebuild it (mvn clean),"
                    + " or exclude the class (<excludes>)");
            return null;
        }
        InstrumentationResult instrumented = instrumenter.instrument(original);
        if (instrumented.outcome() == InstrumentationResult.Outcome.FAILED) {
            for (Diagnostic diagnostic : instrumented.diagnostics()) {
                result.errors.add(display(file) + ": cannot be instrumented: " + diagnostic.message());
            }
            return null;
        }
        report(instrumented.diagnostics(), result);
        report(ruleFindings, result);
        return instrumented;
    }

    /**
     * Checks every class file of the folder, in path order, as {@link #scan()} does, but weaves
     * nothing: the {@code check} goal, for projects that weave at load time with the agent. The
     * woven bytes are dropped; the folder and the {@link WeaveState} are neither read nor written
     * beyond the class files.
     *
     * @return the findings ({@link Result#errors}, {@link Result#warnings}, {@link Result#scanned},
     *     {@link Result#excluded}); {@link Result#write()} writes nothing
     * @throws IOException if the folder or a file in it cannot be read
     */
    Result check() throws IOException {
        Result result = new Result(null);
        for (Path file : classFiles()) {
            String className = binaryName(file);
            if (!filter.accepts(className)) {
                result.excluded.add(className);
                continue;
            }
            result.scanned++;
            findings(file, Files.readAllBytes(file), result);
        }
        return result;
    }

    /**
     * Checks a woven class with ASM's analyzer, types read from the build's class files, as the
     * JVM's verifier would. A problem of a method whose original has one too (a type missing from
     * the classpath, code that never verified) was not made by weaving, and is left to the JVM.
     *
     * @return one line per method the weaving broke ({@code name(desc): the verifier's message})
     */
    private List<String> introducedProblems(byte[] original, byte[] woven) {
        List<String> problems = verifier.verify(woven);
        if (problems.isEmpty()) {
            return problems; // NOTE: the common case: the original is not analysed at all
        }
        Set<String> failingOriginals = new HashSet<>();
        for (String problem : verifier.verify(original)) {
            failingOriginals.add(methodOf(problem));
        }
        List<String> introduced = new ArrayList<>();
        for (String problem : problems) {
            if (!failingOriginals.contains(Instrumenter.originalDescriptor(methodOf(problem)))) {
                introduced.add(problem);
            }
        }
        return introduced;
    }

    /** @return the {@code name(desc)} a line of {@link BytecodeVerifier#verify} starts with */
    private static String methodOf(String problem) {
        int colon = problem.indexOf(": ");
        return colon < 0 ? problem : problem.substring(0, colon);
    }

    private static void report(List<Diagnostic> diagnostics, Result result) {
        for (Diagnostic diagnostic : diagnostics) {
            (diagnostic.severity() == Diagnostic.Severity.ERROR ? result.errors : result.warnings)
                    .add(diagnostic.format());
        }
    }

    private String display(Path file) {
        Path shown = displayRoot != null && file.startsWith(displayRoot) ? displayRoot.relativize(file) : file;
        return shown.toString();
    }
}
