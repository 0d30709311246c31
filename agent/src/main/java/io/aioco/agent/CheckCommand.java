package io.aioco.agent;

import io.aioco.instrumenter.BytecodeVerifier;
import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java -jar aioco-agent.jar check [--all-methods] [--verify] [--classpath PATHS] PATH...}:
 * runs the real instrumentation on every class of the given jars and folders and prints each
 * diagnostic as the Maven plugin does, then a summary line.
 *
 * <ul>
 *   <li>{@code --all-methods}: stress mode, every method with a body (except constructors, static
 *       initializers and bridges) is a coroutine function and every call between them a suspension
 *       point.
 *   <li>{@code --verify}: every rewritten class is checked with ASM's analyzer (types from class
 *       bytes) and, where its dependencies are on the path, loaded and linked in a throwaway class
 *       loader so that the JVM's verifier runs on it. Needs aioco-runtime on the path.
 *   <li>{@code --classpath PATHS}: more jars and folders (separated by the platform's path
 *       separator) to read supertypes and dependencies from; they are not checked themselves.
 * </ul>
 * Exit code 0 when nothing failed or was refused, 1 otherwise, 2 for bad usage.
 */
final class CheckCommand {
    private static final String USAGE = "usage: java -jar aioco-agent.jar check [--all-methods] [--verify]"
            + " [--classpath PATHS] PATH...";

    private final PrintStream out;
    private boolean allMethods;
    private boolean verify;
    private final List<Path> checked = new ArrayList<>();
    private final List<Path> classpath = new ArrayList<>();

    private int read;
    private int rewritten;
    private int unchanged;
    private int refused;
    private int failed;
    private int verified;
    private int notVerifiable;

    CheckCommand(PrintStream out) {
        this.out = out;
    }

    /** @return the process exit code */
    int run(String[] args) {
        try {
            parse(args);
        } catch (IllegalArgumentException e) {
            out.println("aioco check: " + e.getMessage());
            out.println(USAGE);
            return 2;
        }
        List<Path> all = new ArrayList<>(checked);
        all.addAll(classpath);
        try (ClassPathIndex checkedIndex = new ClassPathIndex(checked); ClassPathIndex allIndex = new ClassPathIndex(all)) {
            ClassLookup lookup = ClassLookup.chain(allIndex, ClassLookup.ofClassLoader(null));
            if (verify && lookup.classBytes("io/aioco/internal/CoStack") == null) {
                out.println("aioco check: --verify needs aioco-runtime among the paths (--classpath aioco-runtime.jar)");
                return 2;
            }
            Instrumenter instrumenter = new Instrumenter(lookup, new Instrumenter.Options(allMethods));
            BytecodeVerifier verifier = verify ? new BytecodeVerifier(lookup) : null;
            Map<String, byte[]> finalBytes = new HashMap<>();
            List<String> rewrittenNames = new ArrayList<>();
            for (String name : checkedIndex.names()) {
                byte[] original = checkedIndex.classBytes(name);
                byte[] result = check(name, original, instrumenter, verifier);
                finalBytes.put(name, result != null ? result : original);
                if (result != null) {
                    rewrittenNames.add(name);
                }
            }
            if (verify) {
                try (URLClassLoader dependencies = dependencyLoader(classpath)) {
                    verifyWithTheJvm(rewrittenNames, finalBytes, dependencies);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            out.println("aioco check: cannot read " + e.getMessage());
            return 2;
        }
        out.println("aioco check: " + read + " classes read, " + rewritten + " rewritten, " + unchanged
                + " unchanged, " + refused + " methods refused, " + failed + " failed"
                + (verify ? "; " + verified + " verified by the JVM, " + notVerifiable
                        + " not loadable here (missing dependencies)" : ""));
        return failed == 0 && refused == 0 ? 0 : 1;
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--all-methods" -> allMethods = true;
                case "--verify" -> verify = true;
                case "--classpath", "-cp" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(args[i] + " needs a value");
                    }
                    for (String entry : args[++i].split(java.io.File.pathSeparator)) {
                        if (!entry.isEmpty()) {
                            classpath.add(existing(entry));
                        }
                    }
                }
                default -> {
                    if (args[i].startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + args[i]);
                    }
                    checked.add(existing(args[i]));
                }
            }
        }
        if (checked.isEmpty()) {
            throw new IllegalArgumentException("no jar or folder to check");
        }
    }

    private static Path existing(String path) {
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("no such file or folder: " + path);
        }
        return p;
    }

    private static URLClassLoader dependencyLoader(List<Path> paths) {
        URL[] urls = paths.stream().map(p -> {
            try {
                return p.toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException(e);
            }
        }).toArray(URL[]::new);
        return new URLClassLoader("aioco-check", urls, ClassLoader.getPlatformClassLoader());
    }

    /** @return the rewritten bytes when the class was rewritten (and passed the analyzer), else null */
    private byte[] check(String name, byte[] bytes, Instrumenter instrumenter, BytecodeVerifier verifier) {
        read++;
        InstrumentationResult result = instrumenter.instrument(bytes);
        for (Diagnostic diagnostic : result.diagnostics()) {
            out.println(diagnostic.format());
            if (diagnostic.severity() == Diagnostic.Severity.ERROR && diagnostic.methodName() != null) {
                refused++;
            }
        }
        switch (result.outcome()) {
            case UNCHANGED -> unchanged++;
            case FAILED -> failed++;
            case REWRITTEN -> {
                rewritten++;
                if (verifier != null && !analyze(name, result.bytes(), verifier)) {
                    return null;
                }
                return result.bytes();
            }
        }
        return null;
    }

    /** ASM's analyzer with types from class bytes. */
    private boolean analyze(String name, byte[] bytes, BytecodeVerifier verifier) {
        List<String> problems = verifier.verify(bytes);
        for (String problem : problems) {
            out.println(name.replace('/', '.') + ": does not verify: " + problem);
        }
        if (!problems.isEmpty()) {
            failed++;
        }
        return problems.isEmpty();
    }

    /**
     * Links every rewritten class in one throwaway class loader that defines all the checked
     * classes as the agent would leave them (rewritten or not), so that their types relate as in
     * the application; the JVM's verifier runs when a class is linked.
     */
    private void verifyWithTheJvm(List<String> rewrittenNames, Map<String, byte[]> finalBytes,
            URLClassLoader dependencies) {
        ClassLoader world = new ClassLoader("aioco-verify", dependencies) {
            @Override
            protected Class<?> loadClass(String className, boolean resolve) throws ClassNotFoundException {
                byte[] bytes = finalBytes.get(className.replace('.', '/'));
                if (bytes == null) {
                    return super.loadClass(className, resolve);
                }
                synchronized (getClassLoadingLock(className)) {
                    Class<?> loaded = findLoadedClass(className);
                    return loaded != null ? loaded : defineClass(className, bytes, 0, bytes.length);
                }
            }
        };
        for (String name : rewrittenNames) {
            String dotted = name.replace('/', '.');
            try {
                Class<?> type = world.loadClass(dotted);
                type.getDeclaredMethods(); // links the class: the JVM's verifier runs here
                verified++;
            } catch (VerifyError | ClassFormatError e) {
                out.println(dotted + ": rejected by the JVM's verifier: " + e.getMessage());
                failed++;
            } catch (LinkageError | ClassNotFoundException | SecurityException e) {
                notVerifiable++; // a dependency is missing or clashes: the JVM cannot check it here
            }
        }
    }
}
