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
 * Review rv12b, item 4: the nesting depth of the stall watcher (6a5e086), the kind kept between polls
 * (108dab6) and the save of the probe in AioContext.pollClaimed (324e8bc): A -> B -> A, and a
 * callback that throws out of a nested poll. Deterministic: the watcher is driven with the test's
 * own times, the callbacks block on latches, and the loop thread is seen WAITING before each sample.
 */
@Timeout(60)
class NestedStallStagesTest {
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

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** Waits until {@code reached} is open and {@code loop} waits (on the callback's latch). */
    private static void blocked(CountDownLatch reached, Thread loop) throws InterruptedException {
        reached.await();
        while (loop.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
    }

    private static String describe(List<Stall> reports) {
        List<String> out = new ArrayList<>();
        for (Stall s : reports) {
            out.add(s.loop() + ":" + s.what() + "#" + s.report());
        }
        return out.toString();
    }

    /**
     * A's callback polls B, whose callback polls A again: the innermost (A's inner callback), then
     * B's callback once A's inner poll returned, then A's outer callback once B's poll returned.
     */
    @Test
    void aThenBThenAReportsTheInnermostAtEachStage() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext a = AioContext.create(); AioContext b = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(a.probe);
            w.watch(b.probe);
            CountDownLatch[] reached = {new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1)};
            CountDownLatch[] release = {new CountDownLatch(1), new CountDownLatch(1), new CountDownLatch(1)};
            Runnable innerA = named("inner-A", () -> {
                reached[0].countDown();
                await(release[0]);
            });
            b.newBottomHalf(named("b-cb", () -> {
                a.newBottomHalf(innerA).schedule();
                a.poll(false); // A -> B -> A
                reached[1].countDown();
                await(release[1]);
            })).schedule();
            a.newBottomHalf(named("outer-A", () -> {
                b.poll(false);
                reached[2].countDown();
                await(release[2]);
            })).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv12b-A-B-A");
            loop.start();
            long now = T0;
            List<String> stages = new ArrayList<>();
            for (int stage = 0; stage < 3; stage++) {
                blocked(reached[stage], loop);
                reports.clear();
                w.check(now);
                w.check(now + 100 * MS);
                stages.add(describe(reports));
                now += 1000 * MS;
                release[stage].countDown();
            }
            loop.join();
            assertEquals(List.of("[" + a + ":inner-A#1]", "[" + b + ":b-cb#1]", "[" + a + ":outer-A#1]"), stages,
                    "the reports made while each of inner-A, b-cb, outer-A blocked");
        }
    }

    /**
     * A callback polls its own context (by hand, so the inner callback's exception is thrown out of
     * the nested poll), catches the exception and then blocks: its own rest is the stall, reported
     * under its name and kind (the probe saved by the nested poll is restored in its finally).
     */
    @Test
    void theRestOfACallbackWhoseNestedPollThrewIsReported() throws Exception {
        List<Stall> reports = new ArrayList<>();
        try (AioContext a = AioContext.create(); AioContext b = AioContext.create()) {
            StallWatcher w = new StallWatcher(100, 5000, reports::add);
            w.watch(a.probe);
            w.watch(b.probe);
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            List<Throwable> caught = new ArrayList<>();
            a.newBottomHalf(named("outer", () -> {
                a.newBottomHalf(named("thrower-A", () -> {
                    throw new IllegalStateException("rv12b inner A");
                })).schedule();
                b.newBottomHalf(named("thrower-B", () -> {
                    throw new IllegalStateException("rv12b inner B");
                })).schedule();
                try {
                    a.poll(false); // A -> A
                } catch (IllegalStateException e) {
                    caught.add(e);
                }
                try {
                    b.poll(false); // A -> B
                } catch (IllegalStateException e) {
                    caught.add(e);
                }
                reached.countDown();
                await(release);
            })).schedule();
            Thread loop = new Thread(() -> a.poll(false), "rv12b-throwing-nested");
            loop.start();
            blocked(reached, loop);
            w.check(T0);
            w.check(T0 + 100 * MS);
            release.countDown();
            loop.join();
            assertEquals(2, caught.size(), "both nested polls threw their callback's exception: " + caught);
            assertEquals("[" + a + ":outer#1]", describe(reports));
            assertEquals("bottom half", reports.get(0).kindName());
            assertTrue(reports.get(0).thread() == loop);
        }
    }
}
