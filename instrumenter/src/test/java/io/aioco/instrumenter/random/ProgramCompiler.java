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
    private static Map<String, byte[]> supportClasses;
    private static String classPath;

    private ProgramCompiler() {}

    /** @return internal name to bytes of {@code gen.Prog} (and its synthetic classes) and {@code gen.Rt} */
    static synchronized Map<String, byte[]> compile(String progSource) {
        if (supportClasses == null) {
            supportClasses = TestCompiler.compile(Map.of(ProgramSupport.CLASS_NAME, ProgramSupport.SOURCE));
            classPath = runtimeLocation() + File.pathSeparator + writeToTemporaryDirectory(supportClasses);
        }
        Map<String, byte[]> classes = new HashMap<>(
                TestCompiler.compile(Map.of(JavaRenderer.CLASS_NAME, progSource), "-classpath", classPath));
        classes.putAll(supportClasses);
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
