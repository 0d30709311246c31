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
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        ctx.close();
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

    /** From another thread, one-shot bottom halves (a new Runnable each, as Netty's execute). */
    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void crossThreadOneshotBatch() throws InterruptedException {
        if (io == null) {
            crossThreadBatch();
            return;
        }
        CountDownLatch done = new CountDownLatch(1);
        batchDone = done;
        AioContext target = io.context();
        for (int i = 0; i < BATCH - 1; i++) {
            target.scheduleOneshot(nettyTask0);
        }
        target.scheduleOneshot(done::countDown);
        done.await();
    }

    private final Runnable nettyTask0 = () -> runs++;

    @SuppressWarnings("unused")
    private static EventLoop unused(DefaultEventLoop l) {
        return l;
    }
}
