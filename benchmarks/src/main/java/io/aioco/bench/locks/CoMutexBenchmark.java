package io.aioco.bench.locks;

import io.aioco.CoMutex;
import io.aioco.Coroutine;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * CoMutex on one thread (PERFORMANCE.md): an uncontended lock + unlock, and the hand-off of a
 * contended lock between two coroutines (QEMU's perf of CoMutex on one AioContext). Run under the
 * agent: {@code java -javaagent:agent/target/aioco-agent.jar -jar benchmarks/target/aioco-benchmarks-jmh.jar CoMutexBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CoMutexBenchmark {
    private static final int PAIRS = 100;

    private final CoMutex mutex = new CoMutex();
    private Coroutine uncontended;
    private Coroutine first;
    private Coroutine second;
    private boolean firstsTurn;

    @Setup
    public void setup() {
        uncontended = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < PAIRS; i++) {
                    mutex.lock();
                    mutex.unlock();
                }
                Coroutine.yield();
            }
        });
        CoMutex contended = new CoMutex();
        first = Coroutine.create(() -> {
            while (true) {
                contended.lock();
                Coroutine.yield(); // holding it: the other one queues
                contended.unlock(); // hands it over; the other runs once this one waits again
            }
        });
        second = Coroutine.create(() -> {
            while (true) {
                contended.lock();
                Coroutine.yield();
                contended.unlock();
            }
        });
        first.enter(); // first holds the lock
        second.enter(); // second waits for it
        firstsTurn = true;
    }

    /** One lock + unlock of a free CoMutex (a hundred per resume, so the resume is amortised). */
    @Benchmark
    @OperationsPerInvocation(PAIRS)
    public void uncontendedLockUnlock() {
        uncontended.enter();
    }

    /**
     * One hand-off: the holder unlocks (the lock goes to the waiter, which runs when the holder
     * waits for the lock again), so each op is an unlock, a lock that waits, and two switches.
     */
    @Benchmark
    public void contendedHandOff() {
        (firstsTurn ? first : second).enter();
        firstsTurn = !firstsTurn;
    }
}
