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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coroutine dump's deadlock report is always true (review rv17b #1): a dump reads who holds
 * what one coroutine at a time while the coroutines run, and must not join edges read at
 * different moments into a cycle. A stress test with an exact invariant, bounded by a number of
 * dumps: eight coroutines on four IOThreads take ONE CoMutex in turn (no deadlock is possible),
 * and no dump taken meanwhile may report one. The suite runs with probes on, so the suspended
 * waiters and their edges are all in each dump.
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
}
