package io.aioco;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of the notify/poll handshake (runtime/DESIGN.md): every kind of change
 * another thread can make that a parked loop must wake for, against a loop thread that polls,
 * blocking, until it has seen every change promised so far. The invariant is QEMU's: a change made
 * before a poll announces its wait is seen by that poll, or wakes it. A lost wake-up leaves the
 * loop parked for ever after every other thread has finished, which the model checker reports as a
 * deadlock, with the interleaving.
 *
 * <p>Each change is counted ({@code promised}) before it is published, and counted again ({@code
 * seen}) when its callback runs on the loop; the loop blocks only while a promised change has not
 * been seen, so a loop that blocks for ever has lost one. Notifications ({@link
 * AioContext#notifyEvent()}) have no callback: a poll that returned serves every one promised
 * before it returned (they coalesce, as QEMU's {@code ctx->notified} does).
 *
 * <p>Channels need a selector, which the model checker cannot drive: {@link LoopStressTest} covers
 * fd handlers set and removed, and thread-pool completions (whose workers it cannot drive either),
 * with real threads. The switch of a wait from park to select when it adds its first channel, with
 * a waker racing it, is model-checked on the poller itself ({@code
 * io.aioco.internal.loop.ReannounceModelTest}).
 */
public class HandshakeModelTest {
    private final AioContext ctx = AioContext.create();
    private final AtomicInteger promised = new AtomicInteger();
    private final AtomicInteger notifies = new AtomicInteger();
    /** Loop thread only. */
    private int seen;
    /** Loop thread only: the notifies served by polls so far. */
    private int notifiesServed;

    private void saw() {
        seen++;
    }

    @Operation
    public void scheduleBottomHalf() {
        promised.incrementAndGet();
        ctx.newBottomHalf(this::saw).schedule();
    }

    @Operation
    public void scheduleOneshot() {
        promised.incrementAndGet();
        ctx.scheduleOneshot(this::saw);
    }

    @Operation
    public void armTimerDueNow() {
        promised.incrementAndGet();
        ctx.newTimer(ClockType.REALTIME, this::saw).modNs(System.nanoTime() - 1);
    }

    @Operation
    public void setEventNotifierThenHandler() {
        promised.incrementAndGet();
        EventNotifier n = new EventNotifier();
        n.set();
        ctx.setEventNotifier(n, e -> {
            if (e.testAndClear()) {
                saw();
            }
        });
    }

    @Operation
    public void setHandlerThenEventNotifier() {
        promised.incrementAndGet();
        EventNotifier n = new EventNotifier();
        ctx.setEventNotifier(n, e -> {
            if (e.testAndClear()) {
                saw();
            }
        });
        n.set();
    }

    @Operation
    public void scheduleCoroutine() {
        promised.incrementAndGet();
        ctx.coSchedule(Coroutine.create(this::saw));
    }

    @Operation
    public void notifyEvent() {
        notifies.incrementAndGet();
        ctx.notifyEvent();
    }

    /** The loop: blocks only while a change promised so far is still unseen. */
    @Operation(nonParallelGroup = "loop")
    public void pollUntilAllSeen() {
        for (;;) {
            if (seen >= promised.get() && notifiesServed >= notifies.get()) {
                return;
            }
            int before = notifies.get();
            ctx.poll(true);
            // Every notify promised before the poll returned was published before it (or will be
            // published with its flag still up): served.
            notifiesServed = Math.max(before, notifies.get());
        }
    }

    @Test
    void aChangeFromAnotherThreadIsSeenByThePollOrWakesIt() {
        new ModelCheckingOptions()
                .iterations(Integer.getInteger("aioco.lincheck.iterations", 10))
                .invocationsPerIteration(200)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(1)
                .check(getClass());
    }
}
