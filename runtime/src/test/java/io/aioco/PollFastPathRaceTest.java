package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv13a: attacks on the blocking poll's fast path (27cbf2a: a blocking poll with a bottom
 * half ready does not announce nor wait, it selectNow()s and accepts a pending notification).
 * Each test fails by hanging (the class's timeout) or by an assertion if the path loses a wake-up,
 * spins where it must wait, or runs something twice / not at all.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PollFastPathRaceTest {
    private final AioContext ctx = AioContext.create("rv13a");
    private Pipe pipe;

    @AfterEach
    void close() throws IOException {
        ctx.close();
        if (pipe != null) {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    private static void write(Pipe.SinkChannel sink) {
        try {
            assertEquals(1, sink.write(ByteBuffer.wrap(new byte[] {7})));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int drain(Pipe.SourceChannel source) {
        try {
            return source.read(ByteBuffer.allocate(256));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Cross-thread wake-ups racing with the fast path. The loop alternates between polls that take
     * the fast path (a bottom half that reschedules itself a few times) and real waits; another
     * thread hands it, one at a time and waiting for each to be served, a one-shot bottom half, a
     * notifyEvent() with a flag, a timer armed due now, and a byte on a watched pipe. Every one must
     * be served: a lost wake-up leaves the producer waiting for ever (the class's timeout).
     */
    @Test
    void crossThreadWakeUpsRacingWithTheFastPathAreAllServed() throws Exception {
        pipe = Pipe.open();
        final int rounds = 20_000;
        Semaphore served = new Semaphore(0);
        int[] busyLeft = new int[1];
        BottomHalf[] busy = new BottomHalf[1];
        busy[0] = ctx.newBottomHalf(() -> {
            if (--busyLeft[0] > 0) {
                busy[0].schedule();
            }
        });
        Runnable serve = () -> {
            busyLeft[0] = 3; // the next three polls take the fast path, then the loop waits
            busy[0].schedule();
            served.release();
        };
        int[] byType = new int[4];
        Timer timer = ctx.newTimer(ClockType.REALTIME, () -> {
            byType[2]++;
            serve.run();
        });
        volatileFlag flag = new volatileFlag();
        CompletableFuture<Void> loop = new CompletableFuture<>();
        Thread loopThread = new Thread(() -> {
            try {
                ctx.setFdHandler(pipe.source(), () -> {
                    drain(pipe.source());
                    byType[3]++;
                    serve.run();
                }, null);
                while (!flag.stop) {
                    ctx.poll(true);
                    if (flag.notified) {
                        flag.notified = false;
                        byType[1]++;
                        serve.run();
                    }
                }
                ctx.setFdHandler(pipe.source(), null, null);
                loop.complete(null);
            } catch (Throwable t) {
                loop.completeExceptionally(t);
            }
        }, "rv13a-loop");
        loopThread.start();
        for (int i = 0; i < rounds; i++) {
            switch (i % 4) {
                case 0:
                    ctx.scheduleOneshot(() -> {
                        byType[0]++;
                        serve.run();
                    });
                    break;
                case 1:
                    flag.notified = true;
                    ctx.notifyEvent();
                    break;
                case 2:
                    timer.modNs(ClockType.REALTIME.nowNs());
                    break;
                default:
                    write(pipe.sink());
                    break;
            }
            if (!served.tryAcquire(20, TimeUnit.SECONDS)) {
                throw new AssertionError("round " + i + " (kind " + (i % 4) + ") was never served: lost wake-up");
            }
        }
        flag.stop = true;
        ctx.notifyEvent();
        loop.get(20, TimeUnit.SECONDS);
        for (int k = 0; k < 4; k++) {
            assertEquals(rounds / 4, byType[k], "kind " + k + " served exactly once per round");
        }
    }

    /** Fields written by the producer, read by the loop after each poll. */
    private static final class volatileFlag {
        volatile boolean notified;
        volatile boolean stop;
    }

    /**
     * A bottom half that reschedules itself idle (QEMU's BH_IDLE) must not turn blocking polls into
     * a spin: the loop still parks (10 ms per poll). The observer waits until it sees the loop
     * thread parked; with a spinning loop it never would (the class's timeout).
     */
    @Test
    void anIdleBottomHalfReschedulingItselfStillLetsTheLoopPark() throws Exception {
        int[] runs = new int[1];
        BottomHalf[] idle = new BottomHalf[1];
        idle[0] = ctx.newBottomHalf(() -> {
            runs[0]++;
            idle[0].scheduleIdle();
        });
        volatileFlag flag = new volatileFlag();
        CompletableFuture<Boolean> progressSeen = new CompletableFuture<>();
        Thread loopThread = new Thread(() -> {
            boolean anyProgress = false;
            idle[0].scheduleIdle();
            while (!flag.stop) {
                anyProgress |= ctx.poll(true);
            }
            idle[0].delete();
            progressSeen.complete(anyProgress);
        }, "rv13a-idle-loop");
        loopThread.start();
        LoopTesting.awaitParked(loopThread);
        assertFalse(loopThread.getState() == Thread.State.TERMINATED);
        flag.stop = true;
        ctx.notifyEvent();
        assertFalse(progressSeen.get(20, TimeUnit.SECONDS), "an idle bottom half is no progress");
        assertTrue(runs[0] >= 1);
    }

    /**
     * A callback that polls its own context, blocking, while the outer dispatch still has entries:
     * the nested poll runs them (it does not block: they are ready) and reports progress; the outer
     * dispatch does not run them again.
     */
    @Test
    void aNestedBlockingPollRunsTheRestOfTheOuterBatchOnce() {
        List<String> order = new ArrayList<>();
        boolean[] nested = new boolean[1];
        BottomHalf b = ctx.newBottomHalf(() -> order.add("b"));
        BottomHalf c = ctx.newBottomHalf(() -> order.add("c"));
        BottomHalf a = ctx.newBottomHalf(() -> {
            order.add("a");
            nested[0] = ctx.poll(true); // b and c are ready: must not block
            order.add("a-end");
        });
        a.schedule();
        b.schedule();
        c.schedule();
        assertTrue(ctx.poll(true));
        assertTrue(nested[0]);
        assertEquals(List.of("a", "b", "c", "a-end"), order);
        assertFalse(ctx.poll(false));
    }

    /**
     * A notifyEvent() from another thread while a self-rescheduling bottom half keeps every poll on
     * the fast path, then the bottom half stops: whichever poll accepted it, the loop that checks
     * its condition after each poll sees the condition, and a notify made after the last fast poll
     * ends the first real wait.
     */
    @Test
    void aNotifyAcceptedByAFastPollIsNotLostForALoopCheckingItsCondition() throws Exception {
        int[] runs = new int[1];
        BottomHalf[] self = new BottomHalf[1];
        volatileFlag flag = new volatileFlag();
        self[0] = ctx.newBottomHalf(() -> {
            if (++runs[0] < 1000) {
                self[0].schedule();
            }
        });
        CompletableFuture<Integer> polls = new CompletableFuture<>();
        Semaphore started = new Semaphore(0);
        Thread loopThread = new Thread(() -> {
            self[0].schedule();
            started.release();
            int n = 0;
            while (!flag.stop) { // AIO_WAIT_WHILE-style
                ctx.poll(true);
                n++;
            }
            polls.complete(n);
        }, "rv13a-wait-while");
        loopThread.start();
        started.acquire();
        flag.stop = true;
        ctx.notifyEvent();
        // NOTE: the loop may see the flag before its first poll (0 polls): what is checked is that
        // it ends, whichever poll (fast or waiting) the notification met
        assertTrue(polls.get(20, TimeUnit.SECONDS) >= 0);
    }
}
