package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the {@code enter(ctx)} / {@code wake} / {@code coSchedule} races:
 * threads that do not poll a context enter coroutines into it ({@code enter(ctx)}) that wait in a
 * CoQueue; other threads wake them ({@code enterNext}: {@code wake()} from a foreign thread, so
 * {@code coSchedule(ctx)}) and poll the context, which enters them. After every interleaving and a
 * final drain of the context: no poll or enter failed (a waker that found its coroutine still
 * running), and exactly the woken coroutines have finished.
 */
public class WakeModelTest {
    private final AioContext ctx = AioContext.create();
    private final CoQueue queue = new CoQueue();
    private final AtomicInteger woken = new AtomicInteger();
    private final AtomicInteger finished = new AtomicInteger();

    @Operation
    public void enterWaiterFromAForeignThread() {
        Coroutine.create(new HandWoven(call("await", "(Lio/aioco/CoMutex;)V", () -> queue.await(null)),
                plain(finished::incrementAndGet))).enter(ctx);
    }

    @Operation
    public void wakeOneFromAForeignThread() {
        if (queue.enterNext(null)) {
            woken.incrementAndGet();
        }
    }

    /** One poller at a time, as the context requires (the others skip: it is polled anyway). */
    private final java.util.concurrent.atomic.AtomicBoolean polling = new java.util.concurrent.atomic.AtomicBoolean();

    @Operation
    public void pollTheContext() {
        if (polling.compareAndSet(false, true)) {
            try {
                ctx.poll(false);
            } finally {
                polling.set(false);
            }
        }
    }

    @Validate
    public void exactlyTheWokenCoroutinesFinished() {
        while (ctx.poll(false)) {
            // drain: scheduled coroutines run
        }
        if (finished.get() != woken.get()) {
            throw new AssertionError(woken.get() + " coroutines woken, " + finished.get() + " finished");
        }
        ctx.close();
    }

    @Test
    void wakeUpsFromForeignThreadsEnterOnlyYieldedCoroutines() {
        new ModelCheckingOptions()
                .iterations(3)
                .threads(3)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(20)
                .check(getClass());
    }
}
