package io.aioco.bench.coroutine;

import io.aioco.CoMutex;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;

/**
 * The switch figures of {@link CoroutineBenchmark} and {@code CoMutexBenchmark} (yield + resume at
 * depth 1 and 10, a CoMutex hand-off between two coroutines) timed in the calling thread's CPU
 * time instead of wall time: on the shared 2-core machine, time spent descheduled while other
 * builds run is not counted, so two versions can be compared under load (the spread of the rounds
 * stays within a few percent where JMH's errors reach 100%). Cache misses and frequency changes
 * caused by the other processes still count. Not a JMH benchmark; run under the agent:
 * {@code java -javaagent:agent/target/aioco-agent.jar=cache=off -cp
 * benchmarks/target/aioco-benchmarks-jmh.jar io.aioco.bench.coroutine.ThreadCpuSwitch yield1|yield10|handoff
 * ROUNDS ENTERS}; prints the median, lowest and highest ns per enter over the rounds, after five
 * warm-up rounds. A hand-off's op is one enter, as in {@code CoMutexBenchmark.contendedHandOff}.
 */
public final class ThreadCpuSwitch {
    private ThreadCpuSwitch() {}

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

    @CoroutineFn
    static void lockYieldUnlock(CoMutex mutex) {
        while (true) {
            mutex.lock();
            Coroutine.yield(); // holding it: the other one queues
            mutex.unlock(); // hands it over; the other runs once this one waits again
        }
    }

    @CoroutineFn
    static void nothing() {}

    /** The last coroutine created by {@code create} (so that the creation is not dropped). */
    static Coroutine created;

    /**
     * {@code create}: CoroutineBenchmark.createEnterTerminate (create, enter, run to the end), two
     * per iteration, in thread CPU.
     */
    private static void create(int rounds, int enters) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] perOp = new double[rounds];
        for (int round = -5; round < rounds; round++) {
            long start = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < enters; i++) {
                Coroutine co = Coroutine.create(ThreadCpuSwitch::nothing);
                co.enter();
                created = co;
                co = Coroutine.create(ThreadCpuSwitch::nothing);
                co.enter();
                created = co;
            }
            long cpu = threads.getCurrentThreadCpuTime() - start;
            if (round >= 0) {
                perOp[round] = cpu / (2.0 * enters);
            }
        }
        Arrays.sort(perOp);
        System.out.printf("create: median %.2f, min %.2f, max %.2f ns per create + enter + end (thread CPU, %d"
                + " rounds)%n", perOp[rounds / 2], perOp[0], perOp[rounds - 1], rounds);
    }

    /**
     * @param args {@code yield1}, {@code yield10}, {@code handoff} or {@code create}; rounds;
     *     enters of each coroutine per round
     */
    public static void main(String[] args) {
        String which = args[0];
        int rounds = Integer.parseInt(args[1]);
        int enters = Integer.parseInt(args[2]);
        if (which.equals("create")) {
            create(rounds, enters);
            return;
        }
        Coroutine a;
        Coroutine b;
        switch (which) {
            case "yield1" -> a = b = Coroutine.create(ThreadCpuSwitch::yieldForever);
            case "yield10" -> a = b = Coroutine.create(() -> descend(9)); // as CoroutineBenchmark's depth 10
            case "handoff" -> {
                CoMutex mutex = new CoMutex();
                a = Coroutine.create(() -> lockYieldUnlock(mutex));
                b = Coroutine.create(() -> lockYieldUnlock(mutex));
            }
            default -> throw new IllegalArgumentException("yield1, yield10, handoff or create: " + which);
        }
        a.enter(); // a holds the lock (handoff) or has yielded
        if (b != a) {
            b.enter(); // b waits for the lock
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] perOp = new double[rounds];
        for (int round = -5; round < rounds; round++) {
            long start = threads.getCurrentThreadCpuTime();
            for (int i = 0; i < enters; i++) {
                a.enter();
                b.enter();
            }
            long cpu = threads.getCurrentThreadCpuTime() - start;
            if (round >= 0) {
                perOp[round] = cpu / (2.0 * enters);
            }
        }
        Arrays.sort(perOp);
        System.out.printf("%s: median %.2f, min %.2f, max %.2f ns per enter (thread CPU, %d rounds)%n", which,
                perOp[rounds / 2], perOp[0], perOp[rounds - 1], rounds);
    }
}
