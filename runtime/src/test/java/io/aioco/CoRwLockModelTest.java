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
 * Model checking (Lincheck) of CoRwLock hand-offs across threads: readers, writers and upgraders,
 * each a coroutine run by its own thread, with no context (a waiter granted the lock by another
 * thread runs there). Each critical section checks on entry that it is alone (a writer) or with
 * readers only (a reader), and counts itself. After every interleaving: no violation, every
 * coroutine finished, the write count is exact and the lock is free.
 */
public class CoRwLockModelTest {
    private final CoRwLock lock = new CoRwLock();
    private final List<HandWoven> started = new CopyOnWriteArrayList<>();
    private int readersInside;
    private boolean writerInside;
    private int writes;
    private int violations;

    private void start(HandWoven body) {
        started.add(body);
        Coroutine.create(body).enter();
    }

    private HandWoven.Call writeSection() {
        return plain(() -> {
            if (writerInside || readersInside != 0) {
                violations++;
            }
            writerInside = true;
            int seen = writes;
            writes = seen + 1;
            writerInside = false;
        });
    }

    @Operation
    public void write() {
        start(new HandWoven(call("wrlock", "()V", lock, lock::wrlock), writeSection(), call("unlock", "()V", lock, lock::unlock)));
    }

    @Operation
    public void read() {
        start(new HandWoven(call("rdlock", "()V", lock, lock::rdlock), plain(() -> {
            if (writerInside) {
                violations++;
            }
            readersInside++;
        }), plain(() -> readersInside--), call("unlock", "()V", lock, lock::unlock)));
    }

    @Operation
    public void upgrade() {
        start(new HandWoven(call("rdlock", "()V", lock, lock::rdlock), call("upgrade", "()V", lock, lock::upgrade), writeSection(),
                call("unlock", "()V", lock, lock::unlock)));
    }

    @Validate
    public void exclusiveWritersAndNoLostWaiter() {
        if (violations != 0) {
            throw new AssertionError(violations + " critical sections overlapped a writer");
        }
        for (HandWoven body : started) {
            if (!body.finished()) {
                throw new AssertionError("a coroutine waiting for the lock was never resumed");
            }
        }
        if (!lock.isFree()) {
            throw new AssertionError("the lock is still held or waited for");
        }
    }

    @Test
    void handOffsAcrossThreadsKeepExclusionAndLoseNoWaiter() {
        new ModelCheckingOptions()
                .iterations(2)
                .threads(3)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(30)
                .check(getClass());
    }
}
