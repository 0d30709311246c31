package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Adaptive polling of a context with no channels (aio-posix.c's try_poll_mode over the context
 * notifier, whose io_poll reads ctx->notified): the loop busy-polls its own notifications before it
 * blocks, and what another thread publishes meanwhile ends the poll.
 */
@Timeout(60)
class AdaptivePollingTest {
    /** A poll time far longer than any test: a busy poll that missed its event would never end. */
    private static final long ENDLESS_NS = Long.MAX_VALUE / 4;

    private final AioContext ctx = AioContext.create();

    @AfterEach
    void close() {
        ctx.close();
    }

    @Test
    void thePollTimeGrowsWithoutChannelsWhenWaitsAreShort() {
        ctx.setPollParams(1_000_000_000L, 2, 2);
        Timer bound = ctx.newTimer(ClockType.REALTIME, () -> {});
        assertEquals(0, ctx.currentPollNs());
        // NOTE: a slow machine may reach poll() after the 100 µs have passed, and a poll that finds
        // its timer due does not wait (only waits adjust the poll time): re-arm until one wait took
        // place. A wait shorter than maxNs grows the time; without polling it would stay 0 forever.
        for (int i = 0; i < 10_000 && ctx.currentPollNs() == 0; i++) {
            bound.modNs(System.nanoTime() + 100_000);
            while (bound.isPending()) {
                ctx.poll(true);
            }
        }
        assertNotEquals(0, ctx.currentPollNs());
    }

    /**
     * Makes the next poll time practically endless: a first short wait grows it from 0 to 4 µs, a
     * second one multiplies it by the grow factor.
     */
    private void growPollTimeToEndless() {
        ctx.setPollParams(ENDLESS_NS, 2_500_000_000_000L, 0);
        Timer bound = ctx.newTimer(ClockType.REALTIME, () -> {});
        while (ctx.currentPollNs() < 1_000_000_000_000L) {
            bound.modNs(System.nanoTime() + 100_000);
            while (bound.isPending()) {
                ctx.poll(true);
            }
        }
    }

    /**
     * Runs {@code action} on another thread once {@code loop} is busy-polling (seen in its stack).
     * The tests using it have a short timeout, in a thread of its own: a busy poll that missed the
     * action would spin for ever, and the test must fail rather than hang.
     */
    private static CompletableFuture<Void> onceBusyPolling(Thread loop, Runnable action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                while (!busyPolling(loop)) {
                    Thread.onSpinWait();
                }
                action.run();
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "poke-test-thread");
        t.setDaemon(true);
        t.start();
        return done;
    }

    private static boolean busyPolling(Thread loop) {
        for (StackTraceElement frame : loop.getStackTrace()) {
            if (frame.getMethodName().equals("busyPoll")) {
                return true;
            }
        }
        return false;
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aTimerArmedFromAnotherThreadEndsTheBusyPollAndFires() throws Exception {
        growPollTimeToEndless();
        AtomicInteger fired = new AtomicInteger();
        Timer t = ctx.newTimer(ClockType.REALTIME, fired::incrementAndGet);
        CompletableFuture<Void> armed = onceBusyPolling(Thread.currentThread(), () -> t.modNs(System.nanoTime()));
        while (fired.get() == 0) {
            ctx.poll(true); // without the poke, the first of these would spin for ever
        }
        armed.get(30, TimeUnit.SECONDS);
        assertEquals(1, fired.get());
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aBottomHalfScheduledFromAnotherThreadEndsTheBusyPollAndRuns() throws Exception {
        growPollTimeToEndless();
        AtomicInteger ran = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(ran::incrementAndGet);
        CompletableFuture<Void> scheduled = onceBusyPolling(Thread.currentThread(), bh::schedule);
        assertTrue(ctx.poll(true));
        scheduled.get(30, TimeUnit.SECONDS);
        assertEquals(1, ran.get());
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aNotifyFromAnotherThreadEndsTheBusyPoll() throws Exception {
        growPollTimeToEndless();
        CompletableFuture<Void> notified = onceBusyPolling(Thread.currentThread(), ctx::notifyEvent);
        assertFalse(ctx.poll(true)); // a bare notify: no progress
        notified.get(30, TimeUnit.SECONDS);
    }

    /**
     * Issue 14 item 1, the lost wake-up for fd handlers: a handler set from another thread after
     * the poll applied its fd updates but before it announced its wait (here: during the busy poll,
     * which the change ends) must be watched by that wait. The channel is readable already, so the
     * handler runs in this very poll. The old code announced the wait without looking at the
     * update again and blocked with no limit (it parked: no channel was registered yet).
     */
    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aHandlerSetFromAnotherThreadBeforeTheWaitIsAnnouncedIsWatchedByThatWait() throws Exception {
        growPollTimeToEndless();
        Pipe p = Pipe.open();
        try {
            p.sink().write(ByteBuffer.wrap(new byte[] {1}));
            AtomicInteger reads = new AtomicInteger();
            CompletableFuture<Void> set = onceBusyPolling(Thread.currentThread(),
                    () -> ctx.setFdHandler(p.source(), reads::incrementAndGet, null));
            assertTrue(ctx.poll(true)); // the old code never returned from this poll
            set.get(30, TimeUnit.SECONDS);
            assertEquals(1, reads.get());
        } finally {
            p.sink().close();
            p.source().close();
        }
    }

    /**
     * The same with a channel already watched (the wait selects rather than parks): a second
     * channel set from another thread during the busy poll is in that select. Its waker may clear
     * the announcement only after the wait built its poll set, before it blocks (the waker
     * descheduled between its poke and its read of the announcement): the wait must look at the
     * channels anyway. The old code returned without selecting, the poll reported no progress, and
     * the next poll busy-polled for ever over functions that see nothing (twice on JDK 25 under
     * load; made deterministic in PollerWakeBeforeBlockTest).
     */
    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aSecondChannelSetFromAnotherThreadBeforeTheWaitIsAnnouncedIsWatchedByThatWait() throws Exception {
        Pipe idle = Pipe.open();
        Pipe p = Pipe.open();
        try {
            ctx.setFdHandler(idle.source(), () -> {}, null, () -> false);
            LoopTesting.drain(ctx);
            growPollTimeToEndless();
            p.sink().write(ByteBuffer.wrap(new byte[] {1}));
            AtomicInteger reads = new AtomicInteger();
            CompletableFuture<Void> set = onceBusyPolling(Thread.currentThread(),
                    () -> ctx.setFdHandler(p.source(), reads::incrementAndGet, null, () -> false));
            assertTrue(ctx.poll(true)); // the old code never returned from this poll
            set.get(30, TimeUnit.SECONDS);
            assertEquals(1, reads.get());
        } finally {
            for (Pipe q : new Pipe[] {idle, p}) {
                q.sink().close();
                q.source().close();
            }
        }
    }

    /** Watches the pipe's source with a read handler (no polling function) that counts the bytes read. */
    private AtomicInteger countReads(Pipe p) {
        AtomicInteger read = new AtomicInteger();
        ctx.setFdHandler(p.source(), () -> {
            try {
                read.addAndGet(p.source().read(ByteBuffer.allocate(16)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, null);
        return read;
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aChannelWithoutPollingFunctionTurnsBusyPollingOff() throws Exception {
        growPollTimeToEndless();
        Pipe p = Pipe.open();
        try {
            AtomicInteger read = countReads(p);
            p.sink().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            while (read.get() < 3) {
                ctx.poll(true); // a busy poll would not look at the channel, and would never end
            }
            assertEquals(3, read.get());
            ctx.setFdHandler(p.source(), null, null);
        } finally {
            p.source().close();
            p.sink().close();
        }
    }

    @Test
    void anInterruptEndsTheBusyPoll() throws Exception {
        growPollTimeToEndless();
        Thread.currentThread().interrupt();
        try {
            assertFalse(ctx.poll(true)); // as a blocking wait: ends early, the status stays set
            assertTrue(Thread.currentThread().isInterrupted());
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    @Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void anInterruptedThreadThatGoesOnPollingStillServesItsChannels() throws Exception {
        Pipe p = Pipe.open();
        try {
            AtomicInteger read = countReads(p);
            ctx.newTimer(ClockType.REALTIME, () -> {}).modNs(System.nanoTime() + 60_000_000_000L);
            p.sink().write(ByteBuffer.wrap(new byte[] {1, 2}));
            Thread.currentThread().interrupt();
            while (read.get() < 2) {
                ctx.poll(true);
            }
            assertTrue(Thread.currentThread().isInterrupted());
            ctx.setFdHandler(p.source(), null, null);
        } finally {
            Thread.interrupted();
            p.source().close();
            p.sink().close();
        }
    }

    @Test
    void anIOThreadPollsByDefaultAndRunsWorkFromOutside() throws Exception {
        try (IOThread io = IOThread.start("polling-test")) {
            for (int i = 0; i < 100; i++) {
                CompletableFuture<Thread> ran = new CompletableFuture<>();
                io.context().scheduleOneshot(() -> ran.complete(Thread.currentThread()));
                assertEquals(io.thread(), ran.get(30, TimeUnit.SECONDS));
            }
        }
    }
}
