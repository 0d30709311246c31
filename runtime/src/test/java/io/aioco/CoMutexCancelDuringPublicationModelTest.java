package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of a cancellation racing the publication of a CoMutex wait. A waiter
 * is published (queued, PUBLISHED) under the LISTING bit of the mutex's state, where it also reads
 * the cancellation flag; a canceller that finds the wait UNPUBLISHED takes LISTING too and leaves
 * it to the publisher, one that finds it PUBLISHED claims it there and takes it out of the queue.
 * Either way the cancellation must reach the wait: a publisher that misses the flag while the
 * canceller misses the publication leaves the waiter queued behind a lock that is never unlocked.
 * Set up before the threads start: a holder holds the mutex for good (it never unlocks during the
 * run). Then two threads run one operation each, by ticket: one enters the waiter (which locks,
 * yields, and is published), the other cancels it. After every interleaving: the waiter finished,
 * through its CancellationException and without the lock, nobody is left queued (the holder's
 * unlock, run by the check, frees the mutex), and the lock was never taken from the holder.
 */
public class CoMutexCancelDuringPublicationModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final boolean[] cancelledWithoutLock = new boolean[1];
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven waiter;
    private final Coroutine waiterCo;

    public CoMutexCancelDuringPublicationModelTest() throws InterruptedException {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        waiter = new HandWoven(call("lock", "()V", mutex, () -> {
            try {
                mutex.lock();
                cancelledWithoutLock[0] = false; // a dummy return while suspended; the resume sets it for good
            } catch (CancellationException e) {
                cancelledWithoutLock[0] = !mutex.isHeldBy(waiterCo());
            }
        }), plain(() -> {}));
        waiterCo = Coroutine.create(waiter);
        // NOTE: entered on a fresh thread, which has no current context (see
        // CoMutexWithdrawDuringQueueModelTest)
        Thread setup = new Thread(holderCo::enter, "setup"); // holds the lock, suspended at its yield
        setup.start();
        setup.join();
    }

    private Coroutine waiterCo() {
        return waiterCo;
    }

    @Operation
    public void step() {
        if (tickets.getAndIncrement() == 0) {
            waiterCo.enter(); // locks: queued behind the holder, published after its yield
        } else {
            waiterCo.cancel(); // before, during or after the publication
        }
    }

    @Validate
    public void theCancellationReachedTheWaitAndNobodyIsLeftQueued() {
        if (!waiter.finished()) {
            throw new AssertionError("the waiter never finished: its cancellation was lost, and it is queued for good");
        }
        if (!cancelledWithoutLock[0]) {
            throw new AssertionError("the waiter did not end by its cancellation, without the lock");
        }
        if (!mutex.isHeldBy(holderCo)) {
            throw new AssertionError("the holder lost the lock");
        }
        holderCo.enter(); // unlocks: nobody must be queued any more
        if (!holder.finished() || mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked after the holder's unlock: a waiter was left queued");
        }
    }

    @Test
    void aCancellationRacingThePublicationReachesTheWait() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(200)
                .minimizeFailedScenario(false)
                .check(getClass());
    }
}
