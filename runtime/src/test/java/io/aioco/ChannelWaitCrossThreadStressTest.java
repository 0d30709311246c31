package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.SelectionKey;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 item 3, the cross-thread path of a kept registration: a loop thread polls, blocking, a
 * context whose only channel is registered but, once nobody waits on it, watched for nothing (its
 * interest was cleared when it fired for nobody), so its select has no limit; a producer thread
 * enters, on its own thread, a coroutine of that context that waits for the channel to become
 * readable, so the wait is published from the producer thread and must both watch the direction
 * again and wake the blocked loop. The channel always holds an unread byte: the reader is woken by
 * the loop thread's handler (it runs there), and the loop then clears the interest again.
 *
 * <p>Since the issue 21 review, a loop about to block lets go of a registration nobody waits on
 * (a kept key keeps a closed channel's fd): a round whose producer waited for the blocked loop
 * registers the channel again (claimFd, which wakes the loop), the others change the interest of
 * the kept key (watchFd).
 *
 * <p>Exact invariants: every round's reader is woken exactly once, on the loop thread. A lost wake-up leaves a round waiting for ever: its
 * wait is bounded only to fail the test instead of hanging it. The producer waits, at random, until
 * the loop is blocked before it publishes, or not. Quick by default; {@code
 * -Daioco.stress.long=true} multiplies the rounds by 100.
 *
 * <p>Mutation caught: the publication's registration not waking the loop (no notifyChange in
 * AioContext.claimFd): the round whose producer waited for a blocked loop never ends.
 */
@Timeout(300)
class ChannelWaitCrossThreadStressTest {
    private static final int ROUNDS = Boolean.getBoolean("aioco.stress.long") ? 200_000 : 2_000;
    /** Only to fail instead of hanging: a lost wake-up never ends the wait. */
    private static final long ROUND_LIMIT_S = 30;

    @Test
    void aWaitPublishedFromAnotherThreadWakesALoopBlockedOnTheUnwatchedChannel() throws Exception {
        AioContext ctx = AioContext.create();
        Pipe pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {7})); // never read: the source stays readable
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger woken = new AtomicInteger();
        LinkedBlockingQueue<Object[]> rounds = new LinkedBlockingQueue<>();
        Thread loop = new Thread(() -> {
            while (!stop.get()) {
                ctx.poll(true);
            }
        }, "chanwait-loop");
        loop.start();
        SplittableRandom random = new SplittableRandom(21);
        SelectionKey first = null;
        java.util.List<HandWoven> readers = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < ROUNDS; i++) {
                int round = i;
                HandWoven reader = new HandWoven(
                        call("yieldUntilReadable", "(Ljava/nio/channels/SelectableChannel;)V", Coroutine.class,
                                () -> Coroutine.yieldUntilReadable(pipe.source())),
                        plain(() -> {
                            woken.incrementAndGet();
                            rounds.add(new Object[] {round, Thread.currentThread(),
                                    ctx.channelWaiters.registration(pipe.source()).key()});
                        }));
                if (random.nextInt(4) != 0) {
                    LoopTesting.awaitBlocked(loop); // the interest is cleared (or about to be) and the loop blocks
                }
                Coroutine.create(reader).enter(ctx); // published on this thread
                Object[] done = rounds.poll(ROUND_LIMIT_S, TimeUnit.SECONDS);
                assertNotNull(done, "round " + i + ": the reader was never woken (a lost wake-up)");
                assertEquals(round, done[0]);
                assertSame(loop, done[1], "round " + i + ": woken off the loop thread");
                if (first == null) {
                    first = (SelectionKey) done[2];
                    assertNotNull(first);
                }
                readers.add(reader);
            }
        } finally {
            stop.set(true);
            ctx.notifyEvent();
            loop.join(TimeUnit.SECONDS.toMillis(ROUND_LIMIT_S));
        }
        assertEquals(ROUNDS, woken.get(), "a reader was woken twice");
        assertTrue(rounds.isEmpty());
        for (HandWoven r : readers) {
            assertTrue(r.finished()); // NOTE: after the join: the loop thread set it
        }
        assertTrue(ctx.fds().size() <= 1);
        ctx.close();
        pipe.source().close();
        pipe.sink().close();
    }
}
