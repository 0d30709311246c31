package io.aioco;

import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Timers and clocks. VIRTUAL-clock tests pause the (JVM-wide) clock and work relative to its
 * reading, so they do not depend on each other or on real time.
 */
@Timeout(60)
class TimerTest {
    private final AioContext ctx = AioContext.create();
    private long base;

    @BeforeEach
    void pauseVirtualClock() {
        ClockType.pauseVirtual();
        base = ClockType.VIRTUAL.nowNs();
    }

    @AfterEach
    void closeContext() {
        ctx.close();
    }

    @Test
    void pausedVirtualClockMovesOnlyWhenAdvanced() {
        assertEquals(base, ClockType.VIRTUAL.nowNs());
        ClockType.advanceVirtualNs(1234);
        assertEquals(base + 1234, ClockType.VIRTUAL.nowNs());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ClockType.advanceVirtualNs(-1));
        assertEquals("ns: -1 (expected: >= 0)", e.getMessage());
    }

    @Test
    void resumedVirtualClockGoesOnFromWhereItStood() {
        ClockType.resumeVirtual();
        long t1 = ClockType.VIRTUAL.nowNs();
        assertTrue(t1 >= base);
        ClockType.pauseVirtual();
        long t2 = ClockType.VIRTUAL.nowNs();
        assertTrue(t2 >= t1);
        assertEquals(t2, ClockType.VIRTUAL.nowNs());
    }

    @Test
    void timerFiresWhenTheClockReachesItsDeadlineAndNotBefore() {
        AtomicInteger fired = new AtomicInteger();
        Timer t = ctx.newTimer(ClockType.VIRTUAL, fired::incrementAndGet);
        assertFalse(t.isPending());
        assertEquals(-1, t.expireTimeNs());
        t.modNs(base + 1000);
        assertTrue(t.isPending());
        assertEquals(base + 1000, t.expireTimeNs());
        assertFalse(ctx.poll(false));
        ClockType.advanceVirtualNs(999);
        assertFalse(ctx.poll(false));
        assertEquals(0, fired.get());
        ClockType.advanceVirtualNs(1);
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
        assertFalse(t.isPending());
        assertEquals(-1, t.expireTimeNs());
        assertFalse(ctx.poll(false));
    }

    @Test
    void timersFireInDeadlineOrderAndEqualDeadlinesInArmingOrder() {
        List<String> fired = new ArrayList<>();
        Timer c = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add("c"));
        Timer a = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add("a"));
        Timer b1 = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add("b1"));
        Timer b2 = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add("b2"));
        c.modNs(base + 30);
        b1.modNs(base + 20);
        a.modNs(base + 10);
        b2.modNs(base + 20);
        ClockType.advanceVirtualNs(100);
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "b1", "b2", "c"), fired);
    }

    @Test
    void deletedTimerDoesNotFire() {
        AtomicInteger fired = new AtomicInteger();
        Timer t = ctx.newTimer(ClockType.VIRTUAL, fired::incrementAndGet);
        t.modNs(base + 10);
        t.del();
        assertFalse(t.isPending());
        ClockType.advanceVirtualNs(100);
        assertFalse(ctx.poll(false));
        assertEquals(0, fired.get());
        t.del(); // idempotent
    }

    @Test
    void rearmingMovesTheDeadline() {
        AtomicInteger fired = new AtomicInteger();
        Timer t = ctx.newTimer(ClockType.VIRTUAL, fired::incrementAndGet);
        t.modNs(base + 10);
        t.modNs(base + 50);
        ClockType.advanceVirtualNs(20);
        assertFalse(ctx.poll(false));
        ClockType.advanceVirtualNs(30);
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
    }

    @Test
    void timerRearmedForNowFromItsCallbackFiresAtTheNextPollNotInALoop() {
        AtomicInteger fired = new AtomicInteger();
        Timer[] self = new Timer[1];
        self[0] = ctx.newTimer(ClockType.VIRTUAL, () -> {
            fired.incrementAndGet();
            self[0].modNs(ClockType.VIRTUAL.nowNs());
        });
        self[0].modNs(base);
        assertTrue(ctx.poll(false));
        assertEquals(1, fired.get());
        assertTrue(ctx.poll(true), "the re-armed timer is due, so this does not block");
        assertEquals(2, fired.get());
        self[0].del();
    }

    @Test
    void periodicTimerFiresOncePerPeriod() {
        AtomicInteger fired = new AtomicInteger();
        Timer[] self = new Timer[1];
        self[0] = ctx.newTimer(ClockType.VIRTUAL, () -> {
            fired.incrementAndGet();
            self[0].modNs(self[0].expireTimeNs() == -1 ? base + 100L * (fired.get() + 1) : -1);
        });
        self[0].modNs(base + 100);
        for (int i = 1; i <= 5; i++) {
            ClockType.advanceVirtualNs(100);
            assertTrue(ctx.poll(false));
            assertEquals(i, fired.get());
            assertFalse(ctx.poll(false));
        }
    }

    @Test
    void exceptionFromTimerPropagatesAfterTheLaterTimersDueRan() {
        // rv14 finding 1: one callback's exception never keeps the loop from the others.
        List<String> fired = new ArrayList<>();
        Timer failing = ctx.newTimer(ClockType.VIRTUAL, () -> {
            fired.add("failing");
            throw new IllegalStateException("timer boom");
        });
        Timer later = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add("later"));
        failing.modNs(base + 1);
        later.modNs(base + 2);
        ClockType.advanceVirtualNs(10);
        assertThrows(IllegalStateException.class, () -> ctx.poll(false));
        assertFalse(later.isPending());
        assertEquals(List.of("failing", "later"), fired);
        assertFalse(ctx.poll(false));
    }

    @Test
    void advancingTheVirtualClockWakesAContextBlockedOnAnotherThread() throws Exception {
        try (IOThread io = IOThread.start("virtual-timer-io")) {
            CountDownLatch fired = new CountDownLatch(1);
            AtomicLong firedAt = new AtomicLong();
            AtomicInteger wrongThread = new AtomicInteger();
            Timer t = io.context().newTimer(ClockType.VIRTUAL, () -> {
                firedAt.set(ClockType.VIRTUAL.nowNs());
                if (Thread.currentThread() != io.thread()) {
                    wrongThread.incrementAndGet();
                }
                fired.countDown();
            });
            t.modNs(base + 5_000_000);
            LoopTesting.awaitParked(io.thread());
            ClockType.advanceVirtualNs(5_000_000);
            fired.await();
            assertEquals(base + 5_000_000, firedAt.get());
            assertEquals(0, wrongThread.get());
        }
    }

    @Test
    void realtimeTimerNeverFiresEarly() {
        for (long delay : new long[] {50_000, 300_000, 1_500_000}) {
            AtomicLong lateness = new AtomicLong(Long.MIN_VALUE);
            long deadline = System.nanoTime() + delay;
            Timer t = ctx.newTimer(ClockType.REALTIME, () -> lateness.set(System.nanoTime() - deadline));
            t.modNs(deadline);
            while (lateness.get() == Long.MIN_VALUE) {
                ctx.poll(true);
            }
            assertTrue(lateness.get() >= 0, "fired " + -lateness.get() + " ns early");
        }
    }

    @Test
    void hostTimerNeverFiresEarly() {
        AtomicLong firedAt = new AtomicLong(Long.MIN_VALUE);
        long deadline = ClockType.HOST.nowNs() + 200_000;
        Timer t = ctx.newTimer(ClockType.HOST, () -> firedAt.set(ClockType.HOST.nowNs()));
        t.modNs(deadline);
        while (firedAt.get() == Long.MIN_VALUE) {
            ctx.poll(true);
        }
        assertTrue(firedAt.get() >= deadline);
    }

    @Test
    void timerArmedFromAnotherThreadWakesTheBlockedLoop() throws Exception {
        AtomicInteger fired = new AtomicInteger();
        Timer t = ctx.newTimer(ClockType.REALTIME, fired::incrementAndGet);
        Thread poller = Thread.currentThread();
        Thread armer = new Thread(() -> {
            LoopTesting.awaitParked(poller);
            t.modNs(System.nanoTime());
        });
        armer.start();
        while (fired.get() == 0) {
            ctx.poll(true);
        }
        armer.join();
        assertEquals(1, fired.get());
    }

    @Test
    void armingATimerOfAClosedContextFailsNamingIt() {
        Timer t = ctx.newTimer(ClockType.VIRTUAL, () -> {});
        t.modNs(base + 10);
        ctx.close();
        assertFalse(t.isPending());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.modNs(base + 20));
        assertTrue(e.getMessage().contains("Timer[VIRTUAL"), e.getMessage());
        assertEquals(0, drainClosedSafely());
    }

    private int drainClosedSafely() {
        return ctx.isClosed() ? 0 : drain(ctx);
    }

    /** The timer group reads clocks by index (internal/loop imports nothing public): the same order. */
    @Test
    void clockIndexesAreClockTypeOrdinals() {
        assertEquals(io.aioco.internal.loop.Clocks.REALTIME, ClockType.REALTIME.ordinal());
        assertEquals(io.aioco.internal.loop.Clocks.VIRTUAL, ClockType.VIRTUAL.ordinal());
        assertEquals(io.aioco.internal.loop.Clocks.HOST, ClockType.HOST.ordinal());
        assertEquals(io.aioco.internal.loop.Clocks.COUNT, ClockType.values().length);
    }
}
