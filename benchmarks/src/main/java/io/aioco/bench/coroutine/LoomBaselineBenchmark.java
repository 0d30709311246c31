package io.aioco.bench.coroutine;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
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
 * The same figures as {@link CoroutineBenchmark}, with Loom's internal {@code Continuation} (the
 * mechanism under virtual threads): the baseline aioco aims to beat. Needs JDK 21+ and
 * {@code --add-exports java.base/jdk.internal.vm=ALL-UNNAMED}; the classes are reached through
 * method handles so that this module still compiles for Java 17:
 *
 * <pre>
 * /usr/lib/jvm/temurin-25-jdk-amd64/bin/java --add-exports java.base/jdk.internal.vm=ALL-UNNAMED \
 *     -jar benchmarks/target/aioco-benchmarks-jmh.jar LoomBaseline \
 *     -jvmArgsAppend --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class LoomBaselineBenchmark {
    private static final MethodHandle NEW_SCOPE;
    private static final MethodHandle NEW_CONTINUATION;
    private static final MethodHandle RUN;
    private static final MethodHandle YIELD;
    private static final Object SCOPE;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            Class<?> scopeClass = Class.forName("jdk.internal.vm.ContinuationScope");
            Class<?> continuationClass = Class.forName("jdk.internal.vm.Continuation");
            NEW_SCOPE = lookup.findConstructor(scopeClass, MethodType.methodType(void.class, String.class));
            NEW_CONTINUATION = lookup.findConstructor(continuationClass,
                    MethodType.methodType(void.class, scopeClass, Runnable.class))
                    .asType(MethodType.methodType(Object.class, Object.class, Runnable.class));
            RUN = lookup.findVirtual(continuationClass, "run", MethodType.methodType(void.class))
                    .asType(MethodType.methodType(void.class, Object.class));
            YIELD = lookup.findStatic(continuationClass, "yield", MethodType.methodType(boolean.class, scopeClass))
                    .asType(MethodType.methodType(boolean.class, Object.class));
            SCOPE = NEW_SCOPE.invoke("bench");
        } catch (Throwable e) {
            throw new ExceptionInInitializerError("Loom's Continuation is not reachable (JDK 21+ and"
                    + " --add-exports java.base/jdk.internal.vm=ALL-UNNAMED are needed): " + e);
        }
    }

    private Object depth1;
    private Object depth10;

    static void yieldForever() {
        try {
            while (true) {
                boolean ignored = (boolean) YIELD.invokeExact(SCOPE);
            }
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }

    static void descend(int depth) {
        if (depth == 1) {
            yieldForever();
        } else {
            descend(depth - 1);
        }
    }

    private static Object continuation(Runnable body) throws Throwable {
        return (Object) NEW_CONTINUATION.invokeExact(SCOPE, body);
    }

    @Setup
    public void setup() throws Throwable {
        depth1 = continuation(LoomBaselineBenchmark::yieldForever);
        depth10 = continuation(() -> descend(9));
        RUN.invokeExact(depth1);
        RUN.invokeExact(depth10);
    }

    @Benchmark
    public void yieldResumeDepth1() throws Throwable {
        RUN.invokeExact(depth1);
    }

    @Benchmark
    public void yieldResumeDepth10() throws Throwable {
        RUN.invokeExact(depth10);
    }

    @Benchmark
    public Object createEnterTerminate() throws Throwable {
        Object continuation = continuation(LoomBaselineBenchmark::nothing);
        RUN.invokeExact(continuation);
        return continuation;
    }

    @Benchmark
    public Object createYieldOnceComplete() throws Throwable {
        Object continuation = continuation(LoomBaselineBenchmark::yieldOnce);
        RUN.invokeExact(continuation);
        RUN.invokeExact(continuation);
        return continuation;
    }

    static void nothing() {}

    static void yieldOnce() {
        try {
            boolean ignored = (boolean) YIELD.invokeExact(SCOPE);
        } catch (Throwable e) {
            throw new AssertionError(e);
        }
    }
}
