package io.aioco.maven;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Compiles fixture sources to a folder of class files, as a project's build would. */
final class Compiler {
    private Compiler() {}

    /**
     * @param sources dotted class name to source text (written under {@code root/src})
     * @param output the folder for the class files
     * @param extraClasspath more classpath elements (folders, jars), searched before the test's
     */
    static void compile(Path root, Map<String, String> sources, Path output, Path... extraClasspath)
            throws IOException {
        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        List<String> arguments = new ArrayList<>();
        StringBuilder classpath = new StringBuilder();
        for (Path element : extraClasspath) {
            classpath.append(element).append(File.pathSeparatorChar);
        }
        classpath.append(System.getProperty("java.class.path"));
        arguments.addAll(List.of("-d", output.toString(), "-classpath", classpath.toString(), "-g", "-proc:none",
                "--release", "17"));
        for (Map.Entry<String, String> source : sources.entrySet()) {
            Path file = root.resolve("src").resolve(source.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
            arguments.add(file.toString());
        }
        Files.createDirectories(output);
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        int status = compiler.run(null, log, log, arguments.toArray(new String[0]));
        if (status != 0) {
            throw new IllegalArgumentException("compilation failed:\n" + log);
        }
    }
}
