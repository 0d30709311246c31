package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.ClockType;
import io.aioco.IOThread;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;

/**
 * Shared set-up of the protocol tests: an in-process server on an IOThread (accepting there, and
 * serving there or on IOThreads of its own), a fresh temporary export, and the server's log lines
 * in a queue that tests wait on instead of sleeping.
 */
abstract class NbdServerFixture {
    static final long SIZE = 16L << 20;
    static final long TIMEOUT_S = 30;

    final BlockingQueue<String> logLines = new LinkedBlockingQueue<>();
    IOThread acceptor;
    Export export;
    NbdServer server;

    NbdServer start(boolean readOnly, int ioThreads, String... moreOptions) throws IOException {
        return start(ServerSocketChannel::accept, ClockType.REALTIME, readOnly, ioThreads, moreOptions);
    }

    /** A server whose accept calls go through {@code accept} and whose accept back-off runs on {@code clock}. */
    NbdServer start(NbdServer.Acceptor accept, ClockType clock, boolean readOnly, int ioThreads,
                    String... moreOptions) throws IOException {
        acceptor = IOThread.start("nbd-test-acceptor");
        export = Export.createTemporary(SIZE, "disk", readOnly);
        List<String> args = new ArrayList<>(List.of("--port", "0", "--iothreads", String.valueOf(ioThreads)));
        args.addAll(List.of(moreOptions));
        ServerOptions options = ServerOptions.parse(args.toArray(new String[0]));
        server = NbdServer.start(options, export, acceptor.context(), new ServerLog(logLines::add, true), accept,
                clock);
        return server;
    }

    NbdTestClient client() throws IOException {
        if (server == null) {
            start(false, 0);
        }
        return new NbdTestClient(server.address());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
        if (acceptor != null) {
            acceptor.close();
        }
        if (export != null) {
            export.close();
        }
    }

    /** Waits for a log line; fails after the timeout. Lines before it are consumed. */
    String awaitLog(Predicate<String> wanted) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (true) {
            String line = logLines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no such log line within " + TIMEOUT_S + " s");
            }
            if (wanted.test(line)) {
                return line;
            }
        }
    }

    /**
     * Waits until no byte of the server's buffer budget is reserved: a request cancelled while a
     * worker reads into its buffer gives its share back when the worker is done, which may be after
     * its connection's closing line. Fails after the timeout.
     */
    void awaitBudgetReleased() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_S);
        while (server.budget().reserved() != 0) {
            CompletableFuture<Void> next = server.budget().nextRelease(); // NOTE: registered before the re-check
            if (server.budget().reserved() == 0) {
                break;
            }
            try {
                next.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                throw new AssertionError("the buffer budget still has " + server.budget().reserved()
                        + " bytes reserved after " + TIMEOUT_S + " s");
            }
        }
    }

    /** Waits for the one line that says the connection from {@code c} ended. */
    String awaitClosed(NbdTestClient c) throws InterruptedException {
        String from = ":" + c.localPort() + " on ";
        return awaitLog(line -> line.contains(from) && line.contains(" closed after "));
    }

    static byte[] pattern(int length, int seed) {
        byte[] bytes = new byte[length];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    /** What the image file holds, read beside the server. */
    byte[] fileBytes(long offset, int length) throws IOException {
        try (RandomAccessFile file = new RandomAccessFile(export.path().toFile(), "r")) {
            byte[] bytes = new byte[length];
            file.seek(offset);
            file.readFully(bytes);
            return bytes;
        }
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static int errorOf(NbdTestClient.Reply reply) {
        return reply.error();
    }

    static void assertOk(NbdTestClient.Reply reply) {
        assertEquals(0, reply.error(), "error " + reply.error());
        assertTrue(reply.done(), "one chunk per reply");
    }

    static void assertDataAt(long offset, byte[] expected, NbdTestClient.Reply reply) {
        assertEquals(offset, ByteBuffer.wrap(reply.data()).getLong(), "chunk offset");
        assertArrayEquals(expected, NbdTestClient.dataOf(reply));
    }
}
