package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;

import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of a coroutine that queues for a CoMutex while an unlock on another
 * thread hands the lock over: the hand-off's update of the waiter count (CoMutex.release, a read
 * and a store under the LISTING bit rather than an atomic add) must never lose the count of a waiter
 * that joins meanwhile. Set up before the threads start: a holder holds the mutex and sits at a
 * yield, a first waiter is queued behind it. Then two threads run one operation each, by ticket:
 * one resumes the holder, which unlocks (the lock goes to the first waiter, which runs on that
 * thread and unlocks in turn); the other starts a second waiter, which takes the lock or queues,
 * before, during or after either unlock. After every interleaving: all three coroutines finished
 * (a lost count makes the first waiter's unlock take the fast path and strand the second), each
 * critical section ran alone, and the mutex is free.
 */
public class CoMutexQueueDuringHandOffModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven first;
    private final HandWoven second;

    public CoMutexQueueDuringHandOffModelTest() {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        holderCo.enter(); // holds the lock, suspended at its yield
        first = lockedSection();
        Coroutine.create(first).enter(); // queued behind the holder
        second = lockedSection();
    }

    private HandWoven lockedSection() {
        return new HandWoven(call("lock", "()V", mutex, mutex::lock), plain(this::criticalSection),
                call("unlock", "()V", mutex, mutex::unlock));
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
            holderCo.enter(); // unlocks: hands the lock to the first waiter, which runs here
        } else {
            Coroutine.create(second).enter(); // locks: free, or queued behind whoever holds it
        }
    }

    @Validate
    public void nobodyIsStrandedAndEveryCriticalSectionRanAlone() {
        if (!holder.finished() || !first.finished()) {
            throw new AssertionError("the holder or the first waiter never finished");
        }
        if (!second.finished()) {
            throw new AssertionError("the second waiter never finished: queued behind a lock nobody hands over");
        }
        if (overlaps.get() != 0) {
            throw new AssertionError("critical sections overlapped");
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void aWaiterQueueingDuringAHandOffIsCountedAndWoken() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(600)
                .check(getClass());
    }
}
