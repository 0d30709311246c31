package io.aioco.bench.loop;

import io.aioco.AioContext;
import io.aioco.BottomHalf;
import io.aioco.IOThread;
import io.netty.channel.DefaultEventLoop;
import io.netty.channel.EventLoop;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.EventLoopGroup;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
 * Bottom-half schedule + dispatch, next to Netty's {@code execute()} in the same run.
 *
 * <ul>
 *   <li>{@code loopThread*}: scheduling from the loop thread itself. aioco's JMH thread is the loop
 *       ({@code schedule(); poll(false)} per op). Netty's loop thread cannot be the JMH thread, so a
 *       task running on the loop executes {@link #BATCH} tasks and the op is one of them; aioco is
 *       measured the same way on an IOThread for an apples-to-apples row.
 *   <li>{@code crossThread*}: the JMH thread hands {@link #BATCH} tasks to a loop running on another
 *       thread and waits for the last to run: throughput of a cross-thread hand-off.
 *   <li>Added 2026-11-22: the batch rows above pay two cross-thread wake-ups (tens of µs on this
 *       VM) per 1000 ops, which hides the per-task cost. {@code loopThreadBatchInPollAioco} and
 *       {@code loopThreadRescheduleAioco} keep the JMH thread as the aioco loop (no wake-up at all);
 *       {@code loopThreadChainedBatch} and {@code crossThreadOneshotStream} run {@link #ROUNDS}
 *       batches per wake-up pair, for aioco and Netty alike.
 *   <li>Added 2026-12-07 (issue 18 item 4): {@code loopThreadSelfReschedule}, a task on the loop that
 *       schedules itself again from its own run, {@link #SELF_ROUNDS} times per wake-up pair (aioco:
 *       a bottom half on an IOThread, each round a whole blocking {@code poll}; Netty: a task that
 *       {@code execute()}s itself on its loop).
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
@State(Scope.Thread)
public class BottomHalfBench {
    static final int BATCH = 1000;
    static final int ROUNDS = 100;
    /** Rounds of the self-rescheduling task per op of {@link #loopThreadSelfReschedule}. */
    static final int SELF_ROUNDS = 100_000;

    @Param({"aioco", "netty-default", "netty-nio"})
    public String loop;

    // aioco, JMH thread as the loop
    private AioContext ctx;
    private BottomHalf bh;
    private long runs;

    // a loop on another thread
    private IOThread io;
    private BottomHalf[] ioBhs;
    private EventLoopGroup nettyGroup;
    private EventLoop netty;
    private Runnable nettyTask;
    private volatile CountDownLatch batchDone;
    private int nettyRuns;

    // added rows; each JMH-thread-as-loop row has its own context
    private AioContext batchCtx;
    private AioContext selfCtx;
    private BottomHalf starter; // JMH thread as loop: schedules localBhs from its callback
    private BottomHalf[] localBhs;
    private BottomHalf selfRescheduling;
    private BottomHalf[] chainBhs; // on the IOThread: the last one starts the next round
    private int rounds;
    private Runnable nettyChainTask;
    private Runnable nettyChainStart;
    private BottomHalf ioSelf; // on the IOThread: schedules itself SELF_ROUNDS times
    private Runnable nettySelf; // on Netty's loop: execute()s itself SELF_ROUNDS times
    private int selfRounds;

    @Setup(Level.Trial)
    public void setUp() {
        ctx = AioContext.create();
        bh = ctx.newBottomHalf(() -> runs++);
        switch (loop) {
            case "aioco" -> {
                io = IOThread.start("bench-io");
                ioBhs = new BottomHalf[BATCH];
                for (int i = 0; i < BATCH; i++) {
                    boolean last = i == BATCH - 1;
                    ioBhs[i] = io.context().newBottomHalf(last ? () -> batchDone.countDown() : () -> runs++);
                }
            }
            case "netty-default" -> {
                nettyGroup = new io.netty.channel.DefaultEventLoopGroup(1);
                netty = nettyGroup.next();
            }
            default -> {
                nettyGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
                netty = nettyGroup.next();
            }
        }
        nettyTask = () -> {
            if (++nettyRuns == BATCH) {
                batchDone.countDown();
            }
        };

        batchCtx = AioContext.create();
        selfCtx = AioContext.create();
        localBhs = new BottomHalf[BATCH];
        for (int i = 0; i < BATCH; i++) {
            localBhs[i] = batchCtx.newBottomHalf(() -> runs++);
        }
        starter = batchCtx.newBottomHalf(() -> {
            for (BottomHalf b : localBhs) {
                b.schedule();
            }
        });
        BottomHalf[] self = new BottomHalf[1];
        self[0] = selfCtx.newBottomHalf(() -> {
            runs++;
            self[0].schedule();
        });
        selfRescheduling = self[0];
        selfRescheduling.schedule();
        if (io != null) {
            chainBhs = new BottomHalf[BATCH];
            for (int i = 0; i < BATCH; i++) {
                boolean last = i == BATCH - 1;
                chainBhs[i] = io.context().newBottomHalf(last ? this::nextAiocoRound : () -> runs++);
            }
            BottomHalf[] ioSelfHolder = new BottomHalf[1];
            ioSelfHolder[0] = io.context().newBottomHalf(() -> {
                if (++selfRounds < SELF_ROUNDS) {
                    ioSelfHolder[0].schedule();
                } else {
                    batchDone.countDown();
                }
            });
            ioSelf = ioSelfHolder[0];
        } else {
            nettySelf = new Runnable() {
                @Override
                public void run() {
                    if (++selfRounds < SELF_ROUNDS) {
                        netty.execute(this);
                    } else {
                        batchDone.countDown();
                    }
                }
            };
            nettyChainStart = () -> {
                nettyRuns = 0;
                for (int i = 0; i < BATCH; i++) {
                    netty.execute(nettyChainTask);
                }
            };
            nettyChainTask = () -> {
                if (++nettyRuns == BATCH) {
                    if (++rounds < ROUNDS) {
                        nettyChainStart.run();
                    } else {
                        batchDone.countDown();
                    }
                }
            };
        }
    }

    /** On the IOThread: the last bottom half of a round schedules the next round, or ends the op. */
    private void nextAiocoRound() {
        if (++rounds < ROUNDS) {
            for (BottomHalf b : chainBhs) {
                b.schedule();
            }
        } else {
            batchDone.countDown();
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        ctx.close();
        batchCtx.close();
        selfCtx.close();
        if (io != null) {
            io.close();
        }
        if (nettyGroup != null) {
            nettyGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        }
    }

    /** aioco only (the other params repeat it): schedule from the loop thread, dispatch, per op. */
    @Benchmark
    public long loopThreadScheduleAndPollAioco() {
        bh.schedule();
        ctx.poll(false);
        return runs;
    }

    /** From the loop thread, BATCH schedules inside one task, dispatched by the loop. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void loopThreadBatch() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        if (io != null) {
            io.context().scheduleOneshot(() -> {
                for (BottomHalf b : ioBhs) {
                    b.schedule();
                }
            });
        } else {
            netty.execute(() -> {
                nettyRuns = 0;
                for (int i = 0; i < BATCH; i++) {
                    netty.execute(nettyTask);
                }
            });
        }
        done.await();
    }

    /** From another thread (the JMH thread), BATCH hand-offs, then wait for the last to run. */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void crossThreadBatch() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        if (io != null) {
            for (BottomHalf b : ioBhs) {
                b.schedule();
            }
        } else {
            netty.execute(() -> nettyRuns = 0);
            for (int i = 0; i < BATCH; i++) {
                netty.execute(nettyTask);
            }
        }
        done.await();
    }

    /**
     * From another thread, {@link #BATCH} one-shot hand-offs, each with a new task object created in
     * the measured loop (aioco: {@code scheduleOneshot}, Netty: {@code execute}), then wait for the
     * last to run. Until 2026-12-07 the Netty rows of this benchmark re-ran {@link #crossThreadBatch}
     * (one pre-created task) and the aioco row reused one Runnable: neither created a task per op.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void crossThreadOneshotBatch() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        if (io != null) {
            AioContext target = io.context();
            for (int i = 0; i < BATCH - 1; i++) {
                target.scheduleOneshot(newTask(i));
            }
            target.scheduleOneshot(done::countDown);
        } else {
            for (int i = 0; i < BATCH - 1; i++) {
                netty.execute(newTask(i));
            }
            netty.execute(done::countDown);
        }
        done.await();
    }

    /** A new task object per call (it captures {@code i}), as a caller of a one-shot API makes. */
    private Runnable newTask(int i) {
        return () -> runs += i & 1;
    }

    /**
     * aioco only (the other params repeat it): the JMH thread is the loop; a bottom half schedules
     * {@link #BATCH} others from its callback, the next poll runs them. Op = one schedule + run, with
     * no cross-thread wake-up in the measurement.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public long loopThreadBatchInPollAioco() {
        starter.schedule();
        batchCtx.poll(false);
        batchCtx.poll(false);
        return runs;
    }

    /**
     * aioco only (the other params repeat it): the JMH thread is the loop; a bottom half schedules
     * itself again from its callback (QEMU's usual pattern). Op = one poll(false) that runs it.
     */
    @Benchmark
    public long loopThreadRescheduleAioco() {
        selfCtx.poll(false);
        return runs;
    }

    /**
     * From the loop thread, {@link #ROUNDS} batches of {@link #BATCH} chained on the loop (the last
     * task of a batch schedules the next): two cross-thread wake-ups per ROUNDS * BATCH ops.
     */
    @Benchmark
    @OperationsPerInvocation(BATCH * ROUNDS)
    public void loopThreadChainedBatch() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        rounds = 0;
        if (io != null) {
            io.context().scheduleOneshot(() -> {
                for (BottomHalf b : chainBhs) {
                    b.schedule();
                }
            });
        } else {
            netty.execute(nettyChainStart);
        }
        done.await();
    }

    /**
     * From the loop thread, a task that schedules itself again from its own run, {@link #SELF_ROUNDS}
     * times, the last round ending the op: aioco's bottom half on an IOThread calls {@code
     * schedule()} on itself (QEMU's pattern; each round is a whole blocking {@code aio_poll}: the
     * bottom half runs in the poll after the one that scheduled it), Netty's task calls {@code
     * execute(this)} on its loop (its task queue runs it again in the same pass). Two cross-thread
     * wake-ups per {@link #SELF_ROUNDS} ops (the start and the latch).
     */
    @Benchmark
    @OperationsPerInvocation(SELF_ROUNDS)
    public void loopThreadSelfReschedule() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        selfRounds = 0; // published by the schedule / execute below
        if (io != null) {
            ioSelf.schedule();
        } else {
            netty.execute(nettySelf);
        }
        done.await();
    }

    /**
     * From another thread, {@link #ROUNDS} * {@link #BATCH} one-shot hand-offs (Netty: execute), a new
     * task object per op on both sides, then wait for the last: the hand-off cost with the two
     * wake-ups amortized. (Until 2026-12-07 aioco's side reused one Runnable and Netty's one per op.)
     */
    @Benchmark
    @OperationsPerInvocation(BATCH * ROUNDS)
    public void crossThreadOneshotStream() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        int n = BATCH * ROUNDS;
        if (io != null) {
            AioContext target = io.context();
            for (int i = 0; i < n - 1; i++) {
                target.scheduleOneshot(newTask(i));
            }
            target.scheduleOneshot(done::countDown);
        } else {
            for (int i = 0; i < n - 1; i++) {
                netty.execute(newTask(i));
            }
            netty.execute(done::countDown);
        }
        done.await();
    }

    @SuppressWarnings("unused")
    private static EventLoop unused(DefaultEventLoop l) {
        return l;
    }
}
