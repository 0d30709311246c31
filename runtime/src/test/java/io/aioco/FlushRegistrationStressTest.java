package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.channels.Pipe;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 review, findings 2 and 3: {@code setFdHandler(ch, null, null)} from a thread that does
 * not poll, while no thread polls the context, claims the context for one selectNow
 * (AioContext.flushRegistration). A thread that starts polling meanwhile must wait for that claim,
 * not fail with "is being polled by". Here a poller thread polls (not blocking) in a loop while
 * this thread sets and removes a handler 20,000 times (each removal once the poller registered
 * the channel, so that it has a key to flush). Exact invariants: the poller never throws; after the
 * last removal, polled once more, the channel is registered
 * with no selector. Mutation caught: enterPoll not waiting for the flusher's claim (the poller
 * throws IllegalStateException "is being polled by").
 */
@Timeout(120)
class FlushRegistrationStressTest {
    private static final int ROUNDS = Boolean.getBoolean("aioco.stress.long") ? 1_000_000 : 20_000;

    @Test
    void aPollerStartingWhileARemovalFlushesWaitsForItsClaim() throws Exception {
        AioContext ctx = AioContext.create();
        Pipe pipe = Pipe.open();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        Thread poller = new Thread(() -> {
            try {
                while (done.getCount() > 0) {
                    ctx.poll(false);
                    for (int k = 0; k < 100; k++) {
                        Thread.onSpinWait(); // between polls the claim is free: the remover may take it
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "flush-stress-poller");
        poller.start();
        try {
            for (int i = 0; i < ROUNDS && failure.get() == null; i++) {
                ctx.setFdHandler(pipe.sink(), () -> { }, null);
                while (!pipe.sink().isRegistered() && failure.get() == null) {
                    Thread.onSpinWait(); // the poller applied it: the removal below has a key to flush
                }
                ctx.setFdHandler(pipe.sink(), null, null);
            }
        } finally {
            done.countDown();
            poller.join();
        }
        assertEquals(null, failure.get());
        ctx.poll(false); // this thread polls now: the last removal is applied and flushed
        assertFalse(pipe.sink().isRegistered());
        ctx.close();
        pipe.sink().close();
        pipe.source().close();
    }
}
