package io.aioco.agent.check;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.check.BytecodeVerifier;
import io.aioco.instrumenter.classfile.RuntimeNames;
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
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

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
 *       loader so that the JVM's verifier runs on it. Uses the aioco-runtime among the paths, else
 *       the one the agent jar carries ({@link #EMBEDDED_RUNTIME}). A method
 *       whose original code fails the analyzer too (a type it uses is missing from the path, so
 *       the analyzer cannot relate it to its supertypes) is not counted as a failure: the class
 *       goes on to the JVM's verifier, which decides, or counts it as not loadable here. A class
 *       the JVM cannot link because its supertypes (or a supertype's) form a cycle is named with
 *       the cycle's classes, and counted apart from those with missing dependencies.
 *   <li>{@code --classpath PATHS}: more jars and folders (separated by the platform's path
 *       separator) to read supertypes and dependencies from; they are not checked themselves.
 *   <li>{@code --help}: every option and an example ({@link #HELP}).
 * </ul>
 * The paths are read as a class loader reads them ({@link ClassPathLookup}): a multi-release jar's
 * classes as the running JDK loads them (run the check on the JDK the application runs on), the
 * jars a manifest names in {@code Class-Path} searched for supertypes (not checked themselves).
 * Exit code 0 when nothing failed or was refused, 1 otherwise, 2 for bad usage.
 *
 * <p>No QEMU counterpart (C coroutines need no rewriting; it is the build's {@code coroutine_fn}
 * check for jars the build did not weave). An instance serves one run on one thread.
 */
public final class CheckCommand {
    private static final String USAGE = "usage: java -jar aioco-agent.jar check [--all-methods] [--verify]"
            + " [--classpath PATHS] PATH...";

    /**
     * Where the agent jar carries the aioco-runtime it was built with (a jar inside the jar, not on
     * the class path): {@code --verify} links the rewritten classes against it when the checked
     * paths hold no aioco-runtime of their own.
     */
    static final String EMBEDDED_RUNTIME = "/META-INF/aioco/aioco-runtime.jar";

    /** The answer to {@code check --help}: every option and an example. */
    static final String HELP = USAGE + "\n\n"
            + "Runs the agent's instrumentation over every class of the given jars and folders (a folder is a\n"
            + "class path root, where packages start) and prints each diagnostic as the Maven plugin does,\n"
            + "then a summary line. Nothing is written.\n\n"
            + "Options:\n"
            + "  --all-methods       stress mode: every method with a body is a coroutine function and every\n"
            + "                      call between them a suspension point\n"
            + "  --verify            check every rewritten class with ASM's analyzer and link it in a\n"
            + "                      throwaway class loader (the JVM's verifier runs); uses the aioco-runtime\n"
            + "                      among the paths, else the one this agent was built with\n"
            + "  --classpath PATHS   more jars and folders, separated by '" + java.io.File.pathSeparator + "', to read\n"
            + "                      supertypes and dependencies from; they are not checked themselves\n"
            + "  -cp PATHS           the same as --classpath\n"
            + "  --help, -h          this text\n\n"
            + "Exit code: 0 nothing refused or failed, 1 something was, 2 bad usage or unreadable input.\n\n"
            + "Example:\n"
            + "  java -jar aioco-agent.jar check --verify --classpath lib/netty.jar app.jar\n";

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
    /** Of {@link #notVerifiable}: the classes whose supertypes (or a supertype's) form a cycle. */
    private int circular;
    private final List<String> refusals = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();

    /**
     * What one run found: the counts of the summary line and the lines behind them.
     *
     * @param read classes read
     * @param rewritten classes rewritten
     * @param unchanged classes left unchanged
     * @param refused methods refused
     * @param failed classes that could not be instrumented, or whose rewritten form does not verify
     * @param verified rewritten classes linked by the JVM (its verifier passed them)
     * @param notVerifiable rewritten classes the JVM could not load here (a dependency is missing,
     *     or the supertypes form a cycle: each such class is named with the cycle)
     * @param refusals one formatted diagnostic per refused method
     * @param failures one line per failure: the class and what went wrong
     */
    public record Summary(int read, int rewritten, int unchanged, int refused, int failed, int verified,
            int notVerifiable, List<String> refusals, List<String> failures) {}

    /** @return the counts and findings of the last {@link #run(String[])} */
    public Summary summary() {
        return new Summary(read, rewritten, unchanged, refused, failed, verified, notVerifiable,
                List.copyOf(refusals), List.copyOf(failures));
    }

    private final Predicate<String> selected;

    /**
     * A check of every class of the paths given to {@link #run(String[])}.
     *
     * @param out where the diagnostics and the summary go
     */
    public CheckCommand(PrintStream out) {
        this(out, name -> true);
    }

    /**
     * A check of part of the given classes, for tests that sample large jars: the classes that are
     * not selected are neither instrumented nor counted, but are linked unchanged beside the
     * selected ones, so that every class of a jar has one definition in the verifying class loader.
     *
     * @param out where the diagnostics and the summary go
     * @param selected which classes (internal names) to check
     */
    public CheckCommand(PrintStream out, Predicate<String> selected) {
        this.out = out;
        this.selected = selected;
    }

    /**
     * Runs the check (or prints {@link #HELP} for {@code --help}). Called once, on one thread.
     *
     * @param args the options and paths, as on the command line
     * @return the process exit code: 0 nothing refused or failed, 1 something was, 2 bad usage or
     *     unreadable input
     */
    public int run(String[] args) {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            out.print(HELP);
            return 0;
        }
        try {
            parse(args);
        } catch (IllegalArgumentException e) {
            out.println("aioco check: " + e.getMessage());
            out.println(USAGE);
            out.println("(java -jar aioco-agent.jar check --help describes every option)");
            return 2;
        }
        if (verify) {
            try {
                addRuntimeIfMissing();
            } catch (IOException | UncheckedIOException e) {
                out.println("aioco check: " + describe(e));
                return 2;
            }
            if (missingRuntime) {
                out.println("aioco check: --verify needs aioco-runtime, and neither the paths nor this agent jar hold"
                        + " it (the agent was not built by its Maven build?): add --classpath aioco-runtime.jar");
                return 2;
            }
        }
        List<Path> all = new ArrayList<>(checked);
        all.addAll(classpath);
        // NOTE: the classes to check, and where their supertypes are read, as a class loader over
        // those paths finds them: multi-release jars read for the running JDK, manifests followed
        try (ClassPathLookup checkedPaths = ClassPathLookup.open(checked, null);
                ClassPathLookup allPaths = ClassPathLookup.open(all, null)) {
            ClassLookup lookup = ClassLookup.chain(allPaths, ClassLookup.ofClassLoader(null));
            Instrumenter instrumenter = new Instrumenter(lookup, new Instrumenter.Options(allMethods, false));
            BytecodeVerifier verifier = verify ? new BytecodeVerifier(lookup) : null;
            Map<String, byte[]> finalBytes = new HashMap<>();
            List<String> rewrittenNames = new ArrayList<>();
            for (String name : checkedPaths.classNames()) {
                byte[] original = checkedPaths.classBytes(name);
                if (original == null) {
                    read++;
                    failed++;
                    // NOTE: counted as a class that cannot be instrumented, so read = rewritten + unchanged + failed
                    out.println(name.replace('/', '.') + ": cannot be instrumented: its class file cannot be read");
                    failures.add(name.replace('/', '.') + ": cannot be instrumented: its class file cannot be read");
                    continue;
                }
                if (!selected.test(name)) {
                    finalBytes.put(name, original);
                    continue;
                }
                byte[] result = check(name, original, instrumenter, verifier);
                finalBytes.put(name, result != null ? result : original);
                if (result != null) {
                    rewrittenNames.add(name);
                }
            }
            if (verify) {
                try (URLClassLoader dependencies = dependencyLoader(classpath)) {
                    verifyWithTheJvm(rewrittenNames, finalBytes, dependencies, lookup);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            out.println("aioco check: " + describe(e));
            return 2;
        }
        out.println("aioco check: " + read + " classes read, " + rewritten + " rewritten, " + unchanged
                + " unchanged, " + refused + " methods refused, " + failed + " failed"
                + (verify ? "; " + verified + " verified by the JVM, "
                        + (circular > 0 ? circular + " with circular supertypes, " : "")
                        + (notVerifiable - circular) + " not loadable here (missing dependencies)" : ""));
        return failed == 0 && refused == 0 ? 0 : 1;
    }

    private boolean missingRuntime;

    /**
     * Adds to the class path the aioco-runtime this agent jar carries ({@link #EMBEDDED_RUNTIME}),
     * copied to a temporary file, when the paths hold none: the agent knows its runtime. Sets
     * {@link #missingRuntime} when neither has one.
     */
    private void addRuntimeIfMissing() throws IOException {
        List<Path> all = new ArrayList<>(checked);
        all.addAll(classpath);
        try (ClassPathLookup paths = ClassPathLookup.open(all, null)) {
            if (paths.classBytes(RuntimeNames.STACK) != null) {
                return;
            }
        }
        try (java.io.InputStream embedded = CheckCommand.class.getResourceAsStream(EMBEDDED_RUNTIME)) {
            if (embedded == null) {
                missingRuntime = true;
                return;
            }
            Path copy = Files.createTempFile("aioco-runtime-", ".jar");
            copy.toFile().deleteOnExit();
            Files.copy(embedded, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            classpath.add(copy);
        }
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--all-methods" -> allMethods = true;
                case "--verify" -> verify = true;
                case "--classpath", "-cp" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(args[i] + " needs a value: jars and folders separated by '"
                                + java.io.File.pathSeparator + "'");
                    }
                    for (String entry : args[++i].split(java.io.File.pathSeparator)) {
                        if (!entry.isEmpty()) {
                            classpath.add(existing(entry));
                        }
                    }
                }
                default -> {
                    if (args[i].startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + args[i]
                                + "; the options are --all-methods, --verify, --classpath PATHS (-cp) and --help");
                    }
                    checked.add(existing(args[i]));
                }
            }
        }
        if (checked.isEmpty()) {
            throw new IllegalArgumentException("no jar or folder to check: name at least one after the options");
        }
    }

    private static Path existing(String path) {
        Path p = Path.of(path);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("no such file or folder: " + path + " (relative paths start in "
                    + Path.of("").toAbsolutePath() + ")");
        }
        if (Files.isRegularFile(p) && path.endsWith(".class")) {
            // NOTE: a lone class file has no class path root: its supertypes could not be found
            throw new IllegalArgumentException(path + " is a class file; expected a jar or a folder (the folder"
                    + " its package starts in)");
        }
        return p;
    }

    /**
     * @return what went wrong reading the paths, said once: {@link ClassPathLookup}'s messages say
     *     what they could not do; a bare I/O error (often only a path) is prefixed
     */
    private static String describe(Exception e) {
        Throwable cause = e instanceof UncheckedIOException unchecked ? unchecked.getCause() : e;
        String message = cause.getMessage() == null ? cause.toString() : cause.getMessage();
        return message.startsWith("cannot ") ? message : "cannot read " + message + " (" + cause.getClass().getSimpleName() + ")";
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
        if (result.outcome() == InstrumentationResult.Outcome.FAILED && result.className() == null) {
            // NOTE: the class file could not even be parsed: its diagnostic has no name, but the file has one
            failed++;
            String cause = result.diagnostics().stream().map(Diagnostic::message)
                    .map(message -> message.startsWith("cannot instrument: ") ? message.substring(19) : message)
                    .collect(Collectors.joining("; "));
            String line = name + ".class: not a readable class file (truncated or damaged: " + cause
                    + "); rebuild it, or leave it out of the checked paths";
            out.println(line);
            failures.add(line);
            return null;
        }
        for (Diagnostic diagnostic : result.diagnostics()) {
            out.println(diagnostic.format());
            if (diagnostic.severity() == Diagnostic.Severity.ERROR && diagnostic.methodName() != null) {
                refused++;
                refusals.add(diagnostic.format());
            }
        }
        switch (result.outcome()) {
            case UNCHANGED -> unchanged++;
            case FAILED -> {
                failed++;
                failures.add(name.replace('/', '.') + ": cannot be instrumented: " + result.diagnostics().stream()
                        .map(Diagnostic::message).collect(Collectors.joining("; ")));
            }
            case REWRITTEN -> {
                rewritten++;
                if (verifier != null && !analyze(name, bytes, result.bytes(), verifier)) {
                    return null;
                }
                return result.bytes();
            }
        }
        return null;
    }

    /**
     * ASM's analyzer with types from class bytes. A problem in a method whose original code has a
     * problem too is left to the JVM's verifier (a type is missing from the path).
     */
    private boolean analyze(String name, byte[] original, byte[] rewrittenBytes, BytecodeVerifier verifier) {
        List<String> problems = verifier.verify(rewrittenBytes);
        if (problems.isEmpty()) {
            return true;
        }
        Set<String> failingOriginals = new HashSet<>();
        for (String problem : verifier.verify(original)) {
            failingOriginals.add(methodOf(problem));
        }
        List<String> introduced = problems.stream()
                .filter(problem -> !failingOriginals.contains(Instrumenter.originalDescriptor(methodOf(problem))))
                .toList();
        for (String problem : introduced) {
            out.println(name.replace('/', '.') + ": does not verify: " + problem);
            failures.add(name.replace('/', '.') + ": does not verify: " + problem);
        }
        if (!introduced.isEmpty()) {
            failed++;
        }
        return introduced.isEmpty();
    }

    /** @return the {@code name(desc)R} a problem line of {@link BytecodeVerifier#verify} is about */
    private static String methodOf(String problem) {
        int colon = problem.indexOf(": ");
        return colon < 0 ? problem : problem.substring(0, colon);
    }

    /**
     * Links every rewritten class in one throwaway class loader that defines all the checked
     * classes as the agent would leave them (rewritten or not), so that their types relate as in
     * the application; the JVM's verifier runs when a class is linked.
     */
    private void verifyWithTheJvm(List<String> rewrittenNames, Map<String, byte[]> finalBytes,
            URLClassLoader dependencies, ClassLookup lookup) {
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
                failures.add(dotted + ": rejected by the JVM's verifier: " + e.getMessage());
                failed++;
            } catch (LinkageError | ClassNotFoundException | SecurityException e) {
                notVerifiable++; // a dependency is missing or clashes: the JVM cannot check it here
                List<String> cycle = supertypeCycle(name, finalBytes, lookup);
                if (!cycle.isEmpty()) {
                    // NOTE: the JVM throws ClassCircularityError at the cycle and NoClassDefFoundError
                    // or the same error for a class below it: the class files name the cycle
                    circular++;
                    out.println(dotted + ": cannot be linked: its supertypes form a cycle: "
                            + String.join(" -> ", cycle) + " (" + e.getClass().getSimpleName() + ")");
                }
            }
        }
    }

    /**
     * Follows the superclass and interfaces of {@code name} through the class files (the checked
     * ones as the agent would leave them, then the other paths) and returns the first cycle met,
     * as dotted names with its first class again at the end, or an empty list.
     */
    static List<String> supertypeCycle(String name, Map<String, byte[]> finalBytes, ClassLookup lookup) {
        List<String> path = new ArrayList<>();
        Set<String> done = new HashSet<>();
        return cycleBelow(name, path, done, finalBytes, lookup);
    }

    private static List<String> cycleBelow(String name, List<String> path, Set<String> done,
            Map<String, byte[]> finalBytes, ClassLookup lookup) {
        int at = path.indexOf(name);
        if (at >= 0) {
            List<String> cycle = new ArrayList<>();
            for (String member : path.subList(at, path.size())) {
                cycle.add(member.replace('/', '.'));
            }
            cycle.add(name.replace('/', '.'));
            return cycle;
        }
        if (!done.add(name) || path.size() > 4096) {
            return List.of();
        }
        byte[] bytes = finalBytes.get(name);
        if (bytes == null) {
            bytes = lookup.classBytes(name);
        }
        if (bytes == null) {
            return List.of();
        }
        List<String> supertypes = new ArrayList<>();
        try {
            org.objectweb.asm.ClassReader reader = new org.objectweb.asm.ClassReader(bytes);
            if (reader.getSuperName() != null) {
                supertypes.add(reader.getSuperName());
            }
            supertypes.addAll(List.of(reader.getInterfaces()));
        } catch (RuntimeException unreadable) {
            return List.of();
        }
        path.add(name);
        for (String supertype : supertypes) {
            List<String> cycle = cycleBelow(supertype, path, done, finalBytes, lookup);
            if (!cycle.isEmpty()) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        return List.of();
    }
}
