package io.aioco.examples.echo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 review, finding 5 (examples/review/rv21_emfile_flood.py as a test): the echo server, in
 * a child JVM whose fd limit is 100 ({@code ulimit -n} through /bin/sh), is flooded by 90
 * connections before it has served anyone; once it reports that accept failed with "Too many open
 * files" the flood goes away, and a fresh client must be echoed. Before the fix, the JDK classes
 * initialised lazily on the first read or close (sun.nio.ch.FileDispatcherImpl, whose initialiser
 * makes a socket pair) and by the first log line (the formatting reads tzdb.dat) failed their
 * initialisers under EMFILE and stayed unusable: NoClassDefFoundError for every later connection,
 * and the main loop died of the log line. No sleep: the test waits for the server's own lines (its
 * port, then the accept failure), and the accept pause (1 s, REALTIME) is the server's.
 *
 * <p>Mutation caught: no {@code prepareForEmfile()} in IOThreadGroup.serve (the fresh client is
 * never echoed: its read times out; stderr has NoClassDefFoundError).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EchoServerEmfileIT {
    private static final int FDS = 100;
    private static final int FLOOD = 90;

    @Test
    void aConnectionFloodAtEmfileBeforeAnyoneWasServedLeavesTheServerServing() throws Exception {
        Path root = Path.of(System.getProperty("aioco.root")).toAbsolutePath().normalize();
        Path runtime = root.resolve("runtime/target/aioco-runtime.jar");
        Path examples = root.resolve("examples/target/aioco-examples.jar");
        assertTrue(Files.isRegularFile(runtime) && Files.isRegularFile(examples), "build the jars first (mvn verify)");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process server = new ProcessBuilder("/bin/sh", "-c", "ulimit -n " + FDS + " && exec \"$0\" -cp \"$1\" "
                + EchoServer.class.getName() + " 0 1", java, runtime + ":" + examples).start();
        List<String> errors = new ArrayList<>();
        CompletableFuture<Void> exhausted = new CompletableFuture<>();
        Thread stderr = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                    synchronized (errors) {
                        errors.add(line);
                    }
                    if (line.contains("failed; accepting again in 1 s: java.io.IOException: Too many open files")) {
                        exhausted.complete(null);
                    }
                }
            } catch (IOException e) {
                // the server is gone
            }
        }, "echo-emfile-stderr");
        stderr.setDaemon(true);
        stderr.start();
        List<Socket> flood = new ArrayList<>();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine(); // "echo server on port N, 1 IOThreads"
            assertTrue(first != null && first.startsWith("echo server on port "), "the server did not start: " + first);
            int port = Integer.parseInt(first.substring("echo server on port ".length(), first.indexOf(',')));
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
            for (int i = 0; i < FLOOD; i++) {
                Socket s = new Socket();
                flood.add(s);
                s.connect(address);
            }
            exhausted.get(30, TimeUnit.SECONDS); // the server ran out of fds and paused accepting
            for (Socket s : flood) {
                s.close();
            }
            try (Socket client = new Socket()) {
                client.connect(address);
                client.setSoTimeout(20_000); // only to fail rather than hang: the echo comes after the pause
                client.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                byte[] got = client.getInputStream().readNBytes(4);
                assertEquals("ping", new String(got, StandardCharsets.US_ASCII), "stderr: " + lines(errors));
            }
            synchronized (errors) {
                assertTrue(errors.stream().noneMatch(l -> l.contains("NoClassDefFoundError")
                        || l.contains("ExceptionInInitializerError")), lines(errors));
            }
        } finally {
            for (Socket s : flood) {
                s.close();
            }
            server.destroyForcibly();
            server.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String lines(List<String> errors) {
        synchronized (errors) {
            return String.join("\n", errors.subList(0, Math.min(errors.size(), 40)));
        }
    }
}
