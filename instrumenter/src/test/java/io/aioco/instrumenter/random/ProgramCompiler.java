package io.aioco.instrumenter.random;

import io.aioco.CoroutineFn;
import io.aioco.instrumenter.TestCompiler;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Compiles generated programs. The support class {@code gen.Rt} is the same for every program, so
 * it is compiled once, written to a temporary directory that goes on javac's class path, and its
 * bytes are added to every program's classes. The class path holds only that directory and the
 * aioco runtime, so javac parses one small class and searches two places.
 */
final class ProgramCompiler {
    /** The default {@code --release}: the running compiler's own (17 in CI). */
    static final int DEFAULT_RELEASE = 0;

    /** Per release: the support classes compiled for it, and the class path holding them. */
    private record Support(Map<String, byte[]> classes, String classPath) {}

    private static final Map<Integer, Support> SUPPORT = new HashMap<>();

    private ProgramCompiler() {}

    /** @return internal name to bytes of {@code gen.Prog} (and its synthetic classes) and {@code gen.Rt} */
    static Map<String, byte[]> compile(String progSource) {
        return compile(progSource, DEFAULT_RELEASE);
    }

    /**
     * @param release the {@code --release} to compile for, {@link #DEFAULT_RELEASE} for none
     * @return internal name to bytes of {@code gen.Prog} (and its synthetic classes) and {@code gen.Rt}
     */
    static synchronized Map<String, byte[]> compile(String progSource, int release) {
        String[] releaseOption = release == DEFAULT_RELEASE ? new String[0]
                : new String[] {"--release", String.valueOf(release)};
        Support support = SUPPORT.computeIfAbsent(release, r -> {
            Map<String, byte[]> classes = TestCompiler.compile(
                    Map.of(ProgramSupport.CLASS_NAME, ProgramSupport.SOURCE), releaseOption);
            return new Support(classes, runtimeLocation() + File.pathSeparator + writeToTemporaryDirectory(classes));
        });
        String[] options = new String[releaseOption.length + 2];
        System.arraycopy(releaseOption, 0, options, 0, releaseOption.length);
        options[releaseOption.length] = "-classpath";
        options[releaseOption.length + 1] = support.classPath();
        Map<String, byte[]> classes = new HashMap<>(
                TestCompiler.compile(Map.of(JavaRenderer.CLASS_NAME, progSource), options));
        classes.putAll(support.classes());
        return classes;
    }

    /** Where the aioco runtime's classes are: the only library the generated code uses. */
    private static String runtimeLocation() {
        try {
            return Path.of(CoroutineFn.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String writeToTemporaryDirectory(Map<String, byte[]> classes) {
        try {
            Path directory = Files.createTempDirectory("aioco-random-rt");
            // deleteOnExit deletes in reverse order of registration: directories first here
            directory.toFile().deleteOnExit();
            directory.resolve("gen").toFile().deleteOnExit();
            for (Map.Entry<String, byte[]> entry : classes.entrySet()) {
                Path file = directory.resolve(entry.getKey() + ".class");
                Files.createDirectories(file.getParent());
                Files.write(file, entry.getValue());
                file.toFile().deleteOnExit();
            }
            return directory.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
