package io.aioco.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoSleep;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.CoroutineTimeoutException;
import io.aioco.Timer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The test's virtual time: every clock reads it, and it jumps to the next deadline when idle. */
class VirtualTimeTest {
    private static final long MINUTE_NS = 60_000_000_000L;

    @CoroutineTest
    @CoroutineFn
    void tenMinuteTimeoutResolvesInVirtualTimeOnEveryClock() throws Exception {
        for (ClockType clock : ClockType.values()) {
            long start = clock.nowNs();
            long realStart = ClockType.REALTIME.nowNs();
            try {
                Coroutine.withTimeoutNs(clock, 10 * MINUTE_NS, () -> {
                    Coroutine.sleepNs(clock, 60 * MINUTE_NS);
                    return null;
                });
                throw new AssertionError("the timeout on " + clock + " did not expire");
            } catch (CoroutineTimeoutException expected) {
                // the ten minutes passed
            }
            // exactly the timeout: the time jumped to its deadline, not to the sleep's
            assertEquals(10 * MINUTE_NS, clock.nowNs() - start, clock.name());
            assertEquals(10 * MINUTE_NS, ClockType.REALTIME.nowNs() - realStart, "all clocks move together");
        }
        assertEquals(30 * MINUTE_NS, ClockType.VIRTUAL.nowNs());
    }

    @CoroutineTest
    @CoroutineFn
    void timeStartsAtZeroAndMovesOnlyToDeadlines() {
        assertEquals(0, ClockType.REALTIME.nowNs());
        assertEquals(0, ClockType.VIRTUAL.nowNs());
        Coroutine.sleepNs(ClockType.REALTIME, 1_234);
        assertEquals(1_234, ClockType.REALTIME.nowNs());
        AioContext.current().spawn(() -> 1); // ready at once: runs without moving the time
        Coroutine.sleepNs(ClockType.VIRTUAL, 0);
        assertEquals(1_234, ClockType.VIRTUAL.nowNs());
    }

    @CoroutineFn
    private static void sleepThenLog(List<String> log, String name, long ns) {
        Coroutine.sleepNs(ClockType.HOST, ns);
        log.add(name + "@" + ClockType.VIRTUAL.nowNs());
    }

    @CoroutineTest
    @CoroutineFn
    void coroutinesAndTimersWakeInDeadlineOrderAtTheirDeadlines() throws Exception {
        AioContext ctx = AioContext.current();
        List<String> log = new ArrayList<>();
        var c = ctx.spawn(() -> {
            sleepThenLog(log, "c", 3_000);
            return null;
        });
        var a = ctx.spawn(() -> {
            sleepThenLog(log, "a", 1_000);
            return null;
        });
        Timer timer = ctx.newTimer(ClockType.VIRTUAL, () -> log.add("timer@" + ClockType.REALTIME.nowNs()));
        timer.modNs(2_000);
        Coroutine.await(c);
        Coroutine.await(a);
        assertEquals(List.of("a@1000", "timer@2000", "c@3000"), log);
    }

    @CoroutineTest
    @CoroutineFn
    void coSleepWokenEarlyDoesNotMoveTheTime() {
        AioContext ctx = AioContext.current();
        CoSleep sleep = new CoSleep();
        ctx.scheduleOneshot(sleep::wake);
        sleep.sleepNs(ClockType.VIRTUAL, MINUTE_NS);
        assertEquals(0, ClockType.VIRTUAL.nowNs());
    }

    @CoroutineTest
    @CoroutineFn
    void threadPoolWorkIsWaitedForBeforeTheTimeMoves() throws Exception {
        AioContext ctx = AioContext.current();
        // the worker's result comes back while a one-minute timer is armed: the time must not jump
        Timer timer = ctx.newTimer(ClockType.VIRTUAL, () -> { });
        timer.modNs(MINUTE_NS);
        int v = ctx.threadPool().submitCo(() -> 42);
        assertEquals(42, v);
        assertEquals(0, ClockType.VIRTUAL.nowNs());
        timer.del();
    }

    @CoroutineTest
    @CoroutineFn
    void aFutureAnotherThreadCompletesIsWaitedForNotTakenForADeadlock() throws Exception {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        Thread testThread = Thread.currentThread();
        Thread completer = new Thread(() -> {
            // completes only once the test's thread blocks (the driver waits for the future), so
            // a driver that reports a deadlock instead is caught every time
            while (testThread.getState() != Thread.State.WAITING && testThread.getState() != Thread.State.TIMED_WAITING) {
                Thread.onSpinWait();
            }
            future.complete(7);
        });
        completer.start();
        assertEquals(7, Coroutine.await(future));
        assertEquals(0, ClockType.VIRTUAL.nowNs());
    }

    @CoroutineTest(realTime = true)
    @CoroutineFn
    void realTimeOnRequestReadsTheMachinesClocks() {
        long before = System.nanoTime();
        long now = ClockType.REALTIME.nowNs();
        long after = System.nanoTime();
        assertTrue(before <= now && now <= after, before + " <= " + now + " <= " + after);
        long start = ClockType.REALTIME.nowNs();
        Coroutine.sleepNs(ClockType.REALTIME, 1_000_000);
        assertTrue(ClockType.REALTIME.nowNs() - start >= 1_000_000, "a real sleep of 1 ms");
    }
}
