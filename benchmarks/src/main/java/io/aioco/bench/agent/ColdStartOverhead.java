package io.aioco.bench.agent;

import java.io.File;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
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
 * io.aioco.bench.agent.ColdStartOverhead [--runs N] [--agent JAR] [--cache DIR|off]
 * [JAR_OR_FOLDER...]} (defaults: 5 runs, {@code agent/target/aioco-agent.jar}, a fresh temporary
 * folder for the agent's startup cache, deleted at the end, {@code corpus-test/target/corpus}).
 * Prints, for each run, the whole start as the parent sees it (from starting the child process to
 * its exit: JVM start, the agent's {@code premain}, loading, and the agent's work at exit such as
 * saving the startup cache), the loading time measured inside the child ({@code premain} and exit
 * excluded) and the main thread's CPU time in it; then the medians of the per-pair ratios of each: the first pair's agent child apart when the cache starts empty (a first start, which
 * fills the cache), the median of the others (later starts, which use it). {@code --cache off}
 * runs the agent without its cache.
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
        String cache = null;
        List<Path> paths = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--agent" -> agent = Path.of(args[++i]);
                case "--cache" -> cache = args[++i];
                default -> paths.add(Path.of(args[i]));
            }
        }
        Path temporaryCache = cache == null ? Files.createTempDirectory("aioco-cold-start-cache") : null;
        String agentOption = "cache=" + (cache != null ? cache : temporaryCache.toString());
        boolean emptyAtFirst = cache == null || (!cache.equals("off") && isEmptyFolder(Path.of(cache)));
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
        System.out.printf("agent option %s%s%n", agentOption, emptyAtFirst ? " (empty at the first run)" : "");
        double[] ratios = new double[runs];
        double[] cpuRatios = new double[runs];
        double[] wholeRatios = new double[runs];
        try {
            for (int run = 0; run < runs; run++) {
                boolean agentFirst = run % 2 == 1;
                double[] first = child(classPath, jars, agentFirst ? agent : null, agentOption);
                double[] second = child(classPath, jars, agentFirst ? null : agent, agentOption);
                double[] withAgent = agentFirst ? first : second;
                double[] plain = agentFirst ? second : first;
                ratios[run] = withAgent[0] / plain[0];
                cpuRatios[run] = withAgent[1] / plain[1];
                wholeRatios[run] = withAgent[2] / plain[2];
                System.out.printf("run %d: whole start: plain %7.1f ms, agent %7.1f ms, ratio %.3f; loading: plain %7.1f ms,"
                        + " agent %7.1f ms, ratio %.3f (main thread's CPU: %7.1f ms, %7.1f ms, ratio %.3f)%s%n", run,
                        plain[2], withAgent[2], wholeRatios[run], plain[0], withAgent[0], ratios[run], plain[1],
                        withAgent[1], cpuRatios[run], run == 0 && emptyAtFirst ? " (first start: empty cache)" : "");
            }
        } finally {
            if (temporaryCache != null) {
                deleteFolder(temporaryCache);
            }
        }
        if (emptyAtFirst && runs > 1) {
            System.out.printf("cold start, agent / plain: first start (empty cache): whole start %.3f, loading %.3f"
                    + " (main thread's CPU %.3f)%n", wholeRatios[0], ratios[0], cpuRatios[0]);
            summary("later starts (cache filled)", Arrays.copyOfRange(wholeRatios, 1, runs),
                    Arrays.copyOfRange(ratios, 1, runs), Arrays.copyOfRange(cpuRatios, 1, runs));
        } else {
            summary("every start", wholeRatios, ratios, cpuRatios);
        }
    }

    private static void summary(String what, double[] wholeRatios, double[] ratios, double[] cpuRatios) {
        System.out.printf("cold start, agent / plain, %s, over %d pairs: whole start median %s; loading median %s;"
                + " main thread's CPU in loading median %s%n", what, ratios.length, medianAndRange(wholeRatios),
                medianAndRange(ratios), medianAndRange(cpuRatios));
    }

    private static String medianAndRange(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return String.format("%.3f (min %.3f, max %.3f)", median, sorted[0], sorted[n - 1]);
    }

    private static boolean isEmptyFolder(Path folder) throws IOException {
        if (!Files.isDirectory(folder)) {
            return true;
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.findAny().isEmpty();
        }
    }

    private static void deleteFolder(Path folder) throws IOException {
        try (Stream<Path> files = Files.walk(folder)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(file);
            }
        }
    }

    /**
     * @return the child's loading time, its main thread's CPU time in that loop, and the whole
     *     process's time from start to exit as seen from here, in ms
     */
    private static double[] child(String classPath, List<String> jars, Path agent, String agentOption)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (agent != null) {
            command.add("-javaagent:" + agent + "=" + agentOption);
        }
        command.addAll(List.of("-cp", classPath, ColdStartOverhead.class.getName(), "--child"));
        command.addAll(jars);
        long start = System.nanoTime();
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(process.getInputStream().readAllBytes()).trim();
        int status = process.waitFor();
        double whole = (System.nanoTime() - start) / 1e6;
        if (status != 0) {
            throw new IllegalStateException("child failed: " + out);
        }
        String[] times = out.split(" ");
        return new double[] {Double.parseDouble(times[0]), Double.parseDouble(times[1]), whole};
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
        // NOTE: the main thread's CPU time is less disturbed by other processes than the elapsed time,
        // but leaves out the JIT compiling the agent's code on other threads: both are printed
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long cpuStart = threads.getCurrentThreadCpuTime();
        long start = System.nanoTime();
        for (String name : names) {
            try {
                Class.forName(name, false, loader);
            } catch (ClassNotFoundException | LinkageError e) {
                // an optional dependency is missing: the same classes fail with and without the agent
            }
        }
        long elapsed = System.nanoTime() - start;
        long cpu = threads.getCurrentThreadCpuTime() - cpuStart;
        System.out.println(elapsed / 1e6 + " " + cpu / 1e6);
    }
}
