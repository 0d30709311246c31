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
 * Model checking (Lincheck) of the three writers of a CoMutex's waiter list at once: a cancelled
 * waiter withdrawing, a coroutine queueing, and an unlock handing the lock over. The list and the
 * waiter count are guarded by the LISTING bit of the mutex's state word (a spin bit, not a
 * monitor), which each of them takes by a CAS and clears by a release store of the state it
 * computed: a store that loses another's update of the count, or a list change made without the
 * bit, strands a waiter or lets two coroutines in. Set up before the threads start: a holder holds
 * the mutex and sits at a yield, waiter 1 is queued behind it. Then three threads run one operation
 * each, by ticket: one cancels waiter 1, one starts waiter 2 (which takes the lock or queues), one
 * resumes the holder, which unlocks. The coroutines have no context: a hand-off or a cancellation
 * runs the woken coroutine on the thread that makes it. After every interleaving: every coroutine
 * finished (waiter 1 through its CancellationException or normally), each critical section ran
 * alone, and the mutex is free.
 */
public class CoMutexWithdrawDuringQueueModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven first;
    private final Coroutine firstCo;
    private final HandWoven second;

    public CoMutexWithdrawDuringQueueModelTest() throws InterruptedException {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        first = lockedSection();
        firstCo = Coroutine.create(first);
        second = lockedSection();
        // NOTE: entered on a fresh thread, which has no current context: the thread that makes this
        // instance may have one (the main loop's, left by an earlier test class), and coroutines of a
        // context would be woken by a bottom half that nobody runs here
        Thread setup = new Thread(() -> {
            holderCo.enter(); // holds the lock, suspended at its yield
            firstCo.enter(); // queued behind the holder
        }, "setup");
        setup.start();
        setup.join();
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
        int ticket = tickets.getAndIncrement();
        if (ticket == 0) {
            firstCo.cancel(); // withdraws waiter 1 unless the hand-off reached it first
        } else if (ticket == 1) {
            Coroutine.create(second).enter(); // locks: free, or queued behind whoever holds it
        } else {
            holderCo.enter(); // unlocks: hands the lock on
        }
    }

    @Validate
    public void nobodyIsStrandedAndEveryCriticalSectionRanAlone() {
        if (!holder.finished()) {
            throw new AssertionError("the holder did not finish");
        }
        if (!first.finished()) {
            throw new AssertionError("waiter 1 never finished: queued behind a lock nobody hands over");
        }
        if (!second.finished()) {
            throw new AssertionError("waiter 2 never finished: queued behind a lock nobody hands over");
        }
        if (overlaps.get() != 0) {
            throw new AssertionError("critical sections overlapped");
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void aWithdrawalAQueueingAndAHandOffAtOnceStrandNobody() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(3)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(150)
                .minimizeFailedScenario(false)
                .check(getClass());
    }
}
