package io.aioco.bench.coroutine;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Heap per suspended coroutine (PERFORMANCE.md: depth 1, two live locals). Run with JMH's GC
 * profiler and read {@code gc.alloc.rate.norm}, the bytes allocated per operation: one operation
 * creates a coroutine and runs it to its first suspension, so everything it allocates is what a
 * suspended coroutine holds (the coroutine, its frame storage and the saved slots).
 *
 * <pre>
 * java -javaagent:agent/target/aioco-agent.jar -jar benchmarks/target/aioco-benchmarks-jmh.jar Footprint -prof gc
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class FootprintBenchmark {
    private long seed = 1;

    @CoroutineFn
    static void twoLiveLocals() {
        long counter = System.nanoTime();
        String name = "x";
        Coroutine.yield();
        if (counter == 42) {
            System.out.println(name);
        }
    }

    @Benchmark
    public Coroutine suspendedDepth1TwoLocals() {
        Coroutine co = Coroutine.create(FootprintBenchmark::twoLiveLocals);
        co.enter();
        seed++;
        return co;
    }
}
