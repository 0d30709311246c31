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
 * Model checking (Lincheck) of a cancellation racing with a CoMutex hand-off (issue 16 item 4, the
 * hostile review's finding 10). Set up before the threads start: a holder holds the mutex and
 * sits at a yield; waiters 1 and 2 are queued behind it. Then two threads run one operation each,
 * its role the ticket it draws: one resumes the holder, which unlocks (handing the lock to the
 * first waiter whose cancellation has not won); the other cancels waiter 1, which may be queued,
 * being handed the lock, or holding it. The coroutines have no context, so a hand-off or a
 * cancellation runs the woken coroutine on the thread that makes it. After every interleaving:
 * every coroutine finished (waiter 1 through its CancellationException, or normally when the
 * hand-off won; nobody is left queued behind a free lock), each critical section ran alone, and
 * the mutex is free. The canceller claims the waiter under the mutex's LISTING bit, where the
 * hand-off completes it, both by plain stores: a claim made outside LISTING lets both win (the
 * lock handed to a waiter that is also cancelled), which this finds within its 200 invocations.
 */
public class CoMutexCancelModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven[] waiters = new HandWoven[2];
    private final Coroutine[] waiterCos = new Coroutine[2];

    public CoMutexCancelModelTest() {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        holderCo.enter(); // holds the lock, suspended at its yield
        for (int i = 0; i < waiters.length; i++) {
            waiters[i] = lockedSection();
            waiterCos[i] = Coroutine.create(waiters[i]);
            waiterCos[i].enter(); // queued behind the holder
        }
    }

    /** Locks (a cancellation is caught), and if it got the lock, runs a critical section and unlocks. */
    private HandWoven lockedSection() {
        boolean[] holds = new boolean[1];
        return new HandWoven(call("lock", "()V", mutex, () -> {
            try {
                mutex.lock();
                holds[0] = true; // a dummy return while suspended; the resume sets it for good
            } catch (CancellationException e) {
                holds[0] = false;
            }
        }), plain(() -> {
            if (holds[0]) {
                if (inside.incrementAndGet() != 1) {
                    overlaps.incrementAndGet();
                }
                inside.decrementAndGet();
            }
        }), call("unlock", "()V", mutex, () -> {
            if (holds[0]) {
                mutex.unlock();
            }
        }));
    }

    @Operation
    public void step() {
        if (tickets.getAndIncrement() == 0) {
            holderCo.enter(); // unlocks: hands the lock on
        } else {
            waiterCos[0].cancel();
        }
    }

    @Validate
    public void nobodyIsLeftBehindAFreeLockAndEveryCriticalSectionRanAlone() {
        if (!holder.finished()) {
            throw new AssertionError("the holder did not finish");
        }
        for (int i = 0; i < waiters.length; i++) {
            if (!waiters[i].finished()) {
                throw new AssertionError("waiter " + (i + 1) + " never finished: queued behind a lock nobody hands over");
            }
        }
        if (overlaps.get() != 0) {
            throw new AssertionError("critical sections overlapped");
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void aCancellationRacingAHandOffLosesNoLockAndStrandsNoWaiter() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(200)
                .check(getClass());
    }
}
