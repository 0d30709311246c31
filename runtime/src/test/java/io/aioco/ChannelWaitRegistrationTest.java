package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.callWhile;
import static io.aioco.HandWoven.plain;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.CoStack;
import io.aioco.internal.loop.FdTable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 item 3: a channel stays registered while coroutines wait on it. A wake-up changes who
 * is woken, not the channel's SelectionKey; a direction that fires with nobody waiting stops being
 * watched (level-triggered: the loop would spin) and the next wait watches it again, both interest
 * changes; the registration of a closed channel does not stay behind; cancellation, timeouts and a
 * user's {@link AioContext#setFdHandler} still work on a kept registration. The test thread polls
 * the context (it is the loop thread): every step is a counted poll, nothing sleeps.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost wake-up blocks a poll for ever
class ChannelWaitRegistrationTest {
    static final String READABLE = "yieldUntilReadable";
    static final String WRITABLE = "yieldUntilWritable";
    static final String DESC = "(Ljava/nio/channels/SelectableChannel;)V";
    static final String WITH_TIMEOUT_DESC = "(Lio/aioco/ClockType;JLio/aioco/CoroutineCallable;)Ljava/lang/Object;";

    private final AioContext ctx = AioContext.create();
    private final List<String> events = new ArrayList<>();
    private Pipe pipe;

    @BeforeEach
    void open() throws IOException {
        ClockType.pauseVirtual();
        pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
    }

    @AfterEach
    void close() throws IOException {
        ctx.close();
        ClockType.resumeVirtual();
        pipe.source().close();
        pipe.sink().close();
    }

    /** Whether the function just called suspended (rather than returned after its wake-up). */
    private static boolean suspended() {
        return CoStack.current().signal == CoStack.SUSPEND;
    }

    private static void writeByte(Pipe p) {
        try {
            assertEquals(1, p.sink().write(ByteBuffer.wrap(new byte[] {7})));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int readAll(Pipe p) {
        try {
            return p.source().read(ByteBuffer.allocate(64));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The key of the channel's kept registration. Loop thread. */
    private SelectionKey key(SelectableChannel ch) {
        FdTable.Node node = ctx.channelWaiters.registration(ch);
        assertNotNull(node, "no registration for " + ch);
        return node.key();
    }

    /** One wait for the source to become readable, then {@code after} (nothing is read). */
    private HandWoven oneReader(Pipe p, String name) {
        return new HandWoven(catching(name, READABLE, () -> Coroutine.yieldUntilReadable(p.source())),
                plain(() -> events.add(name + " woken")));
    }

    private HandWoven.Call catching(String who, String name, Runnable body) {
        return call(name, DESC, Coroutine.class, () -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                events.add(who + ": " + e.getClass().getSimpleName());
            }
        });
    }

    /**
     * (a) The registration is kept: one reader waits 1,000 times, each wait ended by a byte; the
     * source has the same SelectionKey throughout, valid (a cancelled key never becomes valid
     * again, and a new registration would be another key). Mutation caught: ready() dropping the
     * registration once nobody waits (the old code: setFdHandler(ch, null, null) on every wake-up)
     * gives a new key at the next wait.
     */
    @Test
    void aThousandReadWaitsWithWakeUpsKeepOneSelectionKey() {
        int rounds = 1000;
        int[] woken = {0};
        HandWoven reader = new HandWoven(callWhile(() -> woken[0] < rounds, READABLE, DESC, Coroutine.class, () -> {
            Coroutine.yieldUntilReadable(pipe.source());
            if (!suspended()) {
                woken[0]++;
                assertEquals(1, readAll(pipe)); // the ping-pong server: read, then wait again
            }
        }));
        Coroutine.create(reader).enter(ctx);
        drain(ctx);
        SelectionKey first = key(pipe.source());
        assertNotNull(first, "registered once the loop polled");
        assertEquals(SelectionKey.OP_READ, first.interestOps());
        for (int i = 0; i < rounds; i++) {
            writeByte(pipe);
            while (woken[0] == i) {
                ctx.poll(true);
            }
            assertEquals(i + 1, woken[0]);
            SelectionKey now = key(pipe.source());
            assertSame(first, now, "round " + i + ": the channel was registered again");
            assertTrue(now.isValid(), "round " + i + ": the key was cancelled");
        }
        assertTrue(reader.finished());
        drain(ctx); // nobody waits any more: the next poll lets the registration go
        assertFalse(first.isValid());
        assertFalse(pipe.source().isRegistered());
        assertEquals(0, ctx.fds().size());
        assertEquals(0, ctx.channelWaiters.size());
    }

    /**
     * (b) A readable channel nobody waits on stops being watched after one dispatch, and the loop
     * goes idle (polls report no progress); the next wait watches it again, on the same key. Also:
     * the woken reader runs inside the poll whose dispatch woke it (entered by the handler, {@code
     * aio_co_wake} on its own context, not by a bottom half of a later poll). Idle when the next
     * poll starts, the registration goes (issue 21 review). Mutations caught: releaseIdle
     * keeping idle registrations (the key stays valid); ready() waking through {@code scheduleOneshot} (the reader is not finished after
     * the poll that found the channel readable).
     */
    @Test
    void aReadableChannelNobodyWaitsOnStopsBeingWatchedAndTheLoopGoesIdle() {
        HandWoven first = oneReader(pipe, "first");
        Coroutine.create(first).enter(ctx);
        drain(ctx);
        SelectionKey key = key(pipe.source());
        writeByte(pipe);
        assertTrue(ctx.poll(true));
        assertTrue(first.finished(), "the woken reader runs in the poll whose handler woke it");
        // the byte stays unread: readable, and nobody waits; idle when the next poll starts, the
        // registration goes (issue 21 review: a kept key keeps a closed channel's fd)
        assertFalse(ctx.poll(false), "the loop spins on a readable channel nobody waits on");
        assertFalse(ctx.poll(false));
        assertFalse(key.isValid());
        assertFalse(pipe.source().isRegistered(), "the select after the release flushed the key");
        assertEquals(0, ctx.channelWaiters.size());
        // the next wait registers it again
        HandWoven second = oneReader(pipe, "second");
        Coroutine.create(second).enter(ctx);
        assertTrue(ctx.poll(false));
        assertTrue(second.finished());
        assertEquals(List.of("first woken", "second woken"), events);
    }

    /**
     * (b) The writable side, which is ready almost always: a writer woken once, then nobody waits;
     * the loop goes idle, and the registration goes. Mutation caught: as above (the key kept).
     */
    @Test
    void aWritableChannelNobodyWaitsOnStopsBeingWatchedAndTheLoopGoesIdle() {
        HandWoven writer = new HandWoven(catching("writer", WRITABLE, () -> Coroutine.yieldUntilWritable(pipe.sink())),
                plain(() -> events.add("writer woken")));
        Coroutine.create(writer).enter(ctx);
        assertTrue(ctx.poll(false));
        assertTrue(writer.finished());
        SelectionKey key = ctx.channelWaiters.registration(pipe.sink()).key();
        assertFalse(ctx.poll(false), "the loop spins on a writable channel nobody waits on");
        assertFalse(ctx.poll(false));
        assertFalse(key.isValid(), "idle when the next poll starts: let go");
        assertEquals(List.of("writer woken"), events);
    }

    /**
     * (c) 10,000 short-lived channels, each waited on, woken and closed by the user: the tables
     * stay bounded (an entry of a closed channel goes at the next sweep, which a table that doubled
     * makes). Mutation caught: no sweep (10,000 entries and fd-table nodes left behind).
     */
    @Test
    void tenThousandShortLivedChannelsLeaveBoundedTables() throws IOException {
        int maxEntries = 0;
        for (int i = 0; i < 10_000; i++) {
            Pipe p = Pipe.open();
            try {
                HandWoven reader = new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(p.source())));
                Coroutine.create(reader).enter(ctx);
                writeByte(p);
                while (!reader.finished()) {
                    ctx.poll(true);
                }
                assertEquals(1, readAll(p));
            } finally {
                p.source().close();
                p.sink().close();
            }
            maxEntries = Math.max(maxEntries, ctx.channelWaiters.size());
        }
        drain(ctx);
        assertTrue(maxEntries <= ChannelWaiters.MIN_SWEEP, "the table grew to " + maxEntries);
        assertTrue(ctx.channelWaiters.size() <= ChannelWaiters.MIN_SWEEP, ctx.channelWaiters.size() + " entries");
        assertTrue(ctx.fds().size() <= ChannelWaiters.MIN_SWEEP, ctx.fds().size() + " fd-table nodes");

    }

    /**
     * (c) A channel closed under its reader, which is then cancelled (quietly: API.md): nothing of
     * the channel is left. Mutation caught: remove() keeping the entry of a closed channel (one
     * entry and one fd-table node left until a sweep).
     */
    @Test
    void aChannelClosedUnderItsReaderLeavesNothingOnceTheReaderIsCancelled() throws IOException {
        Coroutine reader = Coroutine.create(oneReader(pipe, "reader"));
        reader.enter(ctx);
        drain(ctx);
        assertEquals(1, ctx.channelWaiters.size());
        pipe.source().close();
        reader.cancel();
        drain(ctx);
        assertEquals(List.of("reader: CancellationException", "reader woken"), events);
        assertEquals(0, ctx.channelWaiters.size());
        assertEquals(0, ctx.fds().size());
    }

    /**
     * A socket closed by the user while its registration is kept (nobody waits): the peer sees the
     * end of the stream at once, before the loop polls again (NIO shuts a registered socket down
     * for writing when it is closed, and releases it at the selector's next select); the next poll
     * lets the socket go for good. What a server that closes its connections relies on.
     */
    @Test
    void aSocketClosedWithItsRegistrationKeptEndsThePeersStreamAtOnce() throws IOException {
        try (java.nio.channels.ServerSocketChannel server = java.nio.channels.ServerSocketChannel.open()
                .bind(new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0));
             java.nio.channels.SocketChannel far = java.nio.channels.SocketChannel.open(server.getLocalAddress());
             java.nio.channels.SocketChannel near = server.accept()) {
            near.configureBlocking(false);
            HandWoven reader = new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(near)));
            Coroutine.create(reader).enter(ctx);
            far.write(ByteBuffer.wrap(new byte[] {7}));
            while (!reader.finished()) {
                ctx.poll(true);
            }
            assertEquals(1, near.read(ByteBuffer.allocate(2)));
            SelectionKey key = key(near);
            assertTrue(key.isValid());
            near.close();
            ByteBuffer one = ByteBuffer.allocate(2);
            assertEquals(-1, far.read(one), "the peer did not see the end of the stream"); // blocking read
            assertFalse(key.isValid());
            drain(ctx);
            assertFalse(near.isRegistered(), "the selector let the closed socket go");
        }
    }

    /**
     * (d) On a kept registration, a cancelled reader and a timed-out one (withTimeoutNs, VIRTUAL
     * clock) end with their exceptions, and the next reader is woken by the next byte, on the same
     * key. Mutation caught: Wait.withdraw() not taking the waiter off (the timed-out reader is then
     * refused: "cancelled waits for it"), and so the last reader is never woken.
     */
    @Test
    void cancelledAndTimedOutReadersOfAKeptRegistrationEndAndTheNextReaderIsWoken() {
        HandWoven first = oneReader(pipe, "first");
        Coroutine.create(first).enter(ctx);
        writeByte(pipe);
        while (!first.finished()) {
            ctx.poll(true);
        }
        assertEquals(1, readAll(pipe));
        SelectionKey key = key(pipe.source());

        Coroutine cancelled = Coroutine.create(oneReader(pipe, "cancelled"));
        cancelled.enter(ctx);
        drain(ctx);
        cancelled.cancel();
        drain(ctx);

        CoroutineCallable<Object> read = new HandCallable<>(READABLE, DESC, Coroutine.class, () -> {
            Coroutine.yieldUntilReadable(pipe.source());
            return null;
        });
        HandWoven timed = new HandWoven(call("withTimeoutNs", WITH_TIMEOUT_DESC, Coroutine.class, () -> {
            try {
                Coroutine.withTimeoutNs(ClockType.VIRTUAL, 100, read);
            } catch (RuntimeException e) {
                events.add("timed: " + e.getClass().getSimpleName());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
        Coroutine.create(timed).enter(ctx);
        drain(ctx);
        assertFalse(timed.finished());
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertTrue(timed.finished());

        HandWoven last = oneReader(pipe, "last");
        Coroutine.create(last).enter(ctx);
        drain(ctx);
        assertFalse(last.finished());
        writeByte(pipe);
        for (int i = 0; i < 3 && !last.finished(); i++) {
            ctx.poll(true);
        }
        assertEquals(List.of("first woken", "cancelled: CancellationException", "cancelled woken",
                "timed: CoroutineTimeoutException", "last woken"), events);
        assertTrue(key(pipe.source()).isValid());
    }

    /**
     * A user's setFdHandler takes a kept registration over (its handler is called, on the same
     * key), and the next wait takes it back (the user's handler is not called again, the reader is
     * woken). setFdHandler(ch, null, null) releases it: the channel can go back to blocking mode.
     * Mutation caught: add() trusting its kept registration without checking that it still owns it
     * (the reader is never woken; the user's handler runs at every poll instead).
     */
    @Test
    void setFdHandlerTakesAKeptRegistrationOverAndTheNextWaitTakesItBack() throws IOException {
        HandWoven first = oneReader(pipe, "first");
        Coroutine.create(first).enter(ctx);
        writeByte(pipe);
        while (!first.finished()) {
            ctx.poll(true);
        }
        int[] userCalls = {0};
        ctx.setFdHandler(pipe.source(), () -> userCalls[0]++, null); // the byte stays unread: readable
        assertTrue(ctx.poll(true));
        assertEquals(1, userCalls[0]);

        HandWoven second = oneReader(pipe, "second");
        Coroutine.create(second).enter(ctx);
        for (int i = 0; i < 5 && !second.finished(); i++) {
            ctx.poll(true);
        }
        assertTrue(second.finished(), "the wait did not take the channel back from the user's handler");
        SelectionKey key = key(pipe.source());
        assertEquals(1, userCalls[0]);
        assertEquals(List.of("first woken", "second woken"), events);

        ctx.setFdHandler(pipe.source(), null, null);
        drain(ctx); // the cancelled key leaves the selector at its next select
        assertFalse(key.isValid());
        pipe.source().configureBlocking(true); // would throw IllegalBlockingModeException while registered
        pipe.source().configureBlocking(false);

        HandWoven third = oneReader(pipe, "third");
        Coroutine.create(third).enter(ctx);
        for (int i = 0; i < 3 && !third.finished(); i++) {
            ctx.poll(true);
        }
        assertTrue(third.finished());
        assertTrue(key(pipe.source()).isValid());
    }
}
