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
 * Model checking (Lincheck) of a cancellation racing with hand-offs to a coroutine that waits for
 * the lock twice, so that its second wait renews its kept waiter (a new generation of the same
 * object, which {@link Coroutine#cancel()} reaches through a {@code currentWait} that was not
 * stored again). Set up before the threads start: a holder holds the mutex and sits at a yield;
 * the waiter is queued behind it. Then two threads run one operation each, by ticket: one resumes
 * the holder, which unlocks (the waiter runs on that thread, unlocks to the holder, which locked
 * again, and waits again on its renewed waiter) and, once resumed by the hand-off, unlocks again;
 * the other cancels the waiter, at its first wait, its second, between them or after. After every
 * interleaving: both coroutines finished (nobody stranded behind a lock nobody hands over, which a
 * cancellation that missed the renewed wait would do), each critical section ran alone, and the
 * mutex is free.
 */
public class CoMutexRenewModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven waiter;
    private final Coroutine waiterCo;

    public CoMutexRenewModelTest() {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock), call("lock", "()V", mutex, mutex::lock),
                plain(this::criticalSection), call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        holderCo.enter(); // holds the lock, suspended at its yield
        boolean[] holds = new boolean[2];
        waiter = new HandWoven(lockCatching(holds, 0), section(holds, 0), unlockIfHeld(holds, 0),
                lockCatching(holds, 1), section(holds, 1), unlockIfHeld(holds, 1));
        waiterCo = Coroutine.create(waiter);
        waiterCo.enter(); // queued behind the holder
    }

    private HandWoven.Call lockCatching(boolean[] holds, int i) {
        return call("lock", "()V", mutex, () -> {
            try {
                mutex.lock();
                holds[i] = true; // a dummy return while suspended; the resume sets it for good
            } catch (CancellationException e) {
                holds[i] = false;
            }
        });
    }

    private HandWoven.Call section(boolean[] holds, int i) {
        return plain(() -> {
            if (holds[i]) {
                criticalSection();
            }
        });
    }

    private HandWoven.Call unlockIfHeld(boolean[] holds, int i) {
        return call("unlock", "()V", mutex, () -> {
            if (holds[i]) {
                mutex.unlock();
            }
        });
    }

    private void criticalSection() {
        if (inside.incrementAndGet() != 1) {
            overlaps.incrementAndGet();
        }
        inside.decrementAndGet();
    }

    @Operation
    public void step() {
        if (tickets.getAndIncrement() == 0) {
            holderCo.enter(); // unlocks: the waiter runs, and the holder waits for it
        } else {
            waiterCo.cancel();
        }
    }

    @Validate
    public void nobodyIsStrandedAndEveryCriticalSectionRanAlone() {
        if (!holder.finished()) {
            throw new AssertionError("the holder never finished: queued behind a lock nobody hands over");
        }
        if (!waiter.finished()) {
            throw new AssertionError("the waiter never finished: queued behind a lock nobody hands over");
        }
        if (overlaps.get() != 0) {
            throw new AssertionError("critical sections overlapped");
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void aCancellationRacingHandOffsToARenewedWaiterStrandsNobody() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(60)
                .check(getClass());
    }
}
