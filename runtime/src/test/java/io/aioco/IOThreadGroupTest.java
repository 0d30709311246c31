package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.callWhile;
import static io.aioco.HandWoven.plain;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 item 4: an IOThread group that accepts on one context and serves each connection on the
 * next IOThread. Real loopback sockets; connection coroutines written by hand ({@link HandWoven}):
 * an echo that waits with {@link Coroutine#yieldUntilReadable}. Every wait here is for an explicit
 * signal (a queue, a future, a socket's bytes or end); a lost wake-up fails by the timeout.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class IOThreadGroupTest {
    private static final String READABLE = "yieldUntilReadable";
    private static final String DESC = "(Ljava/nio/channels/SelectableChannel;)V";

    /** What a connection coroutine saw when it started: its coroutine, thread and context. */
    record Started(Coroutine coroutine, Thread thread, AioContext context) {}

    private final BlockingQueue<Started> started = new LinkedBlockingQueue<>();
    private final List<Throwable> uncaught = Collections.synchronizedList(new ArrayList<>());
    private final List<Socket> clients = new ArrayList<>();
    private IOThread acceptor;
    private ServerSocketChannel listener;
    private IOThreadGroup group;

    @BeforeEach
    void listen() throws IOException {
        acceptor = IOThread.start("group-test-acceptor");
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    }

    @AfterEach
    void tearDown() throws IOException {
        if (group != null) {
            group.close();
        }
        acceptor.close();
        listener.close();
        for (Socket client : clients) {
            client.close();
        }
    }

    private IOThreadGroup group(int n) {
        group = IOThreadGroup.start(n);
        for (IOThread t : group.ioThreads()) {
            t.thread().setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
        }
        return group;
    }

    /**
     * An echo coroutine: notes where it started, then waits for bytes and sends them back until the
     * peer's end of stream. The pump (reading and writing back what is there) is the wait's loop
     * condition; the only suspension is {@link Coroutine#yieldUntilReadable}.
     */
    private HandWoven echo(SocketChannel ch) {
        boolean[] open = {true};
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        return new HandWoven(
                plain(() -> started.add(new Started(Coroutine.self(), Thread.currentThread(), AioContext.current()))),
                callWhile(() -> open[0] = pump(ch, buffer), READABLE, DESC, Coroutine.class,
                        () -> Coroutine.yieldUntilReadable(ch)));
    }

    /** Echoes what is readable now; false at the end of the stream. */
    private static boolean pump(SocketChannel ch, ByteBuffer buffer) {
        try {
            while (true) {
                buffer.clear();
                int n = ch.read(buffer);
                if (n < 0) {
                    return false;
                }
                if (n == 0) {
                    return true;
                }
                buffer.flip();
                while (buffer.hasRemaining()) { // NOTE: a few bytes: the socket's send buffer takes them at once
                    ch.write(buffer);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Socket connect() throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(listener.getLocalAddress());
        return client;
    }

    private static void assertEchoes(Socket client, byte[] bytes) throws IOException {
        client.getOutputStream().write(bytes);
        assertArrayEquals(bytes, client.getInputStream().readNBytes(bytes.length));
    }

    private Started nextStarted() throws InterruptedException {
        Started s = started.poll(30, TimeUnit.SECONDS);
        if (s == null) {
            throw new AssertionError("no connection coroutine started within 30 s");
        }
        return s;
    }

    @Test
    void connectionsAreSpreadRoundRobinOverTheIOThreadsAndLiveThere() throws Exception {
        group(3);
        group.serve(listener, acceptor.context(), this::echo);
        List<AioContext> expected = group.ioThreads().stream().map(IOThread::context).toList();
        for (int i = 0; i < 7; i++) {
            Socket client = connect();
            Started s = nextStarted(); // NOTE: one at a time: accept order is connection order
            IOThread worker = group.ioThreads().get(i % 3);
            assertSame(expected.get(i % 3), s.context(), "connection " + i);
            assertSame(worker.thread(), s.thread(), "connection " + i + " runs on its IOThread");
            assertEquals("aioco-worker-" + (i % 3), s.thread().getName());
            assertEchoes(client, new byte[] {(byte) i, 1, 2, 3});
            assertSame(s.context(), s.coroutine().context(), "the coroutine's context is its IOThread's");
        }
        assertEquals(7, group.openConnections());
        assertEquals(List.of(), uncaught);
    }

    @Test
    void nextHandsOutTheContextsRoundRobin() {
        group(2);
        AioContext a = group.ioThreads().get(0).context();
        AioContext b = group.ioThreads().get(1).context();
        assertEquals(List.of(a, b, a, b, a), List.of(group.next(), group.next(), group.next(), group.next(), group.next()));
        assertEquals(2, group.size());
        assertThrows(IllegalArgumentException.class, () -> IOThreadGroup.start(0));
        try (IOThreadGroup named = IOThreadGroup.start("named-", 2)) {
            assertEquals("named-1", named.ioThreads().get(1).thread().getName());
        }
    }

    @Test
    void closeWithOpenConnectionsCancelsTheirCoroutinesClosesTheirChannelsAndStopsAccepting() throws Exception {
        group(2);
        group.serve(listener, acceptor.context(), this::echo);
        List<Started> served = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            assertEchoes(connect(), new byte[] {(byte) i});
            served.add(nextStarted());
        }
        assertEquals(5, group.openConnections());
        List<IOThread> workers = group.ioThreads();

        group.close();

        assertEquals(0, group.openConnections());
        for (Started s : served) {
            assertTrue(s.coroutine().isTerminated(), s.coroutine() + " ended before close returned");
            assertTrue(s.coroutine().isCancelled(), s.coroutine() + " was ended by cancellation");
        }
        for (Socket client : clients) {
            assertEquals(-1, client.getInputStream().read(), "the client sees the end of the stream");
        }
        for (IOThread worker : workers) {
            assertFalse(worker.thread().isAlive(), worker + " closed");
        }
        assertFalse(listener.isOpen(), "the listener is closed");
        assertThrows(ConnectException.class, () -> new Socket().connect(new InetSocketAddress(
                InetAddress.getLoopbackAddress(), ((InetSocketAddress) clients.get(0).getRemoteSocketAddress()).getPort())));
        assertEquals(List.of(), uncaught, "an end by close is not reported");
        assertTrue(group.isClosed());
        assertThrows(IllegalStateException.class, () -> group.serve(ServerSocketChannel.open(), acceptor.context(), this::echo));
    }

    @Test
    void closeIsIdempotentAndRefusedOnTheGroupsOwnThreads() throws Exception {
        group(2);
        group.serve(listener, acceptor.context(), this::echo);
        assertEchoes(connect(), new byte[] {9});
        Started s = nextStarted();
        CompletableFuture<Throwable> onWorker = new CompletableFuture<>();
        s.context().scheduleOneshot(() -> {
            try {
                group.close();
                onWorker.complete(null);
            } catch (Throwable e) {
                onWorker.complete(e);
            }
        });
        Throwable refused = onWorker.get(30, TimeUnit.SECONDS);
        assertInstanceOf(IllegalStateException.class, refused);
        assertTrue(refused.getMessage().contains("IOThreadGroup.close() called on aioco-worker-0"), refused.getMessage());
        assertFalse(group.isClosed(), "a refused close changes nothing");
        assertEchoes(clients.get(0), new byte[] {10});

        CompletableFuture<Void> other = CompletableFuture.runAsync(group::close);
        group.close();
        other.get(30, TimeUnit.SECONDS); // a concurrent close returns too, after the first finished
        group.close(); // and a later one
        assertTrue(s.coroutine().isTerminated());
        assertEquals(-1, clients.get(0).getInputStream().read());
    }

    /** Waits (a signal: the group's count, set on the IOThreads) until {@code n} connections are open. */
    private void awaitOpenConnections(int n) {
        while (group.openConnections() != n) {
            Thread.onSpinWait(); // a connection leaves the count on its IOThread, after its report
        }
    }

    @Test
    void aConnectionThatThrowsIsReportedAndClosedAndTheGroupServesOn() throws Exception {
        group(2);
        AtomicInteger n = new AtomicInteger();
        Function<SocketChannel, CoroutineEntry> connections = ch -> switch (n.getAndIncrement()) {
            case 0 -> new HandWoven(plain(() -> {
                throw new IllegalStateException("connection failed on purpose");
            }));
            case 1 -> {
                throw new IllegalArgumentException("set-up failed on purpose");
            }
            default -> echo(ch);
        };
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, acceptor.context(), connections);
            Socket failing = connect();
            assertEquals(-1, failing.getInputStream().read(), "the failed connection's channel is closed");
            Socket refused = connect();
            assertEquals(-1, refused.getInputStream().read(), "the channel of a failed set-up is closed");
            Socket served = connect();
            assertEchoes(served, new byte[] {1, 2, 3});
            nextStarted();
            awaitOpenConnections(1); // the failed connection's report is made before it leaves the count
            assertEquals(1, uncaught.size(), "the IOThread's uncaught-exception handler got the failure");
            assertEquals("connection failed on purpose", uncaught.get(0).getMessage());
            assertEquals(1, log.count("threw; its channel is closed and the group serves on: "
                    + "java.lang.IllegalStateException: connection failed on purpose"), log.messages.toString());
            assertEquals(1, log.count("setting up a connection accepted from"), log.messages.toString());
            assertEquals(1, log.count("set-up failed on purpose"), log.messages.toString());
            assertEquals(1, group.openConnections());
        }
    }

    /**
     * Issue 21 review, finding 4: the group's reports of connections that throw are rate-limited per
     * exception class, as a loop's reports of its callbacks (1st, 10th, 100th...): 12 failing
     * connections give 2 lines and 2 calls of the uncaught-exception handler, not 12. Each client
     * reads the end of its stream, and the last one is waited for until the group counts no open
     * connection, so every report has been made. Mutation caught: countFailure always reporting
     * (12 lines, 12 calls).
     */
    @Test
    void reportsOfConnectionsThatThrowAreRateLimited() throws Exception {
        group(1);
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, acceptor.context(), ch -> new HandWoven(plain(() -> {
                throw new IllegalStateException("connection failed on purpose");
            })));
            for (int i = 0; i < 12; i++) {
                Socket failing = connect();
                assertEquals(-1, failing.getInputStream().read(), "the failed connection's channel is closed");
            }
            while (group.openConnections() != 0) {
                Thread.onSpinWait(); // the last connection's end (and report) runs on its IOThread
            }
            group.close(); // joins the IOThread: its reports are all made
            assertEquals(2, uncaught.size(), uncaught.toString());
            assertEquals(2, log.count("connection failed on purpose"), log.messages.toString());
            assertEquals(1, log.count("(failure 10 of this kind; reported at 1, 10, 100, ...)"), log.messages.toString());
        }
    }

    @Test
    void aFailedAcceptIsLoggedAndPausesAcceptingForASecondThenAcceptingGoesOn() throws Exception {
        group(1);
        AioContext ctx = AioContext.create(); // polled by this thread: every step is explicit
        ClockType.pauseVirtual();
        AtomicInteger attempts = new AtomicInteger();
        IOThreadGroup.Acceptor failingOnce = l -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IOException("Too many open files");
            }
            return l.accept();
        };
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, ctx, this::echo, failingOnce, ClockType.VIRTUAL);
            Socket client = connect(); // completes in the backlog
            while (attempts.get() == 0) {
                ctx.poll(true);
            }
            assertEquals(1, log.count("failed; accepting again in 1 s: java.io.IOException: Too many open files"),
                    log.messages.toString());
            LoopTesting.drain(ctx);
            assertEquals(1, attempts.get(), "no retry while paused, though the listener is readable");
            ClockType.advanceVirtualNs(IOThreadGroup.ACCEPT_PAUSE_NS - 1);
            LoopTesting.drain(ctx);
            assertEquals(1, attempts.get(), "not before a second");
            ClockType.advanceVirtualNs(1);
            while (attempts.get() < 2) {
                ctx.poll(true);
            }
            assertEchoes(client, new byte[] {4, 5, 6});
            assertEquals(1, log.count("Too many open files"), "logged once");
        } finally {
            ClockType.resumeVirtual();
            group.close();
            LoopTesting.drain(ctx); // the listener's handler goes on ctx's thread
            ctx.close();
        }
    }

    @Test
    void serveOnAClosedContextIsRefusedAndTheListenerStaysTheCallers() throws Exception {
        group(1);
        AioContext closed = AioContext.create();
        closed.close();
        assertThrows(IllegalStateException.class, () -> group.serve(listener, closed, this::echo));
        group.close();
        assertTrue(listener.isOpen(), "a refused serve did not take the listener over");
    }

    @Test
    void aListenerClosedBySomeoneElseIsLoggedAndNoLongerServed() throws Exception {
        group(1);
        AioContext ctx = AioContext.create();
        AtomicInteger attempts = new AtomicInteger();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, ctx, this::echo, l -> {
                attempts.incrementAndGet();
                throw new java.nio.channels.ClosedChannelException();
            }, ClockType.REALTIME);
            connect();
            while (attempts.get() == 0) {
                ctx.poll(true);
            }
            LoopTesting.drain(ctx);
            assertEquals(1, attempts.get(), "its handler is gone");
            assertEquals(1, log.count("was closed by someone else; it is no longer served"), log.messages.toString());
        } finally {
            group.close();
            LoopTesting.drain(ctx); // the listener's handler goes on ctx's thread
            ctx.close();
        }
    }

    @Test
    void aListenerReallyClosedBySomeoneElseIsLoggedOnceAtTheAcceptingLoopsNextPoll() throws Exception {
        // a real close, not an injected exception: NIO cancels the key and never reports the
        // listener again, so the accept handler alone would never see it (rv21's reproduction)
        group(1);
        AioContext ctx = AioContext.create(); // polled by this thread: every step is explicit
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, ctx, this::echo);
            LoopTesting.drain(ctx); // the accept handler is registered
            assertEquals(1, ctx.handlersForDump());
            listener.close(); // someone else closes it
            for (int i = 0; i < 10; i++) {
                ctx.poll(false);
            }
            assertEquals(1, log.count("was closed by someone else; it is no longer served"), log.messages.toString());
            assertEquals(0, ctx.handlersForDump(), "the group let go of the listener's handler");
        } finally {
            group.close();
            LoopTesting.drain(ctx);
            ctx.close();
        }
    }

    @Test
    void aListenerClosedDuringAnAcceptPauseIsLoggedWhenThePauseEnds() throws Exception {
        group(1);
        AioContext ctx = AioContext.create();
        ClockType.pauseVirtual();
        AtomicInteger attempts = new AtomicInteger();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            group.serve(listener, ctx, this::echo, l -> {
                attempts.incrementAndGet();
                throw new IOException("Too many open files");
            }, ClockType.VIRTUAL);
            connect();
            while (attempts.get() == 0) {
                ctx.poll(true);
            }
            LoopTesting.drain(ctx); // paused: no handler
            listener.close();
            ClockType.advanceVirtualNs(IOThreadGroup.ACCEPT_PAUSE_NS);
            LoopTesting.drain(ctx);
            assertEquals(1, attempts.get(), "no accept on a closed listener");
            assertEquals(1, log.count("was closed by someone else; it is no longer served"), log.messages.toString());
            assertEquals(0, ctx.handlersForDump());
        } finally {
            ClockType.resumeVirtual();
            group.close();
            LoopTesting.drain(ctx);
            ctx.close();
        }
    }

    @Test
    void connectionsAcceptedWhileClosingAllEndAndNoneIsLeftOpen() throws Exception {
        // a stress of close racing the accepts: invariant, every client sees the end of its stream
        // and no connection coroutine is left when close returns
        for (int round = 0; round < 20; round++) {
            ServerSocketChannel l = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            IOThreadGroup g = IOThreadGroup.start("race-", 2);
            for (IOThread t : g.ioThreads()) {
                t.thread().setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
            }
            List<Coroutine> coroutines = Collections.synchronizedList(new ArrayList<>());
            g.serve(l, acceptor.context(), ch -> {
                HandWoven entry = echo(ch);
                return entry;
            });
            List<Socket> racing = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                Socket s = new Socket();
                s.connect(l.getLocalAddress());
                racing.add(s);
            }
            g.close();
            assertEquals(0, g.openConnections());
            Started s;
            while ((s = started.poll()) != null) {
                coroutines.add(s.coroutine());
            }
            for (Coroutine co : coroutines) {
                assertTrue(co.isTerminated(), co + " left running after close");
            }
            for (Socket client : racing) {
                InputStream in = client.getInputStream();
                int read;
                try {
                    read = in.read();
                } catch (java.net.SocketException e) { // still in the backlog when the listener closed: reset
                    read = -1;
                }
                assertEquals(-1, read, "round " + round + ": every client sees the end of its stream");
                client.close();
            }
        }
        assertEquals(List.of(), uncaught);
    }
}
