package io.aioco.bench.coroutine;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The Kotlin baseline of {@link CoroutineBenchmark}'s switch and creation rows, scenario for
 * scenario: Kotlin's compiled state machines ({@code KotlinStateMachines.kt}, suspend functions)
 * driven with the standard library's intrinsics only ({@code createCoroutineUnintercepted},
 * {@code Continuation.resume}, {@code suspendCoroutineUninterceptedOrReturn}): one thread, no
 * dispatcher, no kotlinx.coroutines, so that it measures the state machines as the aioco rows
 * measure aioco's switch. Each {@link KotlinCoroutine} is one object, its own completion, as an
 * aioco {@code Coroutine} is.
 *
 * <p>One difference is Kotlin's design, not the harness's: at depth 10 a Kotlin resume runs only
 * the innermost state machine (the one that suspended; the nine around it run again only when it
 * returns), where aioco's {@code enter()} re-enters all ten frames. Maps to nothing in QEMU.
 * JMH's benchmark thread is the only thread that touches the state.
 *
 * <p>{@code java -jar benchmarks/target/aioco-benchmarks-jmh.jar KotlinBaselineBenchmark}; the
 * headline run ({@code benchmarks/headline.sh}) runs it in the same JMH run as the aioco rows,
 * under the agent (which leaves these classes alone: they have no coroutine functions).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class KotlinBaselineBenchmark {
    private KotlinCoroutine depth1;
    private KotlinCoroutine depth10;

    @Setup
    public void setup() {
        depth1 = KotlinStateMachines.depth1();
        depth10 = KotlinStateMachines.depth10(); // the lambda + 9 descend frames + yieldForever
        depth1.enter();
        depth10.enter();
    }

    /** One resume and one yield, the yield one suspend function deep. */
    @Benchmark
    public void yieldResumeDepth1() {
        depth1.enter();
    }

    /** One resume and one yield, ten suspend functions deep. */
    @Benchmark
    public void yieldResumeDepth10() {
        depth10.enter();
    }

    /** QEMU's perf_lifecycle: create, enter, run to completion. */
    @Benchmark
    public KotlinCoroutine createEnterTerminate() {
        return KotlinStateMachines.createEnterTerminate();
    }

    /** Create, enter, yield once, enter again, complete. */
    @Benchmark
    public KotlinCoroutine createYieldOnceComplete() {
        return KotlinStateMachines.createYieldOnceComplete();
    }
}
