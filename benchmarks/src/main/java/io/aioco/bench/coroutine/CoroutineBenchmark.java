package io.aioco.bench.coroutine;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The coroutine engine's figures (PERFORMANCE.md): yield + resume round trip at call depth 1 and
 * 10, create + run to completion (QEMU's perf_lifecycle), create + yield once + complete, and a
 * depth-10 chain of coroutine functions that never suspends next to the same chain uninstrumented.
 *
 * <p>Run under the agent: {@code java -javaagent:agent/target/aioco-agent.jar -jar
 * benchmarks/target/aioco-benchmarks-jmh.jar CoroutineBenchmark} (forks inherit the agent).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class CoroutineBenchmark {
    private Coroutine depth1;
    private Coroutine depth10;
    private int sink;

    @CoroutineFn
    static void yieldForever() {
        while (true) {
            Coroutine.yield();
        }
    }

    @CoroutineFn
    static void descend(int depth) {
        if (depth == 1) {
            yieldForever();
        } else {
            descend(depth - 1);
        }
    }

    @Setup
    public void setup() {
        depth1 = Coroutine.create(CoroutineBenchmark::yieldForever);
        depth10 = Coroutine.create(() -> descend(9)); // lambda body + 9 descend frames + yieldForever
        depth1.enter();
        depth10.enter();
    }

    /** One resume and one yield, the yield one instrumented frame deep. */
    @Benchmark
    public void yieldResumeDepth1() {
        depth1.enter();
    }

    /** One resume and one yield, ten instrumented frames deep. */
    @Benchmark
    public void yieldResumeDepth10() {
        depth10.enter();
    }

    /** QEMU's perf_lifecycle: create, enter, run to completion. */
    @Benchmark
    public Coroutine createEnterTerminate() {
        Coroutine co = Coroutine.create(CoroutineBenchmark::nothing);
        co.enter();
        return co;
    }

    /** Create, enter, yield once, enter again, complete. */
    @Benchmark
    public Coroutine createYieldOnceComplete() {
        Coroutine co = Coroutine.create(Coroutine::yield);
        co.enter();
        co.enter();
        return co;
    }

    @CoroutineFn
    static void nothing() {}

    /**
     * Not a coroutine figure: the cost of allocating one object of a coroutine's size (72 bytes
     * with compressed oops: a 14-slot array) on this machine, the floor under {@link
     * #createEnterTerminate} (which allocates exactly that, see {@code -prof gc}).
     */
    @Benchmark
    public Object allocationFloor72() {
        return new Object[14];
    }

    // ---- depth-10 chain that never suspends: instrumented vs plain ----

    private Coroutine chainRunner;
    private int chainInput = 7;

    @Setup
    public void setupChain() {
        chainRunner = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += Chain.c10(chainInput);
                }
                Coroutine.yield();
            }
        });
    }

    /** Chains per resume: the resume's cost, paid by both variants, is a hundredth of an op. */
    private static final int CHAINS_PER_RESUME = 100;

    /** Ten nested coroutine functions that never suspend (run in a coroutine, a hundred per resume). */
    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int chainInstrumented() {
        chainRunner.enter();
        return sink;
    }

    /** The same resume, with the same chain uninstrumented: the difference is the chain's instrumentation cost. */
    private Coroutine plainRunner;

    @Setup
    public void setupPlain() {
        plainRunner = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += PlainChain.c10(chainInput);
                }
                Coroutine.yield();
            }
        });
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int chainPlain() {
        plainRunner.enter();
        return sink;
    }

    private Coroutine inlinedRunner;
    private Coroutine inlinedPlainRunner;

    @Setup
    public void setupInlined() {
        inlinedRunner = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += InlinableChain.c10(chainInput + i);
                }
                Coroutine.yield();
            }
        });
        inlinedPlainRunner = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += InlinablePlainChain.c10(chainInput + i);
                }
                Coroutine.yield();
            }
        });
    }

    /** The same chain, left to the JIT: small methods get inlined, and so does the protocol. */
    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int chainInstrumentedInlinable() {
        inlinedRunner.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int chainPlainInlinable() {
        inlinedPlainRunner.enter();
        return sink;
    }

    static final class InlinableChain {
        @CoroutineFn static int c1(int x) { return x * 31 + 1; }
        @CoroutineFn static int c2(int x) { return c1(x) * 31 + 2; }
        @CoroutineFn static int c3(int x) { return c2(x) * 31 + 3; }
        @CoroutineFn static int c4(int x) { return c3(x) * 31 + 4; }
        @CoroutineFn static int c5(int x) { return c4(x) * 31 + 5; }
        @CoroutineFn static int c6(int x) { return c5(x) * 31 + 6; }
        @CoroutineFn static int c7(int x) { return c6(x) * 31 + 7; }
        @CoroutineFn static int c8(int x) { return c7(x) * 31 + 8; }
        @CoroutineFn static int c9(int x) { return c8(x) * 31 + 9; }
        @CoroutineFn static int c10(int x) { return c9(x) * 31 + 10; }
    }

    static final class InlinablePlainChain {
        static int c1(int x) { return x * 31 + 1; }
        static int c2(int x) { return c1(x) * 31 + 2; }
        static int c3(int x) { return c2(x) * 31 + 3; }
        static int c4(int x) { return c3(x) * 31 + 4; }
        static int c5(int x) { return c4(x) * 31 + 5; }
        static int c6(int x) { return c5(x) * 31 + 6; }
        static int c7(int x) { return c6(x) * 31 + 7; }
        static int c8(int x) { return c7(x) * 31 + 8; }
        static int c9(int x) { return c8(x) * 31 + 9; }
        static int c10(int x) { return c9(x) * 31 + 10; }
    }

    /** The chain's frames, not inlined (as a real call chain of non-trivial methods would be). */
    static final class Chain {
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c1(int x) { return x + 1; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c2(int x) { return c1(x) + 2; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c3(int x) { return c2(x) + 3; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c4(int x) { return c3(x) + 4; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c5(int x) { return c4(x) + 5; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c6(int x) { return c5(x) + 6; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c7(int x) { return c6(x) + 7; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c8(int x) { return c7(x) + 8; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c9(int x) { return c8(x) + 9; }
        @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c10(int x) { return c9(x) + 10; }
    }

    static final class PlainChain {
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c1(int x) { return x + 1; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c2(int x) { return c1(x) + 2; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c3(int x) { return c2(x) + 3; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c4(int x) { return c3(x) + 4; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c5(int x) { return c4(x) + 5; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c6(int x) { return c5(x) + 6; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c7(int x) { return c6(x) + 7; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c8(int x) { return c7(x) + 8; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c9(int x) { return c8(x) + 9; }
        @CompilerControl(CompilerControl.Mode.DONT_INLINE) static int c10(int x) { return c9(x) + 10; }
    }
}
