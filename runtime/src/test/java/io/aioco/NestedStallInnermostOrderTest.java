package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.internal.observe.StallWatcher;
import io.aioco.internal.observe.StallWatcher.Stall;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 2: when a callback of A polls B and B's callback blocks, both
 * probes are in a callback on one thread and only the innermost (B's) must be reported.
 * StallWatcher.check picks "the one in its callback since the latest time" by the time the watcher
 * FIRST SAW each dispatch; both entered their callbacks between two samples (the usual case: a
 * nested stall begins within one sampling interval), so both were first seen at the same sample and
 * the tie goes to the probe watched last, i.e. the context created last. With B created before A
 * (NestedPollOfAnotherContextStallTest creates A first, which hides it), the report names A's
 * callback, which is only waiting in B's poll, and B's blocking callback is never reported.
 * Deterministic: the watcher is driven with the test's own times, the callback blocks on a latch.
 */
@Timeout(30)
class NestedStallInnermostOrderTest {
    private static final long MS = 1_000_000;
    private static final long T0 = 1_000_000_000_000L;

    private static Runnable named(String name, Runnable r) {
        return new Runnable() {
            @Override
            public void run() {
                r.run();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    @Test
    void theInnermostStallIsReportedWhenTheInnerContextWasCreatedFirst() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext b = AioContext.create(); AioContext a = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(b.probe); // in creation order, as LoopObserve watches them
            w.watch(a.probe);
            CountDownLatch inB = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            b.newBottomHalf(named("blocks-in-B", () -> {
                inB.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            })).schedule();
            a.newBottomHalf(named("polls-B", () -> b.poll(false))).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv12-loop-A-then-B");
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
            assertEquals("blocks-in-B", reports.get(0).what(), "the innermost callback (B's) is the stall; reports: "
                    + reports);
            assertEquals(b.toString(), reports.get(0).loop());
        }
    }
}
