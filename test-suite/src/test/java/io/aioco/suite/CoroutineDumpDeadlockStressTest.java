package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThreadGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coroutine dump's deadlock report is always true (review rv17b #1): a dump reads who holds
 * what one coroutine at a time while the coroutines run, and must not join edges read at
 * different moments into a cycle. A stress test with an exact invariant, bounded by a number of
 * dumps: eight coroutines on four IOThreads take ONE CoMutex in turn (no deadlock is possible),
 * and no dump taken meanwhile may report one. The suite runs with probes on, so the suspended
 * waiters and their edges are all in each dump. Also: a dump lists every live coroutine, even one
 * at its first suspension (review rv17b #13).
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CoroutineDumpDeadlockStressTest {
    private static final int WORKERS = 8;
    private static final int DUMPS = 6_000;

    @CoroutineFn
    private static void takeInTurn(CoMutex m, AtomicBoolean stop, AtomicLong turns) {
        while (!stop.get()) {
            m.lock();
            Coroutine.sleepNs(ClockType.REALTIME, 10_000); // held across a suspension: the others queue behind it
            turns.incrementAndGet();
            m.unlock();
        }
    }

    @Test
    void aSingleMutexTakenInTurnIsNeverReportedAsADeadlock() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong turns = new AtomicLong();
        CountDownLatch ended = new CountDownLatch(WORKERS);
        List<Coroutine> workers = new ArrayList<>();
        String falseReport = null;
        int dumps = 0;
        try (IOThreadGroup group = IOThreadGroup.start("stress-dump-lock", 4)) {
            CoMutex m = new CoMutex();
            for (int i = 0; i < WORKERS; i++) {
                AioContext ctx = group.next();
                Coroutine co = Coroutine.create("stress-w" + i, () -> {
                    try {
                        takeInTurn(m, stop, turns);
                    } finally {
                        ended.countDown();
                    }
                });
                workers.add(co);
                ctx.scheduleOneshot(() -> co.enter(ctx));
            }
            try {
                for (; dumps < DUMPS && falseReport == null; dumps++) {
                    StringBuilder out = new StringBuilder();
                    Coroutine.dump(out);
                    if (out.indexOf("Found a coroutine deadlock") >= 0) {
                        falseReport = out.toString();
                    }
                }
            } finally {
                stop.set(true);
            }
            ended.await(); // every worker ends: there was no deadlock
        }
        assertNull(falseReport, "a deadlock reported for one mutex taken in turn, at dump " + dumps + " of " + DUMPS
                + " (" + turns.get() + " turns):\n" + falseReport);
        assertEquals(DUMPS, dumps);
    }

    private static final int THREADS = 4;
    private static final int LISTING_DUMPS = 2_000;

    /**
     * On each of four IOThreads a bottom half creates coroutine after coroutine, enters it (it
     * publishes itself, then yields: its first suspension, where it registers for the dump), and
     * enters it again to its end. Invariant: a coroutine published before a dump began and not
     * terminated after it ended was live throughout, and is listed. The window tested: at its first
     * suspension a coroutine has left its thread's carrier before it registers.
     */
    @Test
    void everyLiveCoroutineIsListedEvenAtItsFirstSuspension() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReferenceArray<Coroutine> current = new AtomicReferenceArray<>(THREADS);
        CountDownLatch ended = new CountDownLatch(THREADS);
        AtomicLong created = new AtomicLong();
        java.util.concurrent.atomic.AtomicReference<Throwable> churnFailed = new java.util.concurrent.atomic.AtomicReference<>();
        String missing = null;
        int dumps = 0;
        try (IOThreadGroup group = IOThreadGroup.start("stress-dump-first", THREADS)) {
            for (int t = 0; t < THREADS; t++) {
                int slot = t;
                AioContext ctx = group.next();
                Runnable[] churn = new Runnable[1];
                churn[0] = () -> {
                    if (stop.get() || churnFailed.get() != null) {
                        ended.countDown();
                        return;
                    }
                    Coroutine[] self = new Coroutine[1];
                    self[0] = Coroutine.create("stress-first", () -> {
                        current.set(slot, self[0]);
                        Coroutine.yield(); // its first suspension
                    });
                    try {
                        self[0].enter(ctx);
                        self[0].enter(ctx); // to its end
                    } catch (RuntimeException | Error e) {
                        churnFailed.compareAndSet(null, e);
                    }
                    current.compareAndSet(slot, self[0], null);
                    created.incrementAndGet();
                    ctx.scheduleOneshot(churn[0]);
                };
                ctx.scheduleOneshot(churn[0]);
            }
            try {
                for (; dumps < LISTING_DUMPS && missing == null && churnFailed.get() == null; dumps++) {
                    List<Coroutine> before = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        Coroutine co = current.get(t);
                        if (co != null) {
                            before.add(co);
                        }
                    }
                    StringBuilder out = new StringBuilder();
                    Coroutine.dump(out);
                    String dump = out.toString();
                    for (Coroutine co : before) {
                        String id = "Coroutine@" + Integer.toHexString(System.identityHashCode(co));
                        if (!co.isTerminated() && !dump.contains(id + " context=")) {
                            missing = id + " (live before and after the dump) is not listed:\n" + dump;
                        }
                    }
                }
            } finally {
                stop.set(true);
            }
            ended.await();
        }
        assertNull(churnFailed.get());
        assertNull(missing, "at dump " + dumps + " of " + LISTING_DUMPS + " (" + created.get() + " coroutines): " + missing);
        assertEquals(LISTING_DUMPS, dumps);
    }
}
