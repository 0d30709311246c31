package io.aioco;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A blocking poll skips its wait only when a bottom half is really ready (issue 18 item 4: the
 * ring's quick check from the local state, BottomHalf.localRunPending): a bottom half scheduled by
 * the loop and then deleted, or cancelled from another thread, leaves its entry in the ring but
 * must not keep the poll from blocking.
 */
@Timeout(60)
class BlockingPollReadyCheckTest {
    @Test
    void aLocalScheduleDeletedByTheLoopLetsTheBlockingPollWait() throws Exception {
        assertBlocks(false);
    }

    @Test
    void aLocalScheduleCancelledFromAnotherThreadLetsTheBlockingPollWait() throws Exception {
        assertBlocks(true);
    }

    private static void assertBlocks(boolean cancelFromOutside) throws Exception {
        AioContext ctx = AioContext.create();
        BottomHalf bh = ctx.newBottomHalf(() -> { });
        CountDownLatch scheduled = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean inPoll = new AtomicBoolean();
        AtomicBoolean returned = new AtomicBoolean();
        Thread loop = new Thread(() -> {
            // a callback schedules bh (a local schedule: its entry waits in the ring for the next
            // poll), then deletes it, or another thread cancels it
            BottomHalf setup = ctx.newBottomHalf(() -> {
                bh.schedule();
                if (!cancelFromOutside) {
                    bh.delete();
                }
            });
            setup.schedule();
            ctx.poll(false);
            scheduled.countDown();
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            inPoll.set(true);
            ctx.poll(true); // nothing to run: waits until notified
            returned.set(true);
        }, "ready-check-loop");
        loop.start();
        scheduled.await();
        if (cancelFromOutside) {
            bh.cancel();
        }
        go.countDown();
        while (!inPoll.get()) {
            Thread.onSpinWait();
        }
        while (!returned.get() && loop.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
        assertFalse(returned.get(), "the blocking poll returned at once: the dead entry counted as ready");
        ctx.notifyEvent();
        loop.join();
        assertTrue(returned.get());
        ctx.close();
    }
}
