package io.aioco.instrumenter;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.StringWriter;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.FileObject;
import javax.tools.ForwardingJavaFileManager;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileManager;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/** Compiles Java sources in memory (fixtures are sources compiled in the test, never binaries). */
public final class TestCompiler {
    private static final JavaCompiler COMPILER = ToolProvider.getSystemJavaCompiler();
    private static StandardJavaFileManager standardManager;

    private TestCompiler() {}

    /**
     * @param sources class name (dotted) to source text
     * @param options extra javac options (e.g. "--release", "8")
     * @return internal class name to class file bytes
     */
    public static synchronized Map<String, byte[]> compile(Map<String, String> sources, String... options) {
        if (standardManager == null) {
            standardManager = COMPILER.getStandardFileManager(null, null, null);
        }
        Map<String, ByteArrayOutputStream> outputs = new HashMap<>();
        JavaFileManager manager = new ForwardingJavaFileManager<>(standardManager) {
            @Override
            public JavaFileObject getJavaFileForOutput(Location location, String className, JavaFileObject.Kind kind,
                    FileObject sibling) {
                return new SimpleJavaFileObject(URI.create("mem:///" + className.replace('.', '/') + ".class"), kind) {
                    @Override
                    public OutputStream openOutputStream() {
                        ByteArrayOutputStream out = new ByteArrayOutputStream();
                        outputs.put(className.replace('.', '/'), out);
                        return out;
                    }
                };
            }
        };
        List<JavaFileObject> units = new ArrayList<>();
        sources.forEach((name, text) -> units.add(new SimpleJavaFileObject(
                URI.create("string:///" + name.replace('.', '/') + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return text;
            }
        }));
        List<String> allOptions = new ArrayList<>(List.of("-classpath", System.getProperty("java.class.path"), "-g",
                "-proc:none", "-Xlint:-options"));
        allOptions.addAll(List.of(options));
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        StringWriter log = new StringWriter();
        boolean ok = COMPILER.getTask(log, manager, diagnostics, allOptions, null, units).call();
        if (!ok) {
            StringBuilder message = new StringBuilder("compilation failed:\n");
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                message.append(d.getSource() == null ? "" : d.getSource().getName()).append(':')
                        .append(d.getLineNumber()).append(": ").append(d.getMessage(null)).append('\n');
            }
            if (!log.toString().isEmpty()) {
                message.append(log); // what javac printed itself: a crash of the compiler, for one
            }
            if (log.toString().contains("An exception has occurred in the compiler")) {
                throw new CompilerCrash(message + "\n" + sources);
            }
            throw new IllegalArgumentException(message + "\n" + sources);
        }
        Map<String, byte[]> classes = new HashMap<>();
        outputs.forEach((name, out) -> classes.put(name, out.toByteArray()));
        return classes;
    }

    /** javac itself failed (an exception inside the compiler), not the source: a javac bug. */
    public static final class CompilerCrash extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;

        CompilerCrash(String message) {
            super(message);
        }
    }
}
