package io.aioco.bench.agent;

import io.aioco.agent.AiocoAgent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.IllegalClassFormatException;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Proxy;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * The agent's cost on an application that has no coroutine functions: every class of a set of
 * jars (the corpus of {@code corpus-test}, which has none) is loaded in a fresh class loader, once
 * with the agent's transformer called on each class before {@code defineClass} (as the JVM calls it
 * under {@code -javaagent}) and once without, rounds alternating, in one JVM. Two ways to load:
 * <ul>
 *   <li>{@code jar}: a {@link URLClassLoader} reading each class file from its jar, as an
 *       application's class path does (the transformer's supertype look-ups read the jars too);
 *   <li>{@code memory}: the class files read beforehand, so that a round is only
 *       {@code defineClass} (and the transformer): the strictest ratio.
 *   <li>{@code jar-new}: as {@code jar}, with a new transformer (a new {@code premain}) for every
 *       round: what loading jars the agent has not seen before in the process costs. With one
 *       transformer, a loader over jars an earlier loader had shares what the agent learnt of
 *       them (their supertypes are not read again).
 * </ul>
 * The transformer is the agent's own, obtained by calling {@link AiocoAgent#premain} with a
 * stand-in {@link Instrumentation} that keeps what is registered.
 *
 * <p>Usage (the agent jar on the class path):
 * {@code java -cp benchmarks/target/aioco-benchmarks-jmh.jar:agent/target/aioco-agent.jar
 * io.aioco.bench.agent.ClassLoadingOverhead [--rounds N] [--warmup N] [--whole-rounds] JAR_OR_FOLDER...}
 * (default: {@code corpus-test/target/corpus}). In a round, the two loaders take turns class by
 * class (on this noisy machine, a whole round of one variant and then one of the other measured
 * different moments of the machine's load: ±15% from round to round); {@code --whole-rounds}
 * loads all classes in one loader, then all in the other. Prints the time of every round and, per
 * way of loading, the median of the per-round ratios (agent / plain) with the minimum and maximum.
 */
public final class ClassLoadingOverhead {
    private ClassLoadingOverhead() {}

    /**
     * Runs the benchmark.
     *
     * @param args {@code [--rounds N] [--warmup N] JAR_OR_FOLDER...}
     * @throws IOException if a jar cannot be read
     */
    public static void main(String[] args) throws IOException {
        int rounds = 10;
        int warmup = 3;
        boolean byClass = true;
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--whole-rounds" -> byClass = false;
                default -> paths.add(Path.of(args[i]));
            }
        }
        if (paths.isEmpty()) {
            paths.add(Path.of("corpus-test/target/corpus"));
        }
        List<Path> jars = jars(paths);
        List<String> names = classNames(jars);
        Map<String, byte[]> classFiles = readAll(jars);
        ClassFileTransformer transformer = agentTransformer();
        System.out.printf("%d jars, %d classes; JDK %s; %d warm-up and %d measured rounds per variant; %s%n",
                jars.size(), names.size(), Runtime.version(), warmup, rounds,
                byClass ? "variants take turns class by class" : "variants take turns round by round");

        for (String way : List.of("jar", "memory", "jar-new")) {
            double[] ratios = new double[rounds];
            for (int round = -warmup; round < rounds; round++) {
                // alternate which variant goes first, so that drift and warm-up favour neither
                boolean agentFirst = Math.floorMod(round, 2) == 1;
                ClassFileTransformer used = way.equals("jar-new") ? agentTransformer() : transformer;
                long withAgent;
                long plain;
                if (byClass) {
                    long[] times = timeInterleaved(way, jars, names, classFiles, used, agentFirst);
                    plain = times[0];
                    withAgent = times[1];
                } else {
                    long first = timeRound(way, jars, names, classFiles, agentFirst ? used : null);
                    long second = timeRound(way, jars, names, classFiles, agentFirst ? null : used);
                    withAgent = agentFirst ? first : second;
                    plain = agentFirst ? second : first;
                }
                System.out.printf("%-7s %s round %2d: plain %7.1f ms, agent %7.1f ms, ratio %.3f%n", way,
                        round < 0 ? "warm-up" : "       ", round, plain / 1e6, withAgent / 1e6,
                        (double) withAgent / plain);
                if (round >= 0) {
                    ratios[round] = (double) withAgent / plain;
                }
            }
            Arrays.sort(ratios);
            System.out.printf("%-7s agent / plain: median %.3f (min %.3f, max %.3f) over %d pairs%n", way,
                    median(ratios), ratios[0], ratios[ratios.length - 1], ratios.length);
        }
    }

    private static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Loads every class in two fresh loaders, one plain and one with the transformer, taking turns
     * class by class (which goes first alternates), so that the machine's load at any moment
     * weighs on both alike; a class's time includes the supertypes it makes the loader load.
     *
     * @return the nanoseconds spent loading in the plain loader, then in the other
     */
    private static long[] timeInterleaved(String way, List<Path> jars, List<String> names,
            Map<String, byte[]> classFiles, ClassFileTransformer transformer, boolean agentFirst) {
        System.gc(); // unload the previous round's classes outside the measurement
        ClassLoader[] loaders = {newLoader(way, jars, classFiles, null), newLoader(way, jars, classFiles, transformer)};
        long[] elapsed = new long[2];
        int loaded = 0;
        int next = agentFirst ? 1 : 0;
        for (String name : names) {
            for (int turn = 0; turn < 2; turn++, next ^= 1) {
                long start = System.nanoTime();
                try {
                    Class.forName(name, false, loaders[next]);
                    loaded++;
                } catch (ClassNotFoundException | LinkageError e) {
                    // an optional dependency is missing: the same classes fail in both variants
                }
                elapsed[next] += System.nanoTime() - start;
            }
            next ^= 1;
        }
        if (loaded == 0) {
            throw new IllegalStateException("no class loaded");
        }
        return elapsed;
    }

    private static ClassLoader newLoader(String way, List<Path> jars, Map<String, byte[]> classFiles,
            ClassFileTransformer transformer) {
        return way.startsWith("jar") ? new JarLoader(urls(jars), transformer) : new MemoryLoader(classFiles, transformer);
    }

    /** Loads every class in a fresh loader; returns the elapsed nanoseconds. */
    private static long timeRound(String way, List<Path> jars, List<String> names, Map<String, byte[]> classFiles,
            ClassFileTransformer transformer) {
        System.gc(); // unload the previous round's classes outside the measurement
        long start = System.nanoTime();
        int loaded = 0;
        ClassLoader loader = newLoader(way, jars, classFiles, transformer);
        for (String name : names) {
            try {
                Class.forName(name, false, loader);
                loaded++;
            } catch (ClassNotFoundException | LinkageError e) {
                // an optional dependency is missing: the same classes fail in both variants
            }
        }
        long elapsed = System.nanoTime() - start;
        if (loaded == 0) {
            throw new IllegalStateException("no class loaded");
        }
        return elapsed;
    }

    /** Reads class files from jars, as an application's class path does. */
    private static final class JarLoader extends URLClassLoader {
        private final ClassFileTransformer transformer;

        JarLoader(URL[] urls, ClassFileTransformer transformer) {
            super("corpus", urls, ClassLoader.getPlatformClassLoader());
            this.transformer = transformer;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            URL resource = findResource(name.replace('.', '/') + ".class");
            if (resource == null) {
                throw new ClassNotFoundException(name);
            }
            byte[] bytes;
            try (InputStream in = resource.openStream()) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
            bytes = transform(transformer, this, name, bytes);
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    /** Defines class files read beforehand. */
    private static final class MemoryLoader extends ClassLoader {
        private final Map<String, byte[]> classFiles;
        private final ClassFileTransformer transformer;

        MemoryLoader(Map<String, byte[]> classFiles, ClassFileTransformer transformer) {
            super("corpus", ClassLoader.getPlatformClassLoader());
            this.classFiles = classFiles;
            this.transformer = transformer;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            byte[] bytes = classFiles.get(name.replace('.', '/'));
            if (bytes == null) {
                throw new ClassNotFoundException(name);
            }
            bytes = transform(transformer, this, name, bytes);
            return defineClass(name, bytes, 0, bytes.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            // the transformer reads supertypes as resources
            byte[] bytes = name.endsWith(".class") ? classFiles.get(name.substring(0, name.length() - 6)) : null;
            return bytes != null ? new java.io.ByteArrayInputStream(bytes) : super.getResourceAsStream(name);
        }
    }

    private static byte[] transform(ClassFileTransformer transformer, ClassLoader loader, String name, byte[] bytes) {
        if (transformer == null) {
            return bytes;
        }
        try {
            byte[] transformed = transformer.transform(loader, name.replace('.', '/'), null, null, bytes);
            return transformed != null ? transformed : bytes;
        } catch (IllegalClassFormatException e) {
            return bytes;
        }
    }

    /** The transformer the agent registers, caught by a stand-in for the JVM's Instrumentation. */
    private static ClassFileTransformer agentTransformer() {
        List<ClassFileTransformer> registered = new ArrayList<>();
        Instrumentation instrumentation = (Instrumentation) Proxy.newProxyInstance(
                ClassLoadingOverhead.class.getClassLoader(), new Class<?>[] {Instrumentation.class},
                (proxy, method, arguments) -> {
                    if (method.getName().equals("addTransformer")) {
                        registered.add((ClassFileTransformer) arguments[0]);
                        return null;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        AiocoAgent.premain("cache=off", instrumentation); // NOTE: the startup cache covers the application loader only
        if (registered.size() != 1) {
            throw new IllegalStateException("the agent registered " + registered.size() + " transformers");
        }
        return registered.get(0);
    }

    private static List<Path> jars(List<Path> paths) throws IOException {
        List<Path> jars = new ArrayList<>();
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.list(path)) {
                    files.filter(f -> f.toString().endsWith(".jar")).sorted().forEach(jars::add);
                }
            } else {
                jars.add(path);
            }
        }
        return jars;
    }

    private static List<String> classNames(List<Path> jars) throws IOException {
        Set<String> names = new LinkedHashSet<>();
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                zip.stream().map(e -> e.getName())
                        .filter(n -> n.endsWith(".class") && !n.startsWith("META-INF/") && !n.endsWith("module-info.class")
                                && !n.endsWith("package-info.class"))
                        .forEach(n -> names.add(n.substring(0, n.length() - 6).replace('/', '.')));
            }
        }
        return new ArrayList<>(names);
    }

    private static Map<String, byte[]> readAll(List<Path> jars) throws IOException {
        Map<String, byte[]> classFiles = new HashMap<>();
        for (Path jar : jars) {
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                zip.stream().filter(e -> e.getName().endsWith(".class") && !e.getName().startsWith("META-INF/"))
                        .forEach(e -> {
                            try (InputStream in = zip.getInputStream(e)) {
                                classFiles.putIfAbsent(e.getName().substring(0, e.getName().length() - 6),
                                        in.readAllBytes());
                            } catch (IOException x) {
                                throw new UncheckedIOException(x);
                            }
                        });
            }
        }
        return classFiles;
    }

    private static URL[] urls(List<Path> jars) {
        return jars.stream().map(jar -> {
            try {
                return jar.toUri().toURL();
            } catch (MalformedURLException e) {
                throw new IllegalArgumentException(e);
            }
        }).toArray(URL[]::new);
    }
}
