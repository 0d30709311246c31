package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** iothread.c: a named thread running its context until closed. */
@Timeout(60)
class IOThreadTest {
    @Test
    void workScheduledFromOutsideRunsOnTheIOThreadWithItsContextCurrent() throws Exception {
        try (IOThread io = IOThread.start("io-test-1")) {
            CompletableFuture<Object[]> seen = new CompletableFuture<>();
            io.context().scheduleOneshot(() ->
                    seen.complete(new Object[] {Thread.currentThread(), AioContext.current()}));
            Object[] got = seen.get(30, TimeUnit.SECONDS);
            assertSame(io.thread(), got[0]);
            assertEquals("io-test-1", io.thread().getName());
            assertSame(io.context(), got[1]);
        }
    }

    @Test
    void exceptionFromACallbackGoesToTheUncaughtHandlerAndTheLoopGoesOn() throws Exception {
        try (IOThread io = IOThread.start("io-test-2")) {
            List<Throwable> reported = new ArrayList<>();
            CountDownLatch reportedLatch = new CountDownLatch(1);
            io.thread().setUncaughtExceptionHandler((t, e) -> {
                synchronized (reported) {
                    reported.add(e);
                }
                reportedLatch.countDown();
            });
            io.context().scheduleOneshot(() -> {
                throw new IllegalStateException("callback failed");
            });
            reportedLatch.await();
            CountDownLatch after = new CountDownLatch(1);
            io.context().scheduleOneshot(after::countDown);
            after.await();
            synchronized (reported) {
                assertEquals(1, reported.size());
                assertEquals("callback failed", reported.get(0).getMessage());
            }
        }
    }

    @Test
    void closeStopsJoinsAndDropsPendingWork() throws Exception {
        IOThread io = IOThread.start("io-test-3");
        AtomicInteger runsAfterClose = new AtomicInteger();
        ClockType.pauseVirtual();
        Timer t = io.context().newTimer(ClockType.VIRTUAL, runsAfterClose::incrementAndGet);
        t.modNs(ClockType.VIRTUAL.nowNs() + 1_000_000);
        BottomHalf bh = io.context().newBottomHalf(runsAfterClose::incrementAndGet);
        io.close();
        assertTrue(!io.thread().isAlive());
        ClockType.advanceVirtualNs(2_000_000);
        assertThrows(IllegalStateException.class, bh::schedule);
        assertThrows(IllegalStateException.class, () -> io.context().scheduleOneshot(() -> {}));
        assertEquals(0, runsAfterClose.get());
        io.close(); // idempotent
    }

    @Test
    void closeFromInsideItsOwnCallbackEndsTheThread() throws Exception {
        IOThread io = IOThread.start("io-test-4");
        AtomicInteger later = new AtomicInteger();
        io.context().scheduleOneshot(() -> {
            io.close();
            io.context().poll(false); // closed: throws, which ends nothing but this call
        });
        io.thread().join(30_000);
        assertTrue(!io.thread().isAlive());
        assertThrows(IllegalStateException.class, () -> io.context().scheduleOneshot(later::incrementAndGet));
        io.close();
    }

    @Test
    void contextOfARunningIOThreadCannotBeClosedFromOutside() {
        try (IOThread io = IOThread.start("io-test-5")) {
            LoopTesting.awaitParked(io.thread());
            assertThrows(IllegalStateException.class, () -> io.context().close());
        }
    }

    @Test
    void contextOfARunningIOThreadCannotBePolledFromOutsideEvenBetweenItsPolls() throws Exception {
        try (IOThread io = IOThread.start("io-test-6")) {
            CountDownLatch ran = new CountDownLatch(1);
            io.context().scheduleOneshot(ran::countDown);
            ran.await(); // the loop runs, so it holds the claim from now until it ends
            for (int i = 0; i < 100; i++) {
                assertThrows(IllegalStateException.class, () -> io.context().poll(false));
            }
            CountDownLatch again = new CountDownLatch(1);
            io.context().scheduleOneshot(again::countDown);
            again.await(); // and it still runs its context
        }
    }
}
