package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.loop.AdaptivePolling;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** fd handlers over real pipes and loopback sockets; adaptive polling. */
@Timeout(60)
class FdHandlerTest {
    private final AioContext ctx = AioContext.create();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        ctx.close();
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private Pipe pipe() throws IOException {
        Pipe p = Pipe.open();
        toClose.add(p.source());
        toClose.add(p.sink());
        return p;
    }

    private static void write(Pipe.SinkChannel sink, String s) {
        try {
            sink.write(ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int read(java.nio.channels.ReadableByteChannel ch, int max) {
        try {
            return ch.read(ByteBuffer.allocate(max));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void readHandlerRunsWhenThePipeHasDataAndIsLevelTriggered() throws Exception {
        Pipe p = pipe();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger bytes = new AtomicInteger();
        ctx.setFdHandler(p.source(), () -> {
            reads.incrementAndGet();
            bytes.addAndGet(read(p.source(), 2)); // reads less than is there
        }, null);
        assertFalse(ctx.poll(false));
        write(p.sink(), "abcde");
        assertTrue(ctx.poll(true));
        assertEquals(2, bytes.get());
        assertTrue(ctx.poll(true), "still readable: level-triggered");
        assertTrue(ctx.poll(true));
        assertEquals(5, bytes.get());
        assertEquals(3, reads.get());
        assertFalse(ctx.poll(false));
    }

    @Test
    void handlerRemovingItselfIsNotCalledAgain() throws Exception {
        Pipe p = pipe();
        AtomicInteger reads = new AtomicInteger();
        ctx.setFdHandler(p.source(), () -> {
            reads.incrementAndGet();
            ctx.setFdHandler(p.source(), null, null);
        }, null);
        write(p.sink(), "x");
        assertTrue(ctx.poll(true));
        assertFalse(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(1, reads.get());
    }

    @Test
    void handlerRemovingAnotherReadyHandlerInTheSamePollPreventsItsCall() throws Exception {
        Pipe a = pipe();
        Pipe b = pipe();
        AtomicInteger calls = new AtomicInteger();
        ctx.setFdHandler(a.source(), () -> {
            calls.incrementAndGet();
            read(a.source(), 10);
            ctx.setFdHandler(b.source(), null, null);
        }, null);
        ctx.setFdHandler(b.source(), () -> {
            calls.incrementAndGet();
            read(b.source(), 10);
            ctx.setFdHandler(a.source(), null, null);
        }, null);
        write(a.sink(), "1");
        write(b.sink(), "2");
        // Make sure both are ready for the same select.
        while (calls.get() == 0) {
            ctx.poll(true);
        }
        LoopTesting.drain(ctx);
        assertEquals(1, calls.get(), "whichever ran first removed the other");
    }

    @Test
    void handlerAddedFromAHandlerRunsFromTheNextPoll() throws Exception {
        Pipe a = pipe();
        Pipe b = pipe();
        AtomicInteger bReads = new AtomicInteger();
        ctx.setFdHandler(a.source(), () -> {
            read(a.source(), 10);
            ctx.setFdHandler(b.source(), () -> {
                bReads.incrementAndGet();
                read(b.source(), 10);
            }, null);
        }, null);
        write(b.sink(), "b");
        write(a.sink(), "a");
        while (bReads.get() == 0) {
            ctx.poll(true);
        }
        assertEquals(1, bReads.get());
    }

    @Test
    void channelRemovedAndAddedAgainBeforeTheNextSelectKeepsWorking() throws Exception {
        Pipe p = pipe();
        AtomicInteger first = new AtomicInteger();
        AtomicInteger second = new AtomicInteger();
        ctx.setFdHandler(p.source(), first::incrementAndGet, null);
        assertFalse(ctx.poll(false));
        ctx.setFdHandler(p.source(), null, null);
        assertFalse(ctx.poll(false));
        ctx.setFdHandler(p.source(), () -> {
            second.incrementAndGet();
            read(p.source(), 10);
        }, null);
        write(p.sink(), "x");
        while (second.get() == 0) {
            ctx.poll(true);
        }
        assertEquals(0, first.get());
    }

    @Test
    void writeHandlerRunsWhileWritableUntilRemoved() throws Exception {
        Pipe p = pipe();
        AtomicInteger writes = new AtomicInteger();
        ctx.setFdHandler(p.sink(), null, () -> {
            write(p.sink(), "w");
            if (writes.incrementAndGet() == 3) {
                ctx.setFdHandler(p.sink(), null, null);
            }
        });
        while (writes.get() < 3) {
            assertTrue(ctx.poll(true));
        }
        assertFalse(ctx.poll(false));
        assertEquals(3, read(p.source(), 10));
    }

    @Test
    void handlerSetFromAnotherThreadWakesTheBlockedLoop() throws Exception {
        Pipe p = pipe();
        Pipe other = pipe();
        ctx.setFdHandler(other.source(), () -> {}, null); // the loop blocks in select
        AtomicInteger reads = new AtomicInteger();
        CompletableFuture<Thread> readOn = new CompletableFuture<>();
        write(p.sink(), "x");
        CompletableFuture<Void> loopDone = new CompletableFuture<>();
        Thread loop = new Thread(() -> {
            try {
                while (reads.get() == 0) {
                    ctx.poll(true); // nothing else can end these waits: no timer, no other data
                }
                loopDone.complete(null);
            } catch (Throwable e) {
                loopDone.completeExceptionally(e);
            }
        }, "fd-loop");
        loop.start();
        LoopTesting.awaitBlocked(loop);
        ctx.setFdHandler(p.source(), () -> {
            reads.incrementAndGet();
            readOn.complete(Thread.currentThread());
            read(p.source(), 10);
        }, null);
        loopDone.get(30, TimeUnit.SECONDS); // only to fail rather than hang: a lost wake-up never ends
        loop.join();
        assertEquals(1, reads.get());
        assertSame(loop, readOn.getNow(null));
    }

    @Test
    void echoOverLoopbackWithAPeerThatClosesMidRead() throws Exception {
        ServerSocketChannel server = ServerSocketChannel.open();
        toClose.add(server);
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        SocketChannel client = SocketChannel.open(server.getLocalAddress());
        toClose.add(client);
        StringBuilder received = new StringBuilder();
        AtomicBoolean sawEof = new AtomicBoolean();
        AtomicInteger readsAfterEof = new AtomicInteger();
        SocketChannel[] accepted = new SocketChannel[1];
        ctx.setFdHandler(server, () -> {
            try {
                SocketChannel conn = server.accept();
                if (conn == null) {
                    return;
                }
                accepted[0] = conn;
                toClose.add(conn);
                ctx.setFdHandler(conn, () -> {
                    if (sawEof.get()) {
                        readsAfterEof.incrementAndGet();
                    }
                    ByteBuffer buf = ByteBuffer.allocate(3); // smaller than what is sent: several reads
                    int n;
                    try {
                        n = conn.read(buf);
                    } catch (IOException e) {
                        n = -1;
                    }
                    if (n < 0) {
                        sawEof.set(true);
                        ctx.setFdHandler(conn, null, null); // removed from inside itself
                        try {
                            conn.close();
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return;
                    }
                    buf.flip();
                    received.append(StandardCharsets.US_ASCII.decode(buf));
                }, null);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, null);
        client.write(ByteBuffer.wrap("hello, loop".getBytes(StandardCharsets.US_ASCII)));
        client.close(); // mid-read: the server has not read anything yet
        while (!sawEof.get()) {
            ctx.poll(true);
        }
        LoopTesting.drain(ctx);
        assertEquals("hello, loop", received.toString());
        assertEquals(0, readsAfterEof.get());
        assertFalse(accepted[0].isOpen());
    }

    @Test
    void subMillisecondTimerIsNotRoundedUpWhileChannelsAreWatched() throws Exception {
        Pipe p = pipe();
        ctx.setFdHandler(p.source(), () -> read(p.source(), 10), null); // the wait is a select
        int rounds = 50;
        AtomicLong lateness = new AtomicLong();
        AtomicLong early = new AtomicLong();
        AtomicInteger extraPolls = new AtomicInteger();
        Timer timer = ctx.newTimer(ClockType.REALTIME, () -> lateness.set(System.nanoTime() - lateness.get()));
        CompletableFuture<Void> loopDone = new CompletableFuture<>();
        Thread loop = new Thread(() -> {
            try {
                for (int i = 0; i < rounds; i++) {
                    long deadline = System.nanoTime() + 200_000;
                    lateness.set(deadline);
                    timer.modNs(deadline);
                    ctx.poll(true);
                    while (timer.isPending()) {
                        extraPolls.incrementAndGet();
                        ctx.poll(true);
                    }
                    if (lateness.get() < 0) {
                        early.incrementAndGet();
                    }
                }
                loopDone.complete(null);
            } catch (Throwable e) {
                loopDone.completeExceptionally(e);
            }
        }, "timer-loop");
        loop.start();
        // NOTE: what the loop waits in, sampled until it is done. NIO's select takes whole
        // milliseconds: a 200 µs wait must be spent spinning on selectNow, never in a blocking
        // select, which would round it up to 1 ms (or, rounded down to 0, block for ever).
        List<String> blockingSelects = new ArrayList<>();
        while (!loopDone.isDone()) {
            for (StackTraceElement frame : loop.getStackTrace()) {
                if (frame.getMethodName().equals("select") && !frame.getClassName().startsWith("io.aioco.")) {
                    if (blockingSelects.isEmpty()) {
                        blockingSelects.add(frame.toString()); // the first is enough to report
                    }
                    break;
                }
            }
        }
        loopDone.get();
        assertEquals(List.of(), blockingSelects);
        assertEquals(0, early.get(), "fired early");
        assertEquals(0, extraPolls.get(), "one blocking poll serves each timer: it waits for it, then fires it");
    }

    @Test
    void ioPollReportingWorkMakesTheLoopCallTheReadHandlerWithoutBlocking() throws Exception {
        Pipe p = pipe(); // never written: only the polling function can report work
        ctx.setPollParams(1_000_000_000L, 2, 2);
        AtomicBoolean work = new AtomicBoolean();
        AtomicInteger handled = new AtomicInteger();
        ctx.setFdHandler(p.source(), () -> {
            handled.incrementAndGet();
            work.set(false);
        }, null, work::get);
        // Waits bounded by a short timer, shorter than maxNs: each makes the poll time grow.
        Timer bound = ctx.newTimer(ClockType.REALTIME, () -> {});
        while (ctx.currentPollNs() == 0) {
            bound.modNs(System.nanoTime() + 100_000);
            ctx.poll(true);
        }
        assertEquals(0, handled.get());
        // Now a blocking poll spins over ioPoll first; the work it reports is handled without a wait.
        work.set(true);
        bound.modNs(System.nanoTime() + 1_000_000_000L); // not what ends the next poll
        assertTrue(ctx.poll(true));
        assertEquals(1, handled.get());
        bound.del();
        assertFalse(ctx.poll(false));
    }

    @Test
    void pollParamsAreValidatedNamingTheArgument() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(-1, 0, 0));
        assertEquals("maxNs: -1 (expected: >= 0)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(10, -2, 0));
        assertTrue(e.getMessage().startsWith("grow: -2 (expected: >= 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ctx.setPollParams(10, 0, -3));
        assertTrue(e.getMessage().startsWith("shrink: -3 (expected: >= 0"), e.getMessage());
    }

    @Test
    void pollTimeGrowsWhenWaitsAreJustTooLongAndShrinksWhenFarTooLong() {
        AdaptivePolling polling = new AdaptivePolling();
        polling.setParams(64_000, 2, 4);
        assertEquals(0, polling.budgetNs(-1));
        polling.adjust(10_000); // between poll time (0) and max: grow from 4 µs
        assertEquals(4_000, polling.pollNs());
        polling.adjust(10_000);
        assertEquals(8_000, polling.pollNs());
        polling.adjust(5_000); // caught by polling: no change
        assertEquals(8_000, polling.pollNs());
        polling.adjust(20_000);
        polling.adjust(20_000);
        polling.adjust(50_000);
        assertEquals(64_000, polling.pollNs(), "never above max");
        polling.adjust(60_000);
        assertEquals(64_000, polling.pollNs());
        polling.adjust(1_000_000); // far longer than max: shrink by 4
        assertEquals(16_000, polling.pollNs());
        assertEquals(1_000, polling.budgetNs(1_000), "bounded by the timeout");
        polling.setParams(64_000, 0, 0);
        assertEquals(0, polling.budgetNs(-1), "new parameters restart from 0");
        polling.adjust(10_000);
        polling.adjust(10_000);
        assertEquals(8_000, polling.pollNs(), "grow 0 means 2");
        polling.adjust(1_000_000);
        assertEquals(0, polling.pollNs(), "shrink 0 means back to 0");
    }

    @Test
    void settingAHandlerOnAClosedChannelFails() throws Exception {
        Pipe p = pipe();
        p.source().close();
        assertThrows(IllegalArgumentException.class, () -> ctx.setFdHandler(p.source(), () -> {}, null));
    }
}
