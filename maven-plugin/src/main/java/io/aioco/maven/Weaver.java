package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Weaves one folder of class files in place, in two steps: {@link #scan()} checks and instruments
 * every class in memory and writes nothing; {@link Result#write()} then writes the classes that
 * changed. A build that fails on errors therefore leaves the folder as the compiler wrote it, so
 * the next build reports the same errors again instead of finding woven classes.
 *
 * <p>The instrumenter is the agent's: for the same class and the same classpath the bytes are the
 * same. Classes it already wove carry its marker and come back unchanged, so weaving is idempotent
 * and a file is only written when its content changes.
 *
 * <p>Confined to the mojo's thread.
 */
final class Weaver {
    /** The instrumenter's class marker as it appears in the constant pool of a class it wove. */
    private static final byte[] MARKER = "Lio/aioco/internal/Instrumented;".getBytes(StandardCharsets.US_ASCII);

    private final Path classesDirectory;
    private final Path displayRoot;
    private final ClassNamePatterns filter;
    private final Instrumenter instrumenter;

    /**
     * @param classesDirectory the folder to weave
     * @param lookup the class files of the build (the folder itself first, then its classpath)
     * @param filter which classes to weave and check
     * @param displayRoot paths in messages are shown relative to it (the project's folder)
     */
    Weaver(Path classesDirectory, ClassLookup lookup, ClassNamePatterns filter, Path displayRoot) {
        this.classesDirectory = classesDirectory;
        this.displayRoot = displayRoot;
        this.filter = filter;
        this.instrumenter = new Instrumenter(lookup);
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
            result.woven.add(binaryName(file));
            result.pending.put(file, instrumented.bytes());
        } else if (contains(original, MARKER)) {
            result.alreadyWoven++;
        }
    }

    private static void report(List<Diagnostic> diagnostics, Result result) {
        for (Diagnostic diagnostic : diagnostics) {
            (diagnostic.severity() == Diagnostic.Severity.ERROR ? result.errors : result.warnings)
                    .add(diagnostic.format());
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private String display(Path file) {
        Path shown = displayRoot != null && file.startsWith(displayRoot) ? displayRoot.relativize(file) : file;
        return shown.toString();
    }
}
