package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;

import java.lang.reflect.Field;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Review rv14a: model checking (Lincheck) of two cancellers of one CoMutex waiter racing a
 * hand-off: {@link Coroutine#cancel()} and the expiry of a timeout scope around the wait ({@link
 * TimeoutScope#expire()}, what a {@code withTimeoutNs} deadline's timer runs). Both claim the
 * waiter under the mutex's LISTING bit by a plain store of CANCELLING, the hand-off completes it
 * there by a plain store of WOKEN: exactly one of the three may win. Set up before the threads
 * start: a holder holds the mutex and sits at a yield; waiter 1, inside a timeout scope (set on its
 * coroutine as withTimeoutNs sets it; no timer is armed, the expiry is called directly), and waiter
 * 2 are queued behind it. Then three threads run one operation each, by ticket: one resumes the
 * holder, which unlocks; one cancels waiter 1's coroutine; one expires the scope. After every
 * interleaving: every coroutine finished (waiter 1 through its CancellationException or
 * CoroutineTimeoutException, or normally), each critical section ran alone, waiter 1 was resumed
 * once, and the mutex is free.
 */
public class CoMutexTwoCancellersModelTest {
    private final CoMutex mutex = new CoMutex();
    private final AtomicInteger tickets = new AtomicInteger();
    private final AtomicInteger inside = new AtomicInteger();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger resumes = new AtomicInteger();
    private final HandWoven holder;
    private final Coroutine holderCo;
    private final HandWoven[] waiters = new HandWoven[2];
    private final Coroutine[] waiterCos = new Coroutine[2];
    private final TimeoutScope scope;

    public CoMutexTwoCancellersModelTest() throws ReflectiveOperationException {
        holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        holderCo = Coroutine.create(holder);
        holderCo.enter(); // holds the lock, suspended at its yield
        for (int i = 0; i < waiters.length; i++) {
            waiters[i] = lockedSection(i == 0);
            waiterCos[i] = Coroutine.create(waiters[i]);
        }
        scope = new TimeoutScope(waiterCos[0], null, "test scope");
        Field innermost = Coroutine.class.getDeclaredField("timeoutScope");
        innermost.setAccessible(true);
        innermost.set(waiterCos[0], scope); // what withTimeoutNs does before the body runs
        for (Coroutine co : waiterCos) {
            co.enter(); // queued behind the holder
        }
    }

    /** Locks (a cancellation is caught), and if it got the lock, runs a critical section and unlocks. */
    private HandWoven lockedSection(boolean counted) {
        boolean[] holds = new boolean[1];
        return new HandWoven(call("lock", "()V", mutex, () -> {
            try {
                mutex.lock();
                holds[0] = true; // a dummy return while suspended; the resume sets it for good
            } catch (CancellationException e) { // CoroutineTimeoutException too
                holds[0] = false;
            }
        }), plain(() -> {
            if (counted) {
                resumes.incrementAndGet();
            }
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
            holderCo.enter(); // unlocks: hands the lock on
        } else if (ticket == 1) {
            waiterCos[0].cancel();
        } else {
            scope.expire();
        }
    }

    @Validate
    public void oneOfTheThreeWinsAndNobodyIsStranded() {
        if (!holder.finished()) {
            throw new AssertionError("the holder did not finish");
        }
        for (int i = 0; i < waiters.length; i++) {
            if (!waiters[i].finished()) {
                throw new AssertionError("waiter " + (i + 1) + " never finished: queued behind a lock nobody hands over");
            }
        }
        if (resumes.get() != 1) {
            throw new AssertionError("waiter 1 went on " + resumes.get() + " times after its wait");
        }
        if (overlaps.get() != 0) {
            throw new AssertionError("critical sections overlapped");
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void twoCancellersAndAHandOffAtOnceLoseNoLockAndStrandNobody() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(3)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(300)
                .check(getClass());
    }
}
