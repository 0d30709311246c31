package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.observe.LoopProbe;
import io.aioco.internal.observe.StallWatcher;
import io.aioco.internal.observe.StallWatcher.Stall;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The loop stall detector (issue 17, item 5): a callback that runs on a loop thread past the
 * threshold is reported once with the loop thread's stack and what runs, again after each repeat
 * interval while it lasts, never after it ended, never when disabled. Deterministic: the callback
 * blocks on a latch (explicit signals), and the test drives the watcher's checks with times of its
 * own ({@link StallWatcher#check(long)}); nothing sleeps, nothing is timed.
 */
@Timeout(60)
class StallDetectorTest {
    private static final long MS = 1_000_000;
    /** An arbitrary origin for the test's clock. */
    private static final long T0 = 1_000_000_000_000L;

    private final AioContext ctx = AioContext.create();
    private final List<Stall> reports = new ArrayList<>();
    private final CountDownLatch started = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);
    private Thread loop;

    @AfterEach
    void tearDown() throws InterruptedException {
        release.countDown();
        if (loop != null) {
            loop.join();
        }
        ctx.close();
    }

    /** A callback that blocks its loop until released: what a stall is. */
    private final class Blocking implements Runnable {
        private final String name;

        Blocking(String name) {
            this.name = name;
        }

        @Override
        public void run() {
            started.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** Polls the context once, by hand, on a thread of its own named {@code stall-test-loop}. */
    private void pollOnLoopThread() throws InterruptedException {
        loop = new Thread(() -> ctx.poll(false), "stall-test-loop");
        loop.start();
        started.await();
        // NOTE: then until it parks in release.await() (not sleep: a condition), so that the stack
        // the watcher takes is the blocked one
        while (loop.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
    }

    private StallWatcher watcher(long thresholdMs, long repeatMs) {
        StallWatcher w = new StallWatcher(thresholdMs, repeatMs, reports::add);
        w.watch(ctx.probe);
        return w;
    }

    private static boolean hasFrame(Stall s, String cls, String method) {
        return Arrays.stream(s.stack()).anyMatch(f -> f.getClassName().equals(cls) && f.getMethodName().equals(method));
    }

    @Test
    void blockedBottomHalfReportedOnceThenEveryRepeatIntervalAndNeverAfterItEnds() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        assertEquals(0, w.check(T0 - 10 * MS), "idle loop");
        ctx.newBottomHalf(new Blocking("the-blocking-bh")).schedule();
        pollOnLoopThread();

        assertEquals(0, w.check(T0), "first sight of the dispatch");
        assertEquals(0, w.check(T0 + 99 * MS), "below the threshold");
        assertEquals(1, w.check(T0 + 100 * MS), "at the threshold");
        Stall first = reports.get(0);
        assertEquals(LoopProbe.BOTTOM_HALF, first.kind());
        assertEquals("bottom half", first.kindName());
        assertEquals("the-blocking-bh", first.what());
        assertSame(loop, first.thread());
        assertEquals(ctx.toString(), first.loop());
        assertEquals(100 * MS, first.forNs());
        assertEquals(1, first.report());
        assertTrue(hasFrame(first, Blocking.class.getName(), "run"), Arrays.toString(first.stack()));
        assertTrue(hasFrame(first, CountDownLatch.class.getName(), "await"), "the stack is the loop thread's as"
                + " it is blocked: " + Arrays.toString(first.stack()));

        String text = LoopLog.stallText(first);
        assertTrue(text.startsWith("aioco: loop stall: bottom half the-blocking-bh has been running for at least 100 ms"
                + " on thread \"stall-test-loop\" of \"" + ctx + "\"; nothing else runs on this loop meanwhile"), text);
        assertTrue(text.contains("\n\tat " + Blocking.class.getName() + ".run(StallDetectorTest.java:"), text);

        assertEquals(0, w.check(T0 + 100 * MS + 4999 * MS), "once per repeat interval");
        assertEquals(1, w.check(T0 + 100 * MS + 5000 * MS), "still running: reported again");
        Stall second = reports.get(1);
        assertEquals(2, second.report());
        assertEquals(5100 * MS, second.forNs());
        assertTrue(LoopLog.stallText(second).contains(" (still running: report 2); "), LoopLog.stallText(second));

        release.countDown();
        loop.join();
        assertEquals(0, w.check(T0 + 20_000 * MS), "it ended");
        assertEquals(0, w.check(T0 + 60_000 * MS), "the loop is idle");
        assertEquals(2, reports.size());
    }

    /**
     * A poll's end leaves the kind of its last dispatch in the probe (one store less per poll) and
     * clears only the callback: the watcher must still see the loop idle between polls, however
     * long it stays so.
     */
    @Test
    void aLoopIdleAfterABottomHalfRanIsNotReported() {
        StallWatcher w = watcher(100, 5000);
        int[] runs = new int[1];
        ctx.newBottomHalf(new Runnable() {
            @Override
            public void run() {
                runs[0]++;
            }

            @Override
            public String toString() {
                return "the-finished-bh";
            }
        }).schedule();
        assertTrue(ctx.poll(false));
        assertEquals(1, runs[0]);
        assertEquals(0, w.check(T0), "first sight");
        assertEquals(0, w.check(T0 + 100 * MS), "at the threshold: idle, not in the bottom half");
        assertEquals(0, w.check(T0 + 10_000 * MS), "long after");
        assertEquals(List.of(), reports);
    }

    /**
     * The probe's thread is stored only when another thread polls the context than the last one
     * (not at each poll): a stall on the second thread is reported with that thread and its stack.
     */
    @Test
    void aContextPolledByAnotherThreadThanBeforeReportsTheNewOne() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        assertFalse(ctx.poll(false), "polled by the test thread first");
        ctx.newBottomHalf(new Blocking("the-moved-bh")).schedule();
        pollOnLoopThread();
        assertEquals(0, w.check(T0));
        assertEquals(1, w.check(T0 + 100 * MS));
        assertSame(loop, reports.get(0).thread());
        assertTrue(hasFrame(reports.get(0), Blocking.class.getName(), "run"), Arrays.toString(reports.get(0).stack()));
    }

    @Test
    void disabledWatcherReportsNothing() throws InterruptedException {
        assertEquals(0, StallWatcher.thresholdMs("off"));
        assertEquals(0, StallWatcher.thresholdMs("0"));
        assertEquals(StallWatcher.DEFAULT_THRESHOLD_MS, StallWatcher.thresholdMs(null));
        assertEquals(250, StallWatcher.thresholdMs(" 250 "));
        assertThrows(NumberFormatException.class, () -> StallWatcher.thresholdMs("soon"));
        assertThrows(NumberFormatException.class, () -> StallWatcher.thresholdMs("-5"));
        assertEquals(StallWatcher.DEFAULT_REPEAT_MS, StallWatcher.repeatMs(null));
        assertThrows(NumberFormatException.class, () -> StallWatcher.repeatMs("0"));

        StallWatcher w = watcher(StallWatcher.thresholdMs("off"), 5000);
        assertFalse(w.enabled());
        ctx.newBottomHalf(new Blocking("bh")).schedule();
        pollOnLoopThread();
        for (long t = 0; t <= 60_000; t += 50) {
            assertEquals(0, w.check(T0 + t * MS));
        }
        assertTrue(reports.isEmpty());
    }

    @Test
    void scheduledCoroutineNamedAsTheCoroutine() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        Blocking body = new Blocking("body");
        Coroutine co = Coroutine.create("stuck-coroutine", body::run);
        ctx.coSchedule(co);
        pollOnLoopThread();
        assertEquals(0, w.check(T0));
        assertEquals(1, w.check(T0 + 100 * MS));
        Stall s = reports.get(0);
        assertEquals(LoopProbe.COROUTINE, s.kind());
        assertEquals(co.toString(), s.what());
        assertTrue(s.what().contains("\"stuck-coroutine\""), s.what());
        assertTrue(hasFrame(s, Blocking.class.getName(), "run"), Arrays.toString(s.stack()));
    }

    @Test
    void nestedPollOfAnotherContextReportsTheInnerCallbackNotTheOuterOne() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        try (AioContext other = AioContext.create()) {
            w.watch(other.probe);
            BottomHalf inner = other.newBottomHalf(new Blocking("inner-bh"));
            Runnable outer = new Runnable() {
                @Override
                public void run() {
                    inner.schedule();
                    other.poll(false); // nested (QEMU's AIO_WAIT_WHILE on another context)
                }

                @Override
                public String toString() {
                    return "outer-bh";
                }
            };
            ctx.newBottomHalf(outer).schedule();
            pollOnLoopThread();
            assertEquals(0, w.check(T0));
            assertEquals(1, w.check(T0 + 100 * MS), "one stall, reported once: " + reports);
            assertEquals("inner-bh", reports.get(0).what());
            assertEquals(other.toString(), reports.get(0).loop());
            release.countDown();
            loop.join();
            assertEquals(0, w.check(T0 + 200 * MS));
            assertEquals(0, w.check(T0 + 10_000 * MS), "both ended");
            assertEquals(1, reports.size());
        }
    }

    @Test
    void timerCallbackReportedWithItsKind() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        Timer t = ctx.newTimer(ClockType.REALTIME, new Blocking("the-timer-cb"));
        t.modNs(0);
        pollOnLoopThread();
        assertEquals(0, w.check(T0));
        assertEquals(1, w.check(T0 + 100 * MS));
        assertEquals(LoopProbe.TIMER, reports.get(0).kind());
        assertEquals("the-timer-cb", reports.get(0).what());
    }

    @Test
    void fdReadHandlerReportedWithItsKind() throws Exception {
        StallWatcher w = watcher(100, 5000);
        java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
        try (java.nio.channels.Pipe.SourceChannel source = pipe.source();
             java.nio.channels.Pipe.SinkChannel sink = pipe.sink()) {
            source.configureBlocking(false);
            sink.write(java.nio.ByteBuffer.wrap(new byte[] {1})); // readable
            ctx.setFdHandler(source, new Blocking("the-read-handler"), null);
            pollOnLoopThread();
            assertEquals(0, w.check(T0));
            assertEquals(1, w.check(T0 + 100 * MS));
            assertEquals(LoopProbe.FD_READ, reports.get(0).kind());
            assertEquals("fd read handler", reports.get(0).kindName());
            assertEquals("the-read-handler", reports.get(0).what());
            release.countDown();
            loop.join();
            ctx.setFdHandler(source, null, null);
        }
    }

    // ---- what a probe that stores only the callback per dispatch could get wrong (see LoopProbe) ----

    @Test
    void aBottomHalfReschedulingItselfAtEveryPollIsNeverReportedButOneLongRunOfItIs() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        java.util.concurrent.Semaphore entered = new java.util.concurrent.Semaphore(0);
        java.util.concurrent.Semaphore proceed = new java.util.concurrent.Semaphore(0);
        BottomHalf[] bh = new BottomHalf[1];
        int[] runs = {0};
        bh[0] = ctx.newBottomHalf(new Runnable() {
            @Override
            public void run() {
                entered.release();
                proceed.acquireUninterruptibly();
                if (++runs[0] < 4) {
                    bh[0].schedule(); // the same bottom half, the same callback object, in the next poll
                }
            }

            @Override
            public String toString() {
                return "the-rescheduled-bh";
            }
        });
        bh[0].schedule();
        loop = new Thread(() -> {
            for (int i = 0; i < 4; i++) {
                ctx.poll(false);
            }
        }, "stall-test-loop");
        loop.start();
        try {
            for (int i = 0; i < 3; i++) {
                entered.acquire(); // run i is in its callback, in poll i
                assertEquals(0, w.check(T0 + i * 100 * MS), "poll " + i + ": the same callback, but a new dispatch");
                proceed.release();
            }
            entered.acquire(); // run 3: it stays
            assertEquals(0, w.check(T0 + 300 * MS), "first sight of this run");
            assertEquals(1, w.check(T0 + 400 * MS), "one run that lasts the threshold is a stall");
            assertEquals("the-rescheduled-bh", reports.get(0).what());
            assertEquals(LoopProbe.BOTTOM_HALF, reports.get(0).kind());
            assertEquals(100 * MS, reports.get(0).forNs());
        } finally {
            proceed.release(4); // NOTE: a failed assertion must not leave the loop thread blocked
        }
        loop.join();
        assertEquals(0, w.check(T0 + 10_000 * MS), "it ended");
        assertEquals(1, reports.size());
    }

    @Test
    void aTimerCallbackAfterABottomHalfOfTheSamePollIsReportedAsATimer() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        ctx.newBottomHalf(new Runnable() {
            @Override
            public void run() {
            }

            @Override
            public String toString() {
                return "short-bh";
            }
        }).schedule();
        Timer t = ctx.newTimer(ClockType.REALTIME, new Blocking("the-later-timer-cb"));
        t.modNs(0); // due: runs in the same poll, after the bottom halves
        pollOnLoopThread();
        assertEquals(0, w.check(T0));
        assertEquals(1, w.check(T0 + 100 * MS));
        assertEquals("the-later-timer-cb", reports.get(0).what());
        assertEquals(LoopProbe.TIMER, reports.get(0).kind(), "the kind changed within the poll");
        assertEquals("timer callback", reports.get(0).kindName());
    }

    @Test
    void aBottomHalfAfterACoroutineOfTheSamePollIsReportedAsABottomHalf() throws InterruptedException {
        StallWatcher w = watcher(100, 5000);
        Coroutine quick = Coroutine.create("quick-coroutine", () -> { });
        ctx.coSchedule(quick); // co_schedule_bh first in the ring: a bottom half, then a coroutine
        ctx.newBottomHalf(new Blocking("the-bh-after-a-coroutine")).schedule();
        pollOnLoopThread();
        assertTrue(quick.isTerminated());
        assertEquals(0, w.check(T0));
        assertEquals(1, w.check(T0 + 100 * MS));
        assertEquals("the-bh-after-a-coroutine", reports.get(0).what());
        assertEquals(LoopProbe.BOTTOM_HALF, reports.get(0).kind(), "back to a bottom half after the coroutine");
    }

    @Test
    void propertiesConfigureTheProcessWatcher() {
        String threshold = System.getProperty(LoopObserve.THRESHOLD_PROPERTY);
        String repeat = System.getProperty(LoopObserve.REPEAT_PROPERTY);
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            System.setProperty(LoopObserve.THRESHOLD_PROPERTY, "off");
            assertFalse(LoopObserve.fromProperties().enabled(), "off");
            System.setProperty(LoopObserve.THRESHOLD_PROPERTY, "0");
            assertFalse(LoopObserve.fromProperties().enabled(), "0");
            System.setProperty(LoopObserve.THRESHOLD_PROPERTY, "400");
            assertEquals(200 * MS, LoopObserve.fromProperties().intervalNs(), "sampled at half the threshold");
            assertTrue(log.messages.isEmpty(), log.messages.toString());

            System.setProperty(LoopObserve.THRESHOLD_PROPERTY, "soon");
            System.setProperty(LoopObserve.REPEAT_PROPERTY, "0");
            StallWatcher w = LoopObserve.fromProperties();
            assertTrue(w.enabled(), "the default, not off");
            assertEquals(500 * MS, w.intervalNs(), "the default threshold's");
            assertEquals(1, log.count("aioco: cannot read -Daioco.stall.thresholdMs=soon (a number of milliseconds,"
                    + " or off); using 1000"), log.messages.toString());
            assertEquals(1, log.count("aioco: cannot read -Daioco.stall.repeatMs=0"), log.messages.toString());
        } finally {
            restore(LoopObserve.THRESHOLD_PROPERTY, threshold);
            restore(LoopObserve.REPEAT_PROPERTY, repeat);
        }
    }

    private static void restore(String name, String value) {
        if (value == null) {
            System.clearProperty(name);
        } else {
            System.setProperty(name, value);
        }
    }

    /**
     * The stall report quotes the loop's and the thread's names and escapes the callback's text: names
     * the program chooses (an IOThread's) cannot forge a frame line of the report (review rv17b #6).
     */
    @Test
    void aStallReportCannotBeForgedByANameWithALineBreak() {
        String evil = "x\n\tat evil.Forged.frame(Forged.java:1)\u202e";
        Thread named = new Thread(() -> { }, evil);
        Stall stall = new Stall(evil, named, LoopProbe.BOTTOM_HALF, evil, 100 * MS,
                new StackTraceElement[] {new StackTraceElement("a.B", "c", "B.java", 3)}, 1);
        String text = LoopLog.stallText(stall);
        assertFalse(text.contains("\n\tat evil.Forged"), text);
        assertFalse(text.contains("\u202e"), text);
        String quoted = "\"x\\n\\tat evil.Forged.frame(Forged.java:1)\\u202e\"";
        assertTrue(text.contains(" on thread " + quoted + " of " + quoted + ";"), text);
        assertTrue(text.endsWith("\n\tat a.B.c(B.java:3)"), text);
    }
}
