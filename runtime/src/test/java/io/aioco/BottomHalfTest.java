package io.aioco;

import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU's tests/unit/test-aio.c bottom-half cases, and the rest of BottomHalf's contract. */
@Timeout(60)
class BottomHalfTest {
    private final AioContext ctx = AioContext.create();

    @AfterEach
    void closeContext() {
        ctx.close();
    }

    @Test
    void bottomHalfScheduledRunsOnceAtNextPoll() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        assertFalse(ctx.poll(false));
        bh.schedule();
        assertEquals(0, runs.get());
        assertTrue(ctx.poll(true));
        assertEquals(1, runs.get());
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void bottomHalfScheduledTwiceWhilePendingRunsOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        bh.schedule();
        assertTrue(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void bottomHalfCancelledBeforePollDoesNotRun() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        bh.cancel();
        assertFalse(ctx.poll(false));
        assertEquals(0, runs.get());
    }

    @Test
    void bottomHalfRescheduledAfterCancelRunsOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        bh.cancel();
        bh.schedule();
        assertTrue(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void bottomHalfDeletedBeforePollDoesNotRun() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        bh.delete();
        assertFalse(ctx.poll(false));
        assertEquals(0, runs.get());
    }

    @Test
    void bottomHalfDeletedFromOwnCallbackRunsOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf[] self = new BottomHalf[1];
        self[0] = ctx.newBottomHalf(() -> {
            runs.incrementAndGet();
            self[0].delete();
        });
        self[0].schedule();
        assertTrue(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
        assertTrue(self[0].isDeleted());
    }

    @Test
    void bottomHalvesDeletingThemselvesAndEachOtherFromCallbacks() {
        // test_bh_delete_from_cb_many: a deletes itself, b deletes c (pending in the same poll), d runs.
        List<String> ran = new ArrayList<>();
        BottomHalf[] bhs = new BottomHalf[4];
        bhs[0] = ctx.newBottomHalf(() -> {
            ran.add("a");
            bhs[0].delete();
        });
        bhs[1] = ctx.newBottomHalf(() -> {
            ran.add("b");
            bhs[2].delete();
        });
        bhs[2] = ctx.newBottomHalf(() -> ran.add("c"));
        bhs[3] = ctx.newBottomHalf(() -> ran.add("d"));
        for (BottomHalf bh : bhs) {
            bh.schedule();
        }
        assertTrue(ctx.poll(false));
        assertFalse(ctx.poll(false));
        assertEquals(List.of("a", "b", "d"), ran);
    }

    @Test
    void bottomHalfRescheduledFromCallbackRunsInNextPollWhichDoesNotBlock() {
        // test_bh_schedule10: each poll runs it once; poll(true) does not block while it is pending.
        AtomicInteger runs = new AtomicInteger();
        BottomHalf[] self = new BottomHalf[1];
        self[0] = ctx.newBottomHalf(() -> {
            if (runs.incrementAndGet() < 10) {
                self[0].schedule();
            }
        });
        self[0].schedule();
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        for (int i = 2; i <= 10; i++) {
            assertTrue(ctx.poll(true));
            assertEquals(i, runs.get());
        }
        assertFalse(ctx.poll(false));
        assertEquals(10, runs.get());
    }

    @Test
    void bottomHalfScheduledByAnotherDuringDispatchRunsInNextPoll() {
        List<String> ran = new ArrayList<>();
        BottomHalf second = ctx.newBottomHalf(() -> ran.add("second"));
        BottomHalf first = ctx.newBottomHalf(() -> {
            ran.add("first");
            second.schedule();
        });
        first.schedule();
        assertTrue(ctx.poll(false));
        assertEquals(List.of("first"), ran);
        assertTrue(ctx.poll(true));
        assertEquals(List.of("first", "second"), ran);
    }

    @Test
    void bottomHalvesRunInSchedulingOrder() {
        List<Integer> ran = new ArrayList<>();
        List<BottomHalf> bhs = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int id = i;
            bhs.add(ctx.newBottomHalf(() -> ran.add(id)));
        }
        for (int i : new int[] {3, 1, 4, 0, 2}) {
            bhs.get(i).schedule();
        }
        assertTrue(ctx.poll(false));
        assertEquals(List.of(3, 1, 4, 0, 2), ran);
    }

    @Test
    void schedulingDeletedBottomHalfFailsNamingIt() {
        Runnable cb = new Runnable() {
            @Override
            public void run() {}

            @Override
            public String toString() {
                return "the-callback";
            }
        };
        BottomHalf bh = ctx.newBottomHalf(cb);
        bh.delete();
        IllegalStateException e = assertThrows(IllegalStateException.class, bh::schedule);
        assertTrue(e.getMessage().contains("the-callback"), e.getMessage());
        assertTrue(e.getMessage().contains("delete()"), e.getMessage());
        assertThrows(IllegalStateException.class, bh::scheduleIdle);
        assertFalse(ctx.poll(false));
    }

    @Test
    void idleBottomHalfRunsWithoutCountingAsProgress() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.scheduleIdle();
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void blockingPollWithOnlyAnIdleBottomHalfReturnsAfterRunningIt() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.scheduleIdle();
        // Nothing else can wake it: it returns because idle bottom halves bound the wait (~10 ms).
        assertFalse(ctx.poll(true));
        assertEquals(1, runs.get());
    }

    @Test
    void oneshotRunsOnceAtNextPoll() {
        AtomicInteger runs = new AtomicInteger();
        ctx.scheduleOneshot(runs::incrementAndGet);
        ctx.scheduleOneshot(runs::incrementAndGet);
        assertTrue(ctx.poll(false));
        assertEquals(2, runs.get());
        assertFalse(ctx.poll(false));
    }

    @Test
    void exceptionFromBottomHalfPropagatesAfterTheRestOfThePollRan() {
        // rv14 finding 1: one callback's exception never keeps the loop from the others.
        List<String> ran = new ArrayList<>();
        BottomHalf failing = ctx.newBottomHalf(() -> {
            ran.add("failing");
            throw new IllegalArgumentException("boom");
        });
        BottomHalf after = ctx.newBottomHalf(() -> ran.add("after"));
        failing.schedule();
        after.schedule();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ctx.poll(false));
        assertEquals("boom", e.getMessage());
        assertEquals(List.of("failing", "after"), ran);
        assertFalse(ctx.poll(false), "nothing is left pending");
        failing.schedule();
        assertThrows(IllegalArgumentException.class, () -> ctx.poll(false));
    }

    @Test
    void notifyMakesTheNextBlockingPollReturnFalse() {
        // test_notify
        assertFalse(ctx.poll(false));
        ctx.notifyEvent();
        assertFalse(ctx.poll(true));
        assertFalse(ctx.poll(false));
    }

    @Test
    void notifyFromAnotherThreadWakesBlockedPollWhichReturnsFalse() throws Exception {
        Thread poller = Thread.currentThread();
        Thread notifier = new Thread(() -> {
            LoopTesting.awaitParked(poller);
            ctx.notifyEvent();
        });
        notifier.start();
        assertFalse(ctx.poll(true));
        notifier.join();
    }

    @Test
    void bottomHalfScheduledFromAnotherThreadWakesBlockedPoll() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        Thread poller = Thread.currentThread();
        Thread scheduler = new Thread(() -> {
            LoopTesting.awaitParked(poller);
            bh.schedule();
        });
        scheduler.start();
        while (runs.get() == 0) {
            ctx.poll(true);
        }
        scheduler.join();
        assertEquals(1, runs.get());
    }

    @Test
    void currentIsTheContextBeingPolledOnAPlainThread() throws Exception {
        AioContext[] seen = new AioContext[2];
        AioContext before = LoopTesting.onFreshThread(() -> {
            ctx.scheduleOneshot(() -> seen[0] = AioContext.current());
            AioContext other = AioContext.create();
            other.scheduleOneshot(() -> seen[1] = AioContext.current());
            ctx.scheduleOneshot(() -> other.poll(false)); // nested poll of another context
            drain(ctx);
            other.close();
            return AioContext.current();
        });
        assertSame(ctx, seen[0]);
        assertEquals("AioContext", seen[1].toString().substring(0, 10));
        assertTrue(seen[1] != ctx);
        assertEquals(null, before);
    }

    @Test
    void pollFromASecondThreadWhileOneIsPollingFails() throws Exception {
        java.util.concurrent.CountDownLatch inside = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        ctx.scheduleOneshot(() -> {
            inside.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Thread poller = new Thread(() -> ctx.poll(false), "first-poller");
        poller.start();
        inside.await();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ctx.poll(false));
        assertTrue(e.getMessage().contains("first-poller"), e.getMessage());
        assertThrows(IllegalStateException.class, ctx::close);
        release.countDown();
        poller.join();
        assertFalse(ctx.poll(false));
    }

    @Test
    void nestedPollFromCallbackRunsWorkScheduledBeforeIt() {
        List<String> ran = new ArrayList<>();
        BottomHalf inner = ctx.newBottomHalf(() -> ran.add("inner"));
        ctx.scheduleOneshot(() -> {
            inner.schedule();
            ran.add("outer");
            assertTrue(ctx.poll(true));
            ran.add("outer-done");
        });
        assertTrue(ctx.poll(false));
        assertEquals(List.of("outer", "inner", "outer-done"), ran);
    }

    @Test
    void closingWithPendingWorkDropsItAndRejectsNewWork() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        ctx.scheduleOneshot(runs::incrementAndGet);
        ctx.close();
        ctx.close(); // idempotent
        assertEquals(0, runs.get());
        assertThrows(IllegalStateException.class, () -> ctx.poll(false));
        IllegalStateException e = assertThrows(IllegalStateException.class, bh::schedule);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> ctx.newBottomHalf(() -> {}));
        assertThrows(IllegalStateException.class, () -> ctx.scheduleOneshot(() -> {}));
        ctx.notifyEvent(); // harmless
    }

    @Test
    void closingFromOwnCallbackStopsTheDispatchInProgress() {
        AtomicInteger runs = new AtomicInteger();
        ctx.scheduleOneshot(ctx::close);
        ctx.scheduleOneshot(runs::incrementAndGet);
        ctx.poll(false);
        assertEquals(0, runs.get());
        assertThrows(IllegalStateException.class, () -> ctx.poll(false));
    }

    // Schedules made by the loop thread (from callbacks: the loop-owned queue) against schedules,
    // cancels and deletes from other threads. Each other-thread call is joined before going on.

    private static void onOtherThread(Runnable r) {
        try {
            LoopTesting.onFreshThread(() -> {
                r.run();
                return null;
            });
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** Schedules a bottom half that runs {@code body} on the loop, and polls once to run it. */
    private void inCallback(Runnable body) {
        ctx.newBottomHalf(body).schedule();
        assertTrue(ctx.poll(false));
    }

    @Test
    void bottomHalfScheduledByTheLoopAndFromAnotherThreadBeforeItRunsRunsOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            bh.schedule();
            onOtherThread(bh::schedule);
            assertTrue(bh.isScheduled());
        });
        assertEquals(0, runs.get());
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        assertFalse(bh.isScheduled());
        assertEquals(0, drain(ctx));
        assertEquals(1, runs.get());
    }

    @Test
    void bottomHalfScheduledFromAnotherThreadThenByTheLoopRunsOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            onOtherThread(bh::schedule);
            bh.schedule();
        });
        assertTrue(ctx.poll(false));
        assertEquals(0, drain(ctx));
        assertEquals(1, runs.get());
    }

    @Test
    void cancelFromAnotherThreadUndoesAScheduleMadeByTheLoop() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            bh.schedule();
            onOtherThread(bh::cancel);
            assertFalse(bh.isScheduled());
        });
        assertEquals(0, drain(ctx));
        assertEquals(0, runs.get());
        bh.schedule(); // and it can be scheduled again
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void scheduleByTheLoopAfterACancelFromAnotherThreadRuns() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        onOtherThread(bh::cancel);
        inCallback(() -> {
            bh.schedule();
            onOtherThread(bh::cancel);
            bh.schedule();
        });
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void cancelByTheLoopUndoesAScheduleFromAnotherThread() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            onOtherThread(bh::schedule);
            bh.cancel();
            assertFalse(bh.isScheduled());
        });
        assertEquals(0, drain(ctx));
        assertEquals(0, runs.get());
    }

    @Test
    void deleteFromAnotherThreadDropsAScheduleMadeByTheLoop() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            bh.schedule();
            onOtherThread(bh::delete);
            assertThrows(IllegalStateException.class, bh::schedule);
        });
        assertEquals(0, drain(ctx));
        assertEquals(0, runs.get());
    }

    @Test
    void scheduleFromAnotherThreadWhileTheCallbackRunsRunsItAgainInTheNextPoll() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf[] bh = new BottomHalf[1];
        bh[0] = ctx.newBottomHalf(() -> {
            if (runs.incrementAndGet() == 1) {
                onOtherThread(bh[0]::schedule);
            }
        });
        inCallback(bh[0]::schedule);
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        assertTrue(ctx.poll(false));
        assertEquals(2, runs.get());
        assertEquals(0, drain(ctx));
    }

    @Test
    void schedulesFromTheLoopAndFromOtherThreadsRunInTheOrderTheyWereMade() {
        List<String> ran = new ArrayList<>();
        BottomHalf w = ctx.newBottomHalf(() -> ran.add("w"));
        BottomHalf x = ctx.newBottomHalf(() -> ran.add("x"));
        BottomHalf y = ctx.newBottomHalf(() -> ran.add("y"));
        BottomHalf z = ctx.newBottomHalf(() -> ran.add("z"));
        inCallback(() -> {
            onOtherThread(x::schedule);
            y.schedule();
            onOtherThread(z::schedule);
            w.schedule();
            onOtherThread(() -> ctx.scheduleOneshot(() -> ran.add("oneshot-other")));
            ctx.scheduleOneshot(() -> ran.add("oneshot-loop"));
        });
        assertTrue(ctx.poll(false));
        assertEquals(List.of("x", "y", "z", "w", "oneshot-other", "oneshot-loop"), ran);
    }

    @Test
    void bottomHalfQueuedFromAnotherThreadThenCancelledAndRescheduledByTheLoopKeepsItsPlace() {
        List<String> ran = new ArrayList<>();
        BottomHalf y = ctx.newBottomHalf(() -> ran.add("y"));
        BottomHalf[] x = new BottomHalf[1];
        BottomHalf a = ctx.newBottomHalf(() -> {
            ran.add("a");
            x[0].cancel();
            y.schedule();
            x[0].schedule(); // x is still queued in this poll's slice: it runs there, as in QEMU
        });
        x[0] = ctx.newBottomHalf(() -> ran.add("x"));
        a.schedule(); // from this thread, which is not polling: through the shared list
        x[0].schedule();
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "x"), ran);
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "x", "y"), ran);
    }

    @Test
    void idleBottomHalfScheduledByTheLoopDoesNotCountAsProgress() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(bh::scheduleIdle);
        assertTrue(bh.isScheduled());
        assertFalse(ctx.poll(true)); // waits up to the idle timeout, then runs it
        assertEquals(1, runs.get());
    }

    @Test
    void bottomHalfScheduledByTheLoopThenFromAnotherThreadKeepsItsPlaceAndCanBeScheduledAgain() {
        List<String> ran = new ArrayList<>();
        BottomHalf a = ctx.newBottomHalf(() -> ran.add("a"));
        BottomHalf b = ctx.newBottomHalf(() -> ran.add("b"));
        inCallback(() -> {
            a.schedule();
            b.schedule();
            onOtherThread(a::schedule); // merged into a's entry, ahead of b
        });
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "b"), ran);
        assertEquals(0, drain(ctx));
        onOtherThread(a::schedule); // PENDING was cleared by the merged run
        assertTrue(ctx.poll(false));
        inCallback(a::schedule);
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "b", "a", "a"), ran);
        assertEquals(0, drain(ctx));
    }

    @Test
    void cancelFromAnotherThreadUndoesBothSchedulesOfAMergedEntry() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = ctx.newBottomHalf(runs::incrementAndGet);
        inCallback(() -> {
            bh.schedule();
            onOtherThread(bh::schedule);
            onOtherThread(bh::cancel);
            assertFalse(bh.isScheduled());
        });
        assertEquals(0, drain(ctx));
        assertEquals(0, runs.get());
        onOtherThread(bh::schedule);
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void oneshotsFromAnotherThreadAndFromTheLoopInterleavedWithAMergedEntryRunOnceEach() {
        List<String> ran = new ArrayList<>();
        BottomHalf a = ctx.newBottomHalf(() -> ran.add("a"));
        inCallback(() -> {
            a.schedule();
            onOtherThread(() -> ctx.scheduleOneshot(() -> ran.add("o1")));
            onOtherThread(a::schedule);
            onOtherThread(() -> ctx.scheduleOneshot(() -> ran.add("o2")));
            ctx.scheduleOneshot(() -> ran.add("o3"));
        });
        assertTrue(ctx.poll(false));
        assertEquals(List.of("a", "o1", "o2", "o3"), ran);
        assertEquals(0, drain(ctx));
    }

    @Test
    void oneshotScheduledFromCallbackRunsInNextPollWhichDoesNotBlock() {
        AtomicInteger runs = new AtomicInteger();
        inCallback(() -> ctx.scheduleOneshot(runs::incrementAndGet));
        assertEquals(0, runs.get());
        assertTrue(ctx.poll(true)); // the one-shot in the loop-owned ring keeps it from blocking
        assertEquals(1, runs.get());
        onOtherThread(() -> ctx.scheduleOneshot(runs::incrementAndGet));
        assertTrue(ctx.poll(true));
        assertEquals(2, runs.get());
        assertFalse(ctx.poll(false));
    }

    /** A callback with a name, as QEMU names its bottom halves. */
    private static Runnable named(String name, Runnable body) {
        return new Runnable() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    /**
     * QEMU's "BH leaked": a bottom half still scheduled when its context closes is dropped and
     * reported by name, whether it was scheduled by the loop (the local ring) or by another thread
     * (the shared list), one-shots included; a deleted or idle one is not reported. One line.
     */
    @Test
    void aBottomHalfStillScheduledAtCloseIsReportedByName() throws Exception {
        AioContext c = AioContext.create();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            c.newBottomHalf(named("never-scheduled-bh", () -> {}));
            BottomHalf deleted = c.newBottomHalf(named("deleted-bh", () -> {}));
            deleted.schedule();
            deleted.delete();
            BottomHalf ran = c.newBottomHalf(named("ran-bh", () -> {}));
            ran.schedule();
            LoopTesting.drain(c);
            c.scheduleOneshot(named("schedules-from-loop", () ->
                    c.newBottomHalf(named("from-loop-bh", () -> {})).schedule()));
            c.poll(false); // runs schedules-from-loop, whose schedule goes to the ring
            c.newBottomHalf(named("from-other-thread-bh", () -> {})).schedule(); // not polling: shared list
            c.scheduleOneshot(named("oneshot-bh", () -> {}));
            c.close();
            assertEquals(1, log.count("BH leaked"), log.messages.toString());
            String line = log.messages.get(0);
            assertTrue(line.contains("from-other-thread-bh"), line);
            assertTrue(line.contains("oneshot-bh"), line);
            assertTrue(line.contains("from-loop-bh"), line);
            assertTrue(line.contains("3 bottom half(s)"), line);
            assertFalse(line.contains("deleted-bh") || line.contains("never-scheduled-bh") || line.contains("ran-bh"), line);
        }
    }

    @Test
    void aContextClosedWithNothingScheduledReportsNoLeak() {
        AioContext c = AioContext.create();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            BottomHalf bh = c.newBottomHalf(() -> {});
            bh.schedule();
            bh.cancel();
            c.close();
            assertEquals(0, log.count("BH leaked"));
        }
    }
}
