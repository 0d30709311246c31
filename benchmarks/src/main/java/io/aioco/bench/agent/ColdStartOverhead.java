package io.aioco.bench.agent;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Enumeration;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The agent's cost at an application's start: fresh JVMs, each loading every class of the corpus
 * jars from its class path ({@code Class.forName(name, false, ...)}), alternately with
 * {@code -javaagent} and without. Unlike {@link ClassLoadingOverhead}, nothing is warm: the agent's
 * own code starts interpreted, as it does for a real application.
 *
 * <p>Usage: {@code java -cp benchmarks/target/aioco-benchmarks-jmh.jar
 * io.aioco.bench.agent.ColdStartOverhead [--runs N] [--agent JAR] [JAR_OR_FOLDER...]} (defaults: 5
 * runs, {@code agent/target/aioco-agent.jar}, {@code corpus-test/target/corpus}). Prints each run's
 * loading time (measured inside the child, JVM start excluded) and the median of the per-pair ratios.
 */
public final class ColdStartOverhead {
    private ColdStartOverhead() {}

    /**
     * Runs the benchmark, or, with {@code --child}, loads the classes of the given jars and prints
     * the milliseconds it took.
     *
     * @param args see the class comment
     * @throws Exception if a child JVM cannot be run
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--child")) {
            child(Arrays.asList(args).subList(1, args.length));
            return;
        }
        int runs = 5;
        Path agent = Path.of("agent/target/aioco-agent.jar");
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Path.of(args[++i]);
                default -> paths.add(Path.of(args[i]));
            }
        }
        if (paths.isEmpty()) {
            paths.add(Path.of("corpus-test/target/corpus"));
        }
        List<String> jars = new ArrayList<>();
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.list(path)) {
                    files.filter(f -> f.toString().endsWith(".jar")).sorted().forEach(f -> jars.add(f.toString()));
                }
            } else {
                jars.add(path.toString());
            }
        }
        String self = Path.of(ColdStartOverhead.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String classPath = self + File.pathSeparator + String.join(File.pathSeparator, jars);
        double[] ratios = new double[runs];
        for (int run = 0; run < runs; run++) {
            boolean agentFirst = run % 2 == 1;
            double first = child(classPath, jars, agentFirst ? agent : null);
            double second = child(classPath, jars, agentFirst ? null : agent);
            double withAgent = agentFirst ? first : second;
            double plain = agentFirst ? second : first;
            ratios[run] = withAgent / plain;
            System.out.printf("run %d: plain %7.1f ms, agent %7.1f ms, ratio %.3f%n", run, plain, withAgent, ratios[run]);
        }
        Arrays.sort(ratios);
        double median = runs % 2 == 1 ? ratios[runs / 2] : (ratios[runs / 2 - 1] + ratios[runs / 2]) / 2;
        System.out.printf("cold start, agent / plain: median %.3f (min %.3f, max %.3f) over %d pairs%n", median,
                ratios[0], ratios[runs - 1], runs);
    }

    private static double child(String classPath, List<String> jars, Path agent) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (agent != null) {
            command.add("-javaagent:" + agent);
        }
        command.addAll(List.of("-cp", classPath, ColdStartOverhead.class.getName(), "--child"));
        command.addAll(jars);
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        if (process.waitFor() != 0) {
            throw new IllegalStateException("child failed: " + out);
        }
        return Double.parseDouble(out);
    }

    private static void child(List<String> jars) throws IOException {
        List<String> names = new ArrayList<>();
        for (String jar : jars) {
            try (ZipFile zip = new ZipFile(jar)) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    String name = entries.nextElement().getName();
                    if (name.endsWith(".class") && !name.startsWith("META-INF/") && !name.endsWith("module-info.class")) {
                        names.add(name.substring(0, name.length() - 6).replace('/', '.'));
                    }
                }
            }
        }
        ClassLoader loader = ColdStartOverhead.class.getClassLoader();
        long start = System.nanoTime();
        for (String name : names) {
            try {
                Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // an optional dependency is missing: the same classes fail with and without the agent
            }
        }
        System.out.println((System.nanoTime() - start) / 1e6);
    }
}
