package io.aioco;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * An IOThread's loop does the bookkeeping of an outermost poll once for the whole loop (issue 18
 * item 4: AioContext.enterLoop / loopPoll): its callbacks must see what they saw when each poll did
 * it, and the loop's probe must be idle while it waits.
 */
@Timeout(60)
class IOThreadLoopPollTest {
    @Test
    void aCallbackPollingAnotherContextNestsOneLevelBelowTheLoop() throws Exception {
        AioContext other = AioContext.create();
        Object[] got;
        try (IOThread io = IOThread.start("loop-poll-1")) {
            AioContext ctx = io.context();
            CompletableFuture<Object[]> seen = new CompletableFuture<>();
            ctx.scheduleOneshot(() -> {
                other.scheduleOneshot(() -> seen.complete(new Object[] {
                    ctx.probe.depth, other.probe.depth, AioContext.current()}));
                other.poll(false);
            });
            got = seen.get(30, TimeUnit.SECONDS);
            assertSame(ctx, got[2]);
        } finally {
            other.close(); // NOTE: after the IOThread ended: its nested poll of other may still run until then
        }
        // the loop's own poll is outermost (depth 0), the nested one is one below it: the thread's
        // state names the IOThread's context as the one it polls
        assertArrayEquals(new Object[] {0, 1}, new Object[] {got[0], got[1]});
    }

    @Test
    void theProbeIsIdleWhileTheLoopWaitsAndCountsItsPolls() throws Exception {
        try (IOThread io = IOThread.start("loop-poll-2")) {
            AioContext ctx = io.context();
            CompletableFuture<Integer> polls = new CompletableFuture<>();
            Runnable callback = () -> polls.complete(ctx.probe.polls);
            ctx.scheduleOneshot(callback);
            int during = polls.get(30, TimeUnit.SECONDS);
            // the loop goes back to waiting: parked (it has no channels) once its busy poll ends
            while (io.thread().getState() != Thread.State.WAITING) {
                Thread.onSpinWait();
            }
            // NOTE: read after the loop parked (its last writes came before the park)
            assertNull(ctx.probe.what, "the probe still names the callback while the loop waits");
            int waiting = ctx.probe.polls;
            assertEquals(true, waiting > during, "polls counted: " + during + " then " + waiting);
        }
    }
}
