package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.SplittableRandom;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The notify/poll handshake for the changes the model checker cannot drive (a loop blocked in a
 * selector, thread-pool workers), QEMU test-aio-multithread style: a loop thread polls, blocking,
 * with no timer that could end a wait; a producer thread makes one change per round at whatever
 * point the loop is, and waits for the loop to act on it. The loop's waits have no limit, so a
 * change the loop neither saw nor was woken for leaves the round waiting for ever; the round's wait
 * is bounded only to fail the test instead of hanging it.
 *
 * <p>The changes: a handler set on an already-readable channel (the wait switches from park to
 * select when it is the only channel, and stays in select when another one is watched); a handler
 * removed from the producer while its channel stays readable (exact invariant: once the loop has
 * polled after the removal returned, the handler is never called again); a thread-pool
 * completion. Quick by default; {@code
 * -Daioco.stress.long=true} multiplies the rounds by 100.
 */
@Timeout(300)
class ChannelHandshakeStressTest {
    private static final int ROUNDS = Boolean.getBoolean("aioco.stress.long") ? 300_000 : 3_000;
    /** Only to fail instead of hanging: a lost wake-up never ends the wait. */
    private static final long ROUND_LIMIT_S = 30;

    @Test
    void everyChangeFromAnotherThreadIsActedOnByTheBlockedLoop() throws Exception {
        AioContext ctx = AioContext.create();
        LinkedBlockingQueue<Integer> acted = new LinkedBlockingQueue<>();
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger callsAfterRemoval = new AtomicInteger();
        Thread loop = new Thread(() -> {
            while (!stop.get()) {
                ctx.poll(true);
            }
        }, "handshake-loop");
        loop.start();
        Pipe watched = Pipe.open(); // watched in odd rounds: the wait selects rather than parks
        SplittableRandom random = new SplittableRandom(42);
        try {
            for (int round = 0; round < ROUNDS; round++) {
                boolean other = (round & 1) != 0;
                if (other) {
                    ctx.setFdHandler(watched.source(), () -> {}, null);
                }
                int r = round;
                switch (random.nextInt(3)) {
                    case 0 -> {
                        Pipe p = readablePipe();
                        ctx.setFdHandler(p.source(), () -> {
                            ctx.setFdHandler(p.source(), null, null);
                            acted.add(r);
                        }, null);
                        awaitRound(acted, r);
                        close(p);
                    }
                    case 1 -> {
                        Pipe p = readablePipe();
                        AtomicBoolean removed = new AtomicBoolean();
                        // Level-triggered and never drained: called at every poll until removed.
                        ctx.setFdHandler(p.source(), () -> {
                            if (removed.get()) {
                                callsAfterRemoval.incrementAndGet();
                            }
                            acted.offer(r);
                        }, null);
                        awaitRound(acted, r);
                        ctx.setFdHandler(p.source(), null, null);
                        // One round trip through the loop: a call already past its check when the
                        // removal came has ended before the next poll; none may start after it.
                        ctx.scheduleOneshot(() -> acted.add(-1 - r));
                        awaitRound(acted, -1 - r);
                        removed.set(true);
                        ctx.scheduleOneshot(() -> acted.add(-1 - r));
                        awaitRound(acted, -1 - r);
                        close(p);
                    }
                    default -> {
                        ctx.threadPool().submitAio(() -> r, (v, e) -> acted.add(v));
                        awaitRound(acted, r);
                    }
                }
                if (other) {
                    ctx.setFdHandler(watched.source(), null, null);
                }
            }
        } finally {
            stop.set(true);
            ctx.notifyEvent();
            loop.join();
            ctx.close();
            close(watched);
        }
        assertEquals(0, callsAfterRemoval.get(), "a handler was called after its removal returned");
    }

    private static Pipe readablePipe() throws IOException {
        Pipe p = Pipe.open();
        p.sink().write(ByteBuffer.wrap(new byte[] {1}));
        return p;
    }

    private static void close(Pipe p) {
        try {
            p.sink().close();
            p.source().close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the round's signal, dropping the repeats a level-triggered handler left. */
    private static void awaitRound(LinkedBlockingQueue<Integer> acted, int round) throws InterruptedException {
        for (;;) {
            Integer got = acted.poll(ROUND_LIMIT_S, TimeUnit.SECONDS);
            assertNotNull(got, "round " + round + ": the loop never acted on the change (lost wake-up)");
            if (got == round) {
                acted.clear();
                return;
            }
        }
    }
}
