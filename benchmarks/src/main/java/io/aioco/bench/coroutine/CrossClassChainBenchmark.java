package io.aioco.bench.coroutine;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.CompilerControl;
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
 * Chains of ten coroutine functions that never suspend, each function in a class of its own, as
 * real programs spread them; next to the same chains without the annotation. Unlike
 * {@code CoroutineBenchmark}'s chains (all in one class, whose calls the instrumenter turns into plain
 * calls, and whose inlinable chain computes a linear function the JIT folds), every level here reads
 * a table the JIT cannot fold, so what is measured is the calls and the protocol around them.
 *
 * <ul>
 *   <li>{@code staticChain*}: static calls from class to class, left to the JIT to inline.
 *   <li>{@code interfaceChain*}: calls through an interface to ten implementations, each one not
 *       inlined ({@code DONT_INLINE}), as a call chain through non-trivial methods would be.
 *   <li>{@code virtualChain*}: the same through an abstract class's method (one virtual call per
 *       level, no other call), each one not inlined.
 * </ul>
 * A hundred chains per resume of a coroutine, so the resume's cost (paid by both variants) is a
 * hundredth of an op. Run under the agent: {@code java -javaagent:agent/target/aioco-agent.jar -jar
 * benchmarks/target/aioco-benchmarks-jmh.jar CrossClassChainBenchmark} (forks inherit the agent).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
@State(Scope.Thread)
public class CrossClassChainBenchmark {
    static final int CHAINS_PER_RESUME = 100;

    /** Read at every level; not final, so the JIT cannot fold it into a constant. */
    static int[] table = new int[16];

    static {
        for (int i = 0; i < table.length; i++) {
            table[i] = i * 0x9E3779B1;
        }
    }

    static int step(int x, int level) {
        return x * 31 + table[(x ^ level) & 15];
    }

    private int sink;
    private int input = 7;
    private Coroutine staticAnnotated;
    private Coroutine staticPlain;
    private Coroutine interfaceAnnotated;
    private Coroutine interfacePlain;
    private Coroutine virtualAnnotated;
    private Coroutine virtualPlain;

    @Setup
    public void setup() {
        staticAnnotated = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += S10.c(input + i);
                }
                Coroutine.yield();
            }
        });
        staticPlain = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += P10.c(input + i);
                }
                Coroutine.yield();
            }
        });
        Step annotated = new I1(new I2(new I3(new I4(new I5(new I6(new I7(new I8(new I9(new I10(null))))))))));
        PlainStep plain = new J1(new J2(new J3(new J4(new J5(new J6(new J7(new J8(new J9(new J10(null))))))))));
        interfaceAnnotated = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += annotated.apply(input + i);
                }
                Coroutine.yield();
            }
        });
        interfacePlain = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += plain.apply(input + i);
                }
                Coroutine.yield();
            }
        });
        VStep vAnnotated = new V1(new V2(new V3(new V4(new V5(new V6(new V7(new V8(new V9(new V10(null))))))))));
        WStep vPlain = new W1(new W2(new W3(new W4(new W5(new W6(new W7(new W8(new W9(new W10(null))))))))));
        virtualAnnotated = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += vAnnotated.apply(input + i);
                }
                Coroutine.yield();
            }
        });
        virtualPlain = Coroutine.create(() -> {
            while (true) {
                for (int i = 0; i < CHAINS_PER_RESUME; i++) {
                    sink += vPlain.apply(input + i);
                }
                Coroutine.yield();
            }
        });
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int virtualChainAnnotated() {
        virtualAnnotated.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int virtualChainPlain() {
        virtualPlain.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int staticChainAnnotated() {
        staticAnnotated.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int staticChainPlain() {
        staticPlain.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int interfaceChainAnnotated() {
        interfaceAnnotated.enter();
        return sink;
    }

    @Benchmark
    @OperationsPerInvocation(CHAINS_PER_RESUME)
    public int interfaceChainPlain() {
        interfacePlain.enter();
        return sink;
    }

    // ---- static calls, one class per level ----
    static final class S1 { @CoroutineFn static int c(int x) { return step(x, 1); } }
    static final class S2 { @CoroutineFn static int c(int x) { return step(S1.c(x), 2); } }
    static final class S3 { @CoroutineFn static int c(int x) { return step(S2.c(x), 3); } }
    static final class S4 { @CoroutineFn static int c(int x) { return step(S3.c(x), 4); } }
    static final class S5 { @CoroutineFn static int c(int x) { return step(S4.c(x), 5); } }
    static final class S6 { @CoroutineFn static int c(int x) { return step(S5.c(x), 6); } }
    static final class S7 { @CoroutineFn static int c(int x) { return step(S6.c(x), 7); } }
    static final class S8 { @CoroutineFn static int c(int x) { return step(S7.c(x), 8); } }
    static final class S9 { @CoroutineFn static int c(int x) { return step(S8.c(x), 9); } }
    static final class S10 { @CoroutineFn static int c(int x) { return step(S9.c(x), 10); } }

    static final class P1 { static int c(int x) { return step(x, 1); } }
    static final class P2 { static int c(int x) { return step(P1.c(x), 2); } }
    static final class P3 { static int c(int x) { return step(P2.c(x), 3); } }
    static final class P4 { static int c(int x) { return step(P3.c(x), 4); } }
    static final class P5 { static int c(int x) { return step(P4.c(x), 5); } }
    static final class P6 { static int c(int x) { return step(P5.c(x), 6); } }
    static final class P7 { static int c(int x) { return step(P6.c(x), 7); } }
    static final class P8 { static int c(int x) { return step(P7.c(x), 8); } }
    static final class P9 { static int c(int x) { return step(P8.c(x), 9); } }
    static final class P10 { static int c(int x) { return step(P9.c(x), 10); } }

    // ---- interface calls, ten implementations, none inlined ----
    interface Step { @CoroutineFn int apply(int x); }

    interface PlainStep { int apply(int x); }

    abstract static class Link implements Step {
        final Step next;
        final int level;

        Link(Step next, int level) {
            this.next = next;
            this.level = level;
        }

        @CoroutineFn
        final int rest(int x) {
            return next == null ? x : next.apply(x);
        }
    }

    static final class I1 extends Link { I1(Step n) { super(n, 1); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I2 extends Link { I2(Step n) { super(n, 2); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I3 extends Link { I3(Step n) { super(n, 3); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I4 extends Link { I4(Step n) { super(n, 4); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I5 extends Link { I5(Step n) { super(n, 5); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I6 extends Link { I6(Step n) { super(n, 6); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I7 extends Link { I7(Step n) { super(n, 7); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I8 extends Link { I8(Step n) { super(n, 8); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I9 extends Link { I9(Step n) { super(n, 9); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class I10 extends Link { I10(Step n) { super(n, 10); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }

    abstract static class PlainLink implements PlainStep {
        final PlainStep next;
        final int level;

        PlainLink(PlainStep next, int level) {
            this.next = next;
            this.level = level;
        }

        final int rest(int x) {
            return next == null ? x : next.apply(x);
        }
    }

    static final class J1 extends PlainLink { J1(PlainStep n) { super(n, 1); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J2 extends PlainLink { J2(PlainStep n) { super(n, 2); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J3 extends PlainLink { J3(PlainStep n) { super(n, 3); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J4 extends PlainLink { J4(PlainStep n) { super(n, 4); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J5 extends PlainLink { J5(PlainStep n) { super(n, 5); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J6 extends PlainLink { J6(PlainStep n) { super(n, 6); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J7 extends PlainLink { J7(PlainStep n) { super(n, 7); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J8 extends PlainLink { J8(PlainStep n) { super(n, 8); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J9 extends PlainLink { J9(PlainStep n) { super(n, 9); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }
    static final class J10 extends PlainLink { J10(PlainStep n) { super(n, 10); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) public int apply(int x) { return step(rest(x), level); } }

    // ---- virtual calls through an abstract class, ten subclasses, none inlined ----
    abstract static class VStep {
        final VStep next;
        final int level;

        VStep(VStep next, int level) {
            this.next = next;
            this.level = level;
        }

        @CoroutineFn
        abstract int apply(int x);
    }

    abstract static class WStep {
        final WStep next;
        final int level;

        WStep(WStep next, int level) {
            this.next = next;
            this.level = level;
        }

        abstract int apply(int x);
    }
    static final class V1 extends VStep { V1(VStep n) { super(n, 1); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V2 extends VStep { V2(VStep n) { super(n, 2); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V3 extends VStep { V3(VStep n) { super(n, 3); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V4 extends VStep { V4(VStep n) { super(n, 4); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V5 extends VStep { V5(VStep n) { super(n, 5); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V6 extends VStep { V6(VStep n) { super(n, 6); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V7 extends VStep { V7(VStep n) { super(n, 7); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V8 extends VStep { V8(VStep n) { super(n, 8); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V9 extends VStep { V9(VStep n) { super(n, 9); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class V10 extends VStep { V10(VStep n) { super(n, 10); } @CoroutineFn @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }

    static final class W1 extends WStep { W1(WStep n) { super(n, 1); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W2 extends WStep { W2(WStep n) { super(n, 2); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W3 extends WStep { W3(WStep n) { super(n, 3); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W4 extends WStep { W4(WStep n) { super(n, 4); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W5 extends WStep { W5(WStep n) { super(n, 5); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W6 extends WStep { W6(WStep n) { super(n, 6); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W7 extends WStep { W7(WStep n) { super(n, 7); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W8 extends WStep { W8(WStep n) { super(n, 8); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W9 extends WStep { W9(WStep n) { super(n, 9); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
    static final class W10 extends WStep { W10(WStep n) { super(n, 10); } @CompilerControl(CompilerControl.Mode.DONT_INLINE) int apply(int x) { return step(next == null ? x : next.apply(x), level); } }
}
