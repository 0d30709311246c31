package io.aioco.test;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.ClockType;
import io.aioco.Coroutine;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Two tests running at once on two threads have independent virtual times. */
class ParallelTimeTest {
    @Test
    void twoTestsTimesAreIndependentWhileBothRun() throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(2);
        CyclicBarrier bothSlept = new CyclicBarrier(2);
        long[] seen = new long[2];
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> run(() -> {
            Coroutine.sleepNs(ClockType.REALTIME, 1_000_000_000L);
            bothSlept.await(30, TimeUnit.SECONDS); // the other test has moved its time by now
            seen[0] = ClockType.REALTIME.nowNs();
            Coroutine.sleepNs(ClockType.VIRTUAL, 5);
            seen[0] += ClockType.VIRTUAL.nowNs();
        }), threads);
        CompletableFuture<Void> b = CompletableFuture.runAsync(() -> run(() -> {
            Coroutine.sleepNs(ClockType.REALTIME, 7_000_000_000L);
            bothSlept.await(30, TimeUnit.SECONDS);
            seen[1] = ClockType.REALTIME.nowNs();
        }), threads);
        a.get(60, TimeUnit.SECONDS);
        b.get(60, TimeUnit.SECONDS);
        threads.shutdown();
        assertEquals(1_000_000_000L + 1_000_000_005L, seen[0]);
        assertEquals(7_000_000_000L, seen[1]);
    }

    private static void run(io.aioco.CoroutineEntry body) {
        try {
            CoroutineTests.run(body);
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }
}
