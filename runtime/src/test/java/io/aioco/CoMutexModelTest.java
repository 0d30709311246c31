package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of CoMutex hand-offs across threads. Each operation runs a coroutine on
 * its own thread that locks, does a read-modify-write of a plain counter, and unlocks. The
 * coroutines have no context, so a waiter handed the lock by an unlock on another thread runs on
 * that thread once the unlocking coroutine ends (the API allows it): the hand-off crosses threads
 * in every contended interleaving. After every interleaving: every coroutine finished (no lost
 * wake-up, no waiter entered while still running), the counter counts every critical section (no
 * two at once), and the mutex is free.
 */
public class CoMutexModelTest {
    private final CoMutex mutex = new CoMutex();
    private final List<HandWoven> started = new CopyOnWriteArrayList<>();
    private int counter;

    @Operation
    public void lockedIncrement() {
        HandWoven body = new HandWoven(call("lock", "()V", mutex, mutex::lock), plain(() -> {
            int seen = counter;
            counter = seen + 1;
        }), call("unlock", "()V", mutex, mutex::unlock));
        started.add(body);
        Coroutine.create(body).enter();
    }

    @Validate
    public void everyCriticalSectionRanAloneAndEveryWaiterWasWoken() {
        for (HandWoven body : started) {
            if (!body.finished()) {
                throw new AssertionError("a coroutine waiting for the mutex was never resumed");
            }
        }
        if (counter != started.size()) {
            throw new AssertionError("critical sections overlapped: " + counter + " of " + started.size());
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void handOffsAcrossThreadsLoseNoWakeUpAndKeepExclusion() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is the same shape
                .threads(3)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(150)
                .check(getClass());
    }
}
