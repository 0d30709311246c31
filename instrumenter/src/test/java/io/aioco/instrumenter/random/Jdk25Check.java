package io.aioco.instrumenter.random;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The JDK 25 half of the differential runs: a child JVM on JDK 25 (started once, kept for the
 * whole test run so that its javac and JIT stay warm) compiles each program it is sent with JDK
 * 25's javac for {@code --release 21} and 17 (and 8 when the program fits), and checks it there
 * exactly as {@link ProgramRunner} does on the test's own JDK.
 *
 * <p>Where JDK 25 is: {@code -Daioco.jdk25=DIR}, by default {@value #DEFAULT_JDK25}. A missing JDK
 * 25 fails the test that needs it, never skips it.
 *
 * <p>Protocol (one request at a time; only the test thread calls {@link #check}): the parent writes
 * one line {@code sourceFile schedule releases}, the child answers one line, {@code OK} or
 * {@code FAIL base64(message)}; the child ends when its input ends.
 */
final class Jdk25Check {
    static final String DEFAULT_JDK25 = "/usr/lib/jvm/temurin-25-jdk-amd64";
    /** How long one program may take in the child before the test fails (and the child is ended). */
    private static final long TIMEOUT_SECONDS = 180;

    private static Process child;
    private static Writer toChild;
    private static BufferedReader fromChild;
    private static final ExecutorService READER = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "jdk25-check-reader");
        thread.setDaemon(true);
        return thread;
    });

    private Jdk25Check() {}

    /**
     * Checks a program on JDK 25. Called from the test thread only.
     *
     * @param source the program rendered for its oldest release (the child compiles this text for
     *     every release it fits)
     * @param minRelease the oldest release the program compiles for
     * @return null if every release ran alike plainly and instrumented on JDK 25, else the failure
     */
    static synchronized String check(String source, boolean[] schedule, int minRelease) {
        try {
            ensureChild();
            Path file = Files.createTempFile("aioco-random-prog", ".java");
            try {
                Files.writeString(file, source);
                StringBuilder scheduleText = new StringBuilder("s");
                for (boolean yieldHere : schedule) {
                    scheduleText.append(yieldHere ? 'T' : 'F');
                }
                String releases = minRelease <= 8 ? "8,17,21" : "17,21";
                toChild.write(file + " " + scheduleText + " " + releases + "\n");
                toChild.flush();
                Future<String> answer = READER.submit(fromChild::readLine);
                String line;
                try {
                    line = answer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    stopChild();
                    return "the JDK 25 check took over " + TIMEOUT_SECONDS + " s; program:\n" + source;
                }
                if (line == null) {
                    stopChild();
                    return "the JDK 25 child JVM ended without an answer; program:\n" + source;
                }
                if (line.equals("OK")) {
                    return null;
                }
                return "on JDK 25: " + new String(Base64.getDecoder().decode(line.substring("FAIL ".length())),
                        StandardCharsets.UTF_8);
            } finally {
                Files.deleteIfExists(file);
            }
        } catch (IOException | java.util.concurrent.ExecutionException e) {
            stopChild();
            return "the JDK 25 check failed: " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static void ensureChild() throws IOException {
        if (child != null && child.isAlive()) {
            return;
        }
        Path java = Path.of(System.getProperty("aioco.jdk25", DEFAULT_JDK25), "bin", "java");
        if (!Files.isExecutable(java)) {
            throw new IOException("JDK 25 is needed for the differential runs on JDK 25 and javac --release 21, and "
                    + java + " is not there (set -Daioco.jdk25=DIR)");
        }
        List<String> command = new ArrayList<>(List.of(java.toString(), "-ea", "-Xss4m",
                "-cp", System.getProperty("java.class.path"), Jdk25Check.class.getName()));
        child = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        toChild = new java.io.OutputStreamWriter(child.getOutputStream(), StandardCharsets.UTF_8);
        fromChild = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        Process started = child;
        Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
    }

    private static void stopChild() {
        if (child != null) {
            child.destroyForcibly();
            child = null;
        }
    }

    /** The child: answers requests until its input ends. Runs on JDK 25. */
    public static void main(String[] args) throws IOException {
        PrintStream answers = System.out;
        System.setOut(System.err); // nothing but answers on the channel to the parent
        BufferedReader requests = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String request;
        while ((request = requests.readLine()) != null) {
            String[] parts = request.split(" ");
            String failure;
            try {
                failure = checkHere(Files.readString(Path.of(parts[0])), parts[1], parts[2]);
            } catch (Throwable e) {
                java.io.StringWriter text = new java.io.StringWriter();
                e.printStackTrace(new java.io.PrintWriter(text));
                failure = "the check threw " + text;
            }
            answers.println(failure == null ? "OK"
                    : "FAIL " + Base64.getEncoder().encodeToString(failure.getBytes(StandardCharsets.UTF_8)));
            answers.flush();
        }
    }

    private static String checkHere(String source, String scheduleText, String releases) {
        boolean[] schedule = new boolean[scheduleText.length() - 1];
        for (int i = 1; i < scheduleText.length(); i++) {
            schedule[i - 1] = scheduleText.charAt(i) == 'T';
        }
        for (String release : releases.split(",")) {
            ProgramRunner.Verdict verdict = ProgramRunner.verdict(source, schedule, Integer.parseInt(release));
            if (verdict.javacMiscompiled()) {
                continue; // a javac bug, as on the parent's side; counted there
            }
            if (verdict.tooLarge()) {
                return "a function was refused as too large once instrumented (release " + release + ")";
            }
            if (verdict.failure() != null) {
                return verdict.failure();
            }
        }
        return null;
    }
}
