package io.aioco.bench.locks;

import io.aioco.Coroutine;
import io.aioco.IOThread;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * A cross-thread wake round trip (PERFORMANCE.md): two coroutines on two IOThreads wake each
 * other in turn ({@code Coroutine.wake()} from another thread schedules through the target's
 * bottom half and wakes its loop), next to two platform threads doing the same with
 * {@code LockSupport.park/unpark}, and, on JDK 21+, two virtual threads. One op is one round trip
 * (two wakes). Run under the agent.
 *
 * <p>The IOThreads busy-poll up to 32,768 ns (QEMU's default {@code poll-max-ns}) before they park,
 * and live for the whole trial. The first baselines ({@code platformThreadsParkUnpark},
 * {@code virtualThreadsParkUnpark}) park at once and start and join their two threads inside every
 * invocation, so they are not like for like. Added 2026-12-07: {@code longLivedThreads} keeps one
 * thread for the trial, ping-ponging with the JMH thread, and waits by spinning up to
 * {@code spinNs} before it parks: 0 is plain park/unpark, 32768 the same spin-then-park budget as
 * the IOThreads.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class CrossThreadWakeBenchmark {
    private static final int ROUND_TRIPS = 200;

    private IOThread left;
    private IOThread right;

    @Setup(Level.Trial)
    public void setup() {
        left = IOThread.start("bench-left");
        right = IOThread.start("bench-right");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        left.close();
        right.close();
    }

    /** Two coroutines on two IOThreads, {@code ROUND_TRIPS} round trips per invocation. */
    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void ioThreadCoroutines() throws Exception {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Coroutine[] pair = new Coroutine[2];
        pair[1] = Coroutine.create(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                Coroutine.yield(); // woken by the left one
                pair[0].wake();
            }
        });
        pair[0] = Coroutine.create(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                pair[1].wake();
                Coroutine.yield(); // woken by the right one
            }
            done.complete(null);
        });
        right.context().spawn(() -> {
            pair[1].enter(); // runs until its first yield, on the right thread: it belongs there now
            left.context().coSchedule(pair[0]);
            return null;
        });
        done.get(60, TimeUnit.SECONDS);
    }

    /** The same with two platform threads and LockSupport. */
    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void platformThreadsParkUnpark() throws Exception {
        pingPong(Thread::new);
    }

    private static final MethodHandle VIRTUAL_THREAD = virtualThreadFactory();

    private static MethodHandle virtualThreadFactory() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            return MethodHandles.publicLookup().findVirtual(builder.getClass().getInterfaces()[0], "unstarted",
                    MethodType.methodType(Thread.class, Runnable.class)).bindTo(builder);
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // JDK 17: no virtual threads
        }
    }

    /** The same with two virtual threads (JDK 21+; on JDK 17 it measures nothing and says so). */
    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void virtualThreadsParkUnpark() throws Exception {
        if (VIRTUAL_THREAD == null) {
            throw new UnsupportedOperationException("virtual threads need JDK 21+");
        }
        pingPong(task -> {
            try {
                return (Thread) VIRTUAL_THREAD.invoke(task);
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The long-lived partner thread of {@link #longLivedThreads}, with its own parameter. */
    @State(Scope.Thread)
    public static class Partner {
        /** Spin budget before each park: 0 (park at once) or the IOThreads' 32,768 ns. */
        @Param({"0", "32768"})
        public long spinNs;

        SpinThenPark pair;

        @Setup(Level.Trial)
        public void start() {
            pair = new SpinThenPark(spinNs);
        }

        @TearDown(Level.Trial)
        public void stop() throws InterruptedException {
            pair.stop();
        }
    }

    /**
     * The JMH thread and one thread started once per trial wake each other in turn, each waiting by
     * spinning for {@code spinNs} and then parking: the baseline that waits the way the IOThreads do.
     */
    @Benchmark
    @OperationsPerInvocation(ROUND_TRIPS)
    public void longLivedThreads(Partner partner) {
        partner.pair.roundTrips(ROUND_TRIPS);
    }

    /** Two threads taking turns on one volatile flag; each waits by spinning, then parking. */
    private static final class SpinThenPark {
        private final long spinNs;
        private final Thread echo;
        private volatile Thread caller;
        /** 1: the echo thread's turn, 0: the caller's, -1: stop. */
        private volatile int turn;

        SpinThenPark(long spinNs) {
            this.spinNs = spinNs;
            this.echo = new Thread(this::echoLoop, "bench-echo");
            echo.setDaemon(true);
            echo.start();
        }

        private void echoLoop() {
            while (await(1) >= 0) {
                turn = 0;
                LockSupport.unpark(caller);
            }
        }

        void roundTrips(int n) {
            caller = Thread.currentThread();
            for (int i = 0; i < n; i++) {
                turn = 1;
                LockSupport.unpark(echo);
                await(0);
            }
        }

        /** Waits until {@code turn} is {@code mine} (or -1), spinning up to spinNs, then parking. */
        private int await(int mine) {
            long deadline = spinNs > 0 ? System.nanoTime() + spinNs : 0;
            int t;
            while ((t = turn) != mine && t != -1) {
                if (spinNs > 0 && System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            return t;
        }

        void stop() throws InterruptedException {
            turn = -1;
            LockSupport.unpark(echo);
            echo.join();
        }
    }

    private interface Threads {
        Thread create(Runnable task);
    }

    private static void pingPong(Threads threads) throws InterruptedException {
        TurnFlag flags = new TurnFlag();
        Thread[] pair = new Thread[2];
        pair[1] = threads.create(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                while (flags.turn != 1) {
                    LockSupport.park();
                }
                flags.turn = 0;
                LockSupport.unpark(pair[0]);
            }
        });
        pair[0] = threads.create(() -> {
            for (int i = 0; i < ROUND_TRIPS; i++) {
                flags.turn = 1;
                LockSupport.unpark(pair[1]);
                while (flags.turn != 0) {
                    LockSupport.park();
                }
            }
        });
        pair[1].start();
        pair[0].start();
        pair[0].join();
        pair[1].join();
    }

    private static final class TurnFlag {
        volatile int turn;
    }
}
