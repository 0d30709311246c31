package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the ways another thread makes a coroutine run in a context, against
 * a loop thread that polls, blocking, until every coroutine promised so far has run there (issue
 * 14 item 2: {@code wake}, {@code coSchedule} and {@code enter(ctx)} races). The sibling of {@link
 * HandshakeModelTest}, with the same invariant (a change made before a poll announces its wait is
 * seen by that poll, or wakes it) and the same detection (a lost wake-up leaves the loop parked
 * after every other thread has finished: a deadlock, reported with its interleaving); its setup
 * differs: coroutines already suspended in the context, made before the operations run.
 *
 * <ul>
 *   <li>{@link Coroutine#wake()} from another thread of a coroutine suspended on a plain yield in
 *       the context ({@code aio_co_wake}): it must be scheduled there and the loop woken.
 *   <li>{@link AioContext#coEnter} from another thread ({@code aio_co_enter}): scheduled into the
 *       context, the loop woken.
 *   <li>{@link Coroutine#enter(AioContext)} on a thread that does not poll the context ({@code
 *       qemu_aio_coroutine_enter}), the coroutine then waiting in it ({@code sleepNs(0)}): the wait
 *       is published by the entering thread once the coroutine has yielded, and must wake the loop
 *       (and must not be seen by the loop while the coroutine still runs).
 *   <li>{@code enter(ctx)} to a plain yield and a wake, both from the same foreign thread: the
 *       context recorded by the enter is where the wake schedules it.
 * </ul>
 *
 * <p>Each coroutine counts itself ({@code seen}) when it runs past its suspension, which happens on
 * the loop thread only; {@code promised} is counted before the operation acts.
 */
public class WakeEnterModelTest {
    /** At most this many operations run in one scenario (threads x actors + after). */
    private static final int MAX_OPERATIONS = 3 * 2 + 1;

    private final AioContext ctx = AioContext.create();
    private final AtomicInteger promised = new AtomicInteger();
    /** Coroutines suspended (plain yield) in ctx before the operations run, one per wake. */
    private final Coroutine[] suspended = new Coroutine[MAX_OPERATIONS];
    private final AtomicInteger nextSuspended = new AtomicInteger();
    /** Loop thread only (each coroutine runs past its suspension there). */
    private int seen;

    public WakeEnterModelTest() {
        for (int i = 0; i < suspended.length; i++) {
            Coroutine co = Coroutine.create(new HandWoven(yieldCall(), plain(this::saw)));
            co.enter(ctx); // runs to its yield on this thread; its context is ctx from now on
            suspended[i] = co;
        }
    }

    private void saw() {
        seen++;
    }

    /** {@code aio_co_wake} from another thread of a coroutine yielded in ctx. */
    @Operation
    public void wakeSuspended() {
        promised.incrementAndGet();
        suspended[nextSuspended.getAndIncrement()].wake();
    }

    /** {@code aio_co_enter} from another thread: scheduled into ctx. */
    @Operation
    public void coEnterFromAnotherThread() {
        promised.incrementAndGet();
        ctx.coEnter(Coroutine.create(this::saw));
    }

    /** enter(ctx) here, then a wait in ctx published from here after the yield. */
    @Operation
    public void enterInContextThenSleep() {
        promised.incrementAndGet();
        Coroutine.create(new HandWoven(
                call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class, () -> Coroutine.sleepNs(ClockType.REALTIME, 0)),
                plain(this::saw))).enter(ctx);
    }

    /** enter(ctx) here to a plain yield, then wake it from here: scheduled in ctx. */
    @Operation
    public void enterInContextThenWake() {
        promised.incrementAndGet();
        Coroutine co = Coroutine.create(new HandWoven(yieldCall(), plain(this::saw)));
        co.enter(ctx);
        co.wake();
    }

    /** The loop: blocks only while a coroutine promised so far has not run past its suspension. */
    @Operation(nonParallelGroup = "loop")
    public void pollUntilAllSeen() {
        while (seen < promised.get()) {
            ctx.poll(true);
        }
    }

    /**
     * The sequential specification: every operation returns nothing, so any order is correct and
     * the only failure is a loop that never returns (a deadlock in the model). The verifier runs it
     * instead of this class, on real threads, where a lost wake-up would park for ever.
     */
    public static final class Spec {
        @Operation
        public void wakeSuspended() {}

        @Operation
        public void coEnterFromAnotherThread() {}

        @Operation
        public void enterInContextThenSleep() {}

        @Operation
        public void enterInContextThenWake() {}

        @Operation(nonParallelGroup = "loop")
        public void pollUntilAllSeen() {}
    }

    @Test
    void aCoroutineMadeToRunFromAnotherThreadRunsInTheContextAndWakesIt() {
        new ModelCheckingOptions()
                .iterations(Integer.getInteger("aioco.lincheck.iterations", 10))
                .invocationsPerIteration(200)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(1)
                .sequentialSpecification(Spec.class)
                .check(getClass());
    }
}
