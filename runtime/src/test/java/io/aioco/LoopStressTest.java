package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Several threads schedule bottom halves and set notifiers while a loop runs. Checked with exact
 * counters: every schedule that found its bottom half idle gives exactly one run, the last
 * schedule of each is followed by a run (none lost), and nothing runs after delete().
 *
 * <p>Quick by default; {@code -Daioco.stress.long=true} multiplies the work by 100.
 */
@Timeout(300)
class LoopStressTest {
    private static final boolean LONG = Boolean.getBoolean("aioco.stress.long");
    private static final int PRODUCERS = 4;
    private static final int BOTTOM_HALVES = 8;
    private static final int SCHEDULES_PER_PRODUCER = LONG ? 2_000_000 : 20_000;

    @Test
    void concurrentSchedulesRunExactlyOncePerIdleScheduleAndNoneIsLost() throws Exception {
        AioContext ctx = AioContext.create();
        AtomicLong ticket = new AtomicLong();
        AtomicLongArray queuedBy = new AtomicLongArray(BOTTOM_HALVES); // schedules that found it idle
        AtomicLongArray lastScheduled = new AtomicLongArray(BOTTOM_HALVES);
        long[] runs = new long[BOTTOM_HALVES];
        long[] lastRunTicket = new long[BOTTOM_HALVES];
        List<BottomHalf> bhs = new ArrayList<>();
        for (int i = 0; i < BOTTOM_HALVES; i++) {
            int id = i;
            bhs.add(ctx.newBottomHalf(() -> {
                lastRunTicket[id] = ticket.get();
                runs[id]++;
            }));
        }
        EventNotifier notifier = new EventNotifier();
        AtomicLong lastSet = new AtomicLong();
        long[] lastHandled = {0};
        long[] handled = {0};
        ctx.setEventNotifier(notifier, n -> {
            lastHandled[0] = ticket.get();
            if (n.testAndClear()) {
                handled[0]++;
            }
        });

        AtomicBoolean stop = new AtomicBoolean();
        Thread loop = new Thread(() -> {
            while (!stop.get()) {
                ctx.poll(true);
            }
        }, "stress-loop");
        loop.start();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            int seed = p;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                int x = seed * 7919 + 1;
                for (int i = 0; i < SCHEDULES_PER_PRODUCER; i++) {
                    x = x * 1103515245 + 12345;
                    int id = (x >>> 16) % BOTTOM_HALVES;
                    long t0 = ticket.incrementAndGet();
                    if (bhs.get(id).enqueue(BottomHalf.SCHEDULED, true)) {
                        queuedBy.incrementAndGet(id);
                    }
                    lastScheduled.accumulateAndGet(id, t0, Math::max);
                    if ((i & 63) == 0) {
                        long t1 = ticket.incrementAndGet();
                        notifier.set();
                        lastSet.accumulateAndGet(t1, Math::max);
                    }
                }
            }, "stress-producer-" + p);
            producers.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : producers) {
            t.join();
        }
        stop.set(true);
        ctx.notifyEvent();
        loop.join();
        LoopTesting.drain(ctx); // this thread now polls: whatever the loop left pending runs here

        for (int i = 0; i < BOTTOM_HALVES; i++) {
            assertEquals(queuedBy.get(i), runs[i], "runs of bottom half " + i);
            assertTrue(lastRunTicket[i] >= lastScheduled.get(i), "last schedule of " + i + " lost");
        }
        assertTrue(handled[0] >= 1);
        assertTrue(lastHandled[0] >= lastSet.get(), "last notifier set lost");
        assertFalse(notifier.testAndClear());

        // Delete each bottom half while it is pending: it never runs again.
        long[] before = runs.clone();
        for (BottomHalf bh : bhs) {
            bh.schedule();
            bh.delete();
        }
        LoopTesting.drain(ctx);
        assertEquals(java.util.Arrays.toString(before), java.util.Arrays.toString(runs));
        notifier.close();
        ctx.close();
    }

    /**
     * The loop's own schedules (local queue, no atomics) race schedules, cancels and one-shots from
     * other threads. Bottom halves scheduled from one side only are counted exactly; the shared
     * ones (scheduled from both sides, cancelled from other threads) must never lose their last
     * schedule, and run at most once per schedule call.
     */
    @Test
    void loopAndCrossThreadSchedulesAndCancelsLoseNoRunAndDuplicateNone() throws Exception {
        int perProducer = LONG ? 2_000_000 : 20_000;
        AioContext ctx = AioContext.create();
        AtomicLong ticket = new AtomicLong();
        // Shared bottom halves: scheduled by the loop and by producers, cancelled by producers.
        AtomicLongArray sharedCalls = new AtomicLongArray(BOTTOM_HALVES);
        AtomicLongArray sharedLastScheduled = new AtomicLongArray(BOTTOM_HALVES);
        long[] sharedRuns = new long[BOTTOM_HALVES];
        long[] sharedLastRun = new long[BOTTOM_HALVES];
        List<BottomHalf> shared = new ArrayList<>();
        // Loop-only bottom halves: scheduled from the driver's callback only, counted exactly.
        long[] localQueued = new long[BOTTOM_HALVES];
        long[] localRuns = new long[BOTTOM_HALVES];
        List<BottomHalf> loopOnly = new ArrayList<>();
        for (int i = 0; i < BOTTOM_HALVES; i++) {
            int id = i;
            shared.add(ctx.newBottomHalf(() -> {
                sharedLastRun[id] = ticket.get();
                sharedRuns[id]++;
            }));
            loopOnly.add(ctx.newBottomHalf(() -> localRuns[id]++));
        }
        long[] oneshotsQueuedByLoop = {0};
        AtomicLong oneshotsQueuedByProducers = new AtomicLong();
        AtomicLong oneshotRuns = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        int[] x = {12345};
        BottomHalf[] driver = new BottomHalf[1];
        driver[0] = ctx.newBottomHalf(() -> {
            for (int k = 0; k < 4; k++) {
                x[0] = x[0] * 1103515245 + 12345;
                int id = (x[0] >>> 16) % BOTTOM_HALVES;
                switch ((x[0] >>> 8) & 3) {
                    case 0 -> {
                        long t0 = ticket.incrementAndGet();
                        sharedCalls.incrementAndGet(id);
                        shared.get(id).schedule();
                        sharedLastScheduled.accumulateAndGet(id, t0, Math::max);
                    }
                    case 1 -> {
                        if (loopOnly.get(id).enqueue(BottomHalf.SCHEDULED, true)) {
                            localQueued[id]++;
                        }
                    }
                    case 2 -> {
                        loopOnly.get(id).cancel();
                        if (loopOnly.get(id).enqueue(BottomHalf.SCHEDULED, true)) {
                            localQueued[id]++;
                        }
                    }
                    default -> {
                        oneshotsQueuedByLoop[0]++;
                        ctx.scheduleOneshot(oneshotRuns::incrementAndGet);
                    }
                }
            }
            if (!stop.get()) {
                driver[0].schedule();
            }
        });
        driver[0].schedule();
        Thread loop = new Thread(() -> {
            while (!stop.get()) {
                ctx.poll(true);
            }
        }, "stress-loop");
        loop.start();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> producers = new ArrayList<>();
        for (int p = 0; p < PRODUCERS; p++) {
            int seed = p;
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                int y = seed * 7919 + 1;
                for (int i = 0; i < perProducer; i++) {
                    y = y * 1103515245 + 12345;
                    int id = (y >>> 16) % BOTTOM_HALVES;
                    BottomHalf bh = shared.get(id);
                    if (((y >>> 8) & 3) == 0) {
                        // A cancel is always followed by a schedule: the last schedule still wins.
                        bh.cancel();
                    }
                    if (((y >>> 10) & 7) == 0) {
                        oneshotsQueuedByProducers.incrementAndGet();
                        ctx.scheduleOneshot(oneshotRuns::incrementAndGet);
                    }
                    long t0 = ticket.incrementAndGet();
                    sharedCalls.incrementAndGet(id);
                    bh.schedule();
                    sharedLastScheduled.accumulateAndGet(id, t0, Math::max);
                }
            }, "stress-producer-" + p);
            producers.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : producers) {
            t.join();
        }
        stop.set(true);
        ctx.notifyEvent();
        loop.join();
        LoopTesting.drain(ctx);

        for (int i = 0; i < BOTTOM_HALVES; i++) {
            assertTrue(sharedLastRun[i] >= sharedLastScheduled.get(i), "last schedule of shared " + i + " lost");
            assertTrue(sharedRuns[i] <= sharedCalls.get(i), "shared " + i + " ran more often than scheduled");
            assertEquals(localQueued[i], localRuns[i], "runs of loop-only bottom half " + i);
        }
        assertEquals(oneshotsQueuedByLoop[0] + oneshotsQueuedByProducers.get(), oneshotRuns.get(), "one-shot runs");
        assertFalse(driver[0].isScheduled());
        ctx.close();
    }

    @Test
    void crossThreadSchedulesToABlockingIOThreadAreNeverLost() throws Exception {
        int rounds = LONG ? 200_000 : 5_000;
        try (IOThread io = IOThread.start("stress-io")) {
            AtomicLong runs = new AtomicLong();
            BottomHalf bh = io.context().newBottomHalf(runs::incrementAndGet);
            // Ping-pong: each schedule happens after the previous run, so each finds it idle and
            // must wake a loop that is (often) blocked.
            for (int i = 1; i <= rounds; i++) {
                bh.schedule();
                while (runs.get() < i) {
                    Thread.onSpinWait();
                }
            }
            assertEquals(rounds, runs.get());
        }
    }
}
