package io.aioco.maven;

import io.aioco.instrumenter.BytecodeVerifier;
import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.WovenMarker;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * and a file is only written when its content changes. A class woven by an aioco of another
 * protocol version ({@link WovenMarker}) is an error naming the class and both versions: the build
 * fails until it is recompiled.
 *
 * <p>Confined to the mojo's thread.
 */
final class Weaver {
    private final Path classesDirectory;
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
        this(classesDirectory, lookup, filter, displayRoot, UnaryOperator.identity());
    }

    /** As above, with the instrumenter's output changed by {@code afterInstrumenting} (tests: a broken rewrite). */
    Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot,
            UnaryOperator<byte[]> afterInstrumenting) {
        this.classesDirectory = classesDirectory;
        this.displayRoot = displayRoot;
        this.filter = filter;
        this.instrumenter = new Instrumenter(lookup);
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
        private final Map<Path, byte[]> pending = new LinkedHashMap<>();

        /**
         * Writes the rewritten classes over their files (each through a temporary file in the same
         * folder, so that a file is never left half written).
         *
         * @throws IOException if a file cannot be written
         */
        void write() throws IOException {
            for (Map.Entry<Path, byte[]> entry : pending.entrySet()) {
                Path target = entry.getKey();
                Path temporary = target.resolveSibling(target.getFileName() + ".aioco-tmp");
                Files.write(temporary, entry.getValue());
                Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
            pending.clear();
        }
    }

    /**
     * Reads, checks and instruments every class file of the folder, in path order.
     *
     * @return the findings and the new bytes; nothing is written yet
     * @throws IOException if the folder or a file in it cannot be read
     */
    Result scan() throws IOException {
        Result result = new Result();
        for (Path file : classFiles()) {
            String className = binaryName(file);
            if (!filter.accepts(className)) {
                result.excluded.add(className);
                continue;
            }
            result.scanned++;
            weave(file, Files.readAllBytes(file), result);
        }
        return result;
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

    private String binaryName(Path file) {
        String relative = classesDirectory.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
        return relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
    }

    private void weave(Path file, byte[] original, Result result) {
        List<Diagnostic> ruleFindings;
        try {
            ruleFindings = instrumenter.checkCoroutineFnRule(original);
        } catch (InstrumentationException e) {
            result.errors.add(display(file) + ": not a valid class file (" + e.getMessage() + ")");
            return;
        }
        InstrumentationResult instrumented = instrumenter.instrument(original);
        if (instrumented.outcome() == InstrumentationResult.Outcome.FAILED) {
            for (Diagnostic diagnostic : instrumented.diagnostics()) {
                result.errors.add(display(file) + ": cannot be instrumented: " + diagnostic.message());
            }
            return;
        }
        report(instrumented.diagnostics(), result);
        report(ruleFindings, result);
        if (instrumented.outcome() == InstrumentationResult.Outcome.REWRITTEN) {
            byte[] woven = afterInstrumenting.apply(instrumented.bytes());
            List<String> problems = introducedProblems(original, woven);
            if (!problems.isEmpty()) {
                for (String problem : problems) {
                    result.errors.add(display(file) + ": " + binaryName(file) + "." + problem + " (the woven class does"
                            + " not verify; it is not written: please report this as a bug of aioco)");
                }
                return; // NOTE: never written, even with failOnError=false: the JVM would refuse the whole class
            }
            result.woven.add(binaryName(file));
            result.pending.put(file, woven);
        } else if (WovenMarker.versionOf(original) == WovenMarker.CURRENT_VERSION) {
            result.alreadyWoven++;
        }
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
