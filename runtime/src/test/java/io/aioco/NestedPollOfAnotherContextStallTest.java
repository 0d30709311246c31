package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.observe.StallWatcher;
import io.aioco.internal.observe.StallWatcher.Stall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv17 (issue 17, item 5; its finding 8). A bottom half of context A that waits by polling ANOTHER
 * context B (poll(true): QEMU's AIO_WAIT_WHILE shape, or a helper that drives B until a reply
 * comes) keeps A from running anything for as long as B's poll blocks: A is stalled. The probe of
 * A is set idle for the nested poll and B's probe is idle while it waits in select, so the watcher
 * reports nothing at all, however long it lasts. (Nested polls of the SAME context are fine: they
 * run A's own work.) Fixed: the probe of A stays in its callback during a nested poll of another
 * context, and when both are stalled on one thread only the innermost is reported. Deterministic: the watcher is driven with the test's own times; B is woken
 * by a bottom half scheduled from the test once the checks are done.
 */
@Timeout(30)
class NestedPollOfAnotherContextStallTest {
    private static final long MS = 1_000_000;
    private static final long T0 = 1_000_000_000_000L;

    @Test
    void aCallbackBlockedInANestedPollOfAnotherContextIsAStallOfItsOwnContext() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext a = AioContext.create(); AioContext b = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(a.probe);
            w.watch(b.probe);
            CountDownLatch inNested = new CountDownLatch(1);
            Runnable waitOnB = new Runnable() {
                @Override
                public void run() {
                    inNested.countDown();
                    b.poll(true); // blocks until B has something: A runs nothing meanwhile
                }

                @Override
                public String toString() {
                    return "waits-on-B";
                }
            };
            a.newBottomHalf(waitOnB).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv17-loop-A");
            loop.start();
            inNested.await();
            while (!inSelect(loop)) {
                Thread.onSpinWait();
            }
            w.check(T0);
            w.check(T0 + 100 * MS);
            w.check(T0 + 1000 * MS);
            b.scheduleOneshot(() -> { }); // wakes B's poll: the callback returns
            loop.join();
            assertEquals(1, reports.size(), "A has run nothing for 1000 ms (its bottom half waits in B's"
                    + " select); reports: " + reports);
        }
    }

    @Test
    void whenBothAreStalledOnOneThreadOnlyTheInnermostIsReported() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext a = AioContext.create(); AioContext b = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(a.probe);
            w.watch(b.probe);
            CountDownLatch inB = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            Runnable blocks = new Runnable() {
                @Override
                public void run() {
                    inB.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }

                @Override
                public String toString() {
                    return "blocks-in-B";
                }
            };
            b.newBottomHalf(blocks).schedule();
            a.newBottomHalf(() -> b.poll(false)).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv17-loop-AB");
            loop.start();
            inB.await();
            while (loop.getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            w.check(T0);
            w.check(T0 + 100 * MS);
            w.check(T0 + 1000 * MS);
            release.countDown();
            loop.join();
            assertEquals(1, reports.size(), "reports: " + reports);
            assertEquals("blocks-in-B", reports.get(0).what());
        }
    }

    /**
     * Review rv17c, finding 6. A bottom half of A polls B, whose bottom half polls A again (a
     * nested poll of A reached through B), and then the outer bottom half runs on for a long time.
     * The nested poll of A saved A's probe only when A was the thread's innermost context polled
     * (it was B), so it did not save the outer dispatch: it ended by marking A idle, and the rest of
     * the outer callback, however long, was never reported. Deterministic: the watcher is driven
     * with the test's own times, the outer callback blocks on a latch.
     */
    @Test
    void aCallbackOfAThatPolledAThroughBIsStillReportedWhenItRunsLongAfterwards() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext a = AioContext.create(); AioContext b = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(a.probe);
            w.watch(b.probe);
            CountDownLatch blocked = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            boolean[] innerRan = new boolean[1];
            BottomHalf pollsA = b.newBottomHalf(() -> {
                a.newBottomHalf(() -> innerRan[0] = true).schedule();
                a.poll(false); // A polled again, through B: runs A's own work
            });
            Runnable outer = new Runnable() {
                @Override
                public void run() {
                    pollsA.schedule();
                    b.poll(false);
                    blocked.countDown();
                    try {
                        release.await(); // the rest of the callback: A runs nothing meanwhile
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }

                @Override
                public String toString() {
                    return "outer-of-A";
                }
            };
            a.newBottomHalf(outer).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv17c-loop-ABA");
            loop.start();
            blocked.await();
            while (loop.getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            w.check(T0);
            w.check(T0 + 100 * MS);
            release.countDown();
            loop.join();
            assertTrue(innerRan[0], "the nested poll of A ran A's bottom half");
            assertEquals(1, reports.size(), "A's bottom half has run for 100 ms after its nested polls returned;"
                    + " reports: " + reports);
            assertEquals("outer-of-A", reports.get(0).what());
            assertEquals(a.toString(), reports.get(0).loop());
        }
    }

    private static boolean inSelect(Thread t) {
        for (StackTraceElement f : t.getStackTrace()) {
            if (f.getMethodName().contains("select") || f.getMethodName().startsWith("park")) {
                return true;
            }
        }
        return false;
    }
}
