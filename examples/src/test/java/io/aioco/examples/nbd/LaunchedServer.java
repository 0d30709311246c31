package io.aioco.examples.nbd;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server as users start it: {@code bin/aioco-nbd} in a child process, its output collected,
 * its port read from the line that says where it listens.
 */
final class LaunchedServer implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on ([^ ,]+):(\\d+)");

    private final Process process;
    private final List<String> output = new ArrayList<>();
    private final CompletableFuture<Integer> port = new CompletableFuture<>();

    private LaunchedServer(Process process) {
        this.process = process;
        Thread reader = new Thread(this::collect, "aioco-nbd-output");
        reader.setDaemon(true);
        reader.start();
    }

    /** The repository root: where {@code bin/aioco-nbd} is. */
    static Path root() {
        String root = System.getProperty("aioco.root");
        if (root == null) {
            throw new IllegalStateException("system property aioco.root is not set (run through Maven)");
        }
        return Path.of(root).toAbsolutePath().normalize();
    }

    /** Starts {@code bin/aioco-nbd --port 0 ARGS} and waits until it listens. */
    static LaunchedServer start(String... args) throws Exception {
        Path launcher = root().resolve("bin/aioco-nbd");
        if (!Files.isExecutable(launcher)) {
            throw new IllegalStateException(launcher + " is missing or not executable");
        }
        List<String> command = new ArrayList<>(List.of(launcher.toString(), "--port", "0"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        // the agent's startup cache goes under XDG_CACHE_HOME: in target, never in the user's cache folder
        builder.environment().put("XDG_CACHE_HOME", root().resolve("examples/target/xdg-cache").toString());
        Process process = builder.start();
        LaunchedServer server = new LaunchedServer(process);
        try {
            server.port.get(60, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            server.close();
            throw new AssertionError("bin/aioco-nbd did not say where it listens within 60 s:\n" + server.output(), e);
        }
        return server;
    }

    private void collect() {
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                synchronized (output) {
                    output.add(line);
                    output.notifyAll();
                }
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    port.complete(Integer.parseInt(m.group(2)));
                }
            }
        } catch (IOException e) {
            // the process ended
        }
        port.completeExceptionally(new IllegalStateException("bin/aioco-nbd ended:\n" + output()));
    }

    /** The child process ({@code bin/aioco-nbd} execs the JVM, so this is the server's JVM). */
    Process process() {
        return process;
    }

    /** The port it listens on. */
    int port() {
        return port.join();
    }

    /** The NBD URI of an export of this server. */
    String uri(String exportName) {
        return "nbd://127.0.0.1:" + port() + "/" + exportName;
    }

    /** Everything it printed so far. */
    String output() {
        synchronized (output) {
            return String.join("\n", output);
        }
    }

    /** Waits until {@code count} lines matching {@code wanted} were printed (the log is asynchronous). */
    List<String> awaitLines(java.util.function.Predicate<String> wanted, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        synchronized (output) {
            while (true) {
                List<String> found = output.stream().filter(wanted).toList();
                long left = deadline - System.nanoTime();
                if (found.size() >= count || left <= 0) {
                    return found;
                }
                TimeUnit.NANOSECONDS.timedWait(output, left);
            }
        }
    }

    /** Stops it as Ctrl-C would (SIGTERM), which also removes a temporary image. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** Whether a program is on the PATH. */
    static boolean onPath(String program) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** What a finished tool run printed, and its exit code. */
    record Run(int exitCode, String output) {
        @Override
        public String toString() {
            return "exit " + exitCode + ":\n" + output;
        }
    }

    /** Runs a tool to its end (at most 120 s), output and errors together. */
    static Run run(String... command) throws Exception {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        CompletableFuture<String> text = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(output lost: " + e + ")";
            }
        });
        if (!process.waitFor(120, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish within 120 s");
        }
        return new Run(process.exitValue(), text.get(30, TimeUnit.SECONDS));
    }
}
