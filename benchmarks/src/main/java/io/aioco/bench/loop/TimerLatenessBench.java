package io.aioco.bench.loop;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.IOThread;
import io.aioco.Timer;
import io.netty.channel.DefaultEventLoopGroup;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Timer lateness (fire time minus deadline, measured inside the callback with nanoTime) of 100 µs
 * and 1 ms timers: aioco (its loop on the measuring thread; on an IOThread, armed from outside, which
 * adds the wake-up of the IOThread to the lateness when it comes after the deadline, and armed by
 * the IOThread itself),
 * a bare {@link LockSupport#parkNanos}, a {@link ScheduledThreadPoolExecutor}, and Netty's
 * DefaultEventLoop and NioEventLoop {@code schedule}. Prints p50/p99 per row and the ratio to
 * parkNanos. The rows take turns sample by sample, so that they meet the same load. Percentiles over
 * whole samples, so this is a main program rather than a JMH benchmark:
 *
 * <pre>java -cp aioco-benchmarks-jmh.jar io.aioco.bench.loop.TimerLatenessBench [samples]</pre>
 */
public final class TimerLatenessBench {
    private interface Sampler {
        /** One timer of {@code delayNs}; returns its lateness in ns. */
        long sample(long delayNs) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int samples = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        AioContext own = AioContext.create();
        long[] firedAt = new long[1];
        Timer ownTimer = own.newTimer(ClockType.REALTIME, () -> firedAt[0] = System.nanoTime());
        IOThread io = IOThread.start("lateness-io");
        ScheduledThreadPoolExecutor stpe = new ScheduledThreadPoolExecutor(1);
        EventLoopGroup nettyDefault = new DefaultEventLoopGroup(1);
        EventLoopGroup nettyNio = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());

        Sampler park = delay -> {
            long deadline = System.nanoTime() + delay;
            LockSupport.parkNanos(delay);
            long now;
            while ((now = System.nanoTime()) < deadline) { // spurious early return: park again
                LockSupport.parkNanos(deadline - now);
            }
            return now - deadline;
        };
        Sampler aiocoLoop = delay -> {
            firedAt[0] = 0;
            long deadline = System.nanoTime() + delay;
            ownTimer.modNs(deadline);
            while (firedAt[0] == 0) {
                own.poll(true);
            }
            return firedAt[0] - deadline;
        };
        Sampler aiocoIOThread = delay -> {
            long[] at = new long[1];
            CountDownLatch done = new CountDownLatch(1);
            Timer t = io.context().newTimer(ClockType.REALTIME, () -> {
                at[0] = System.nanoTime();
                done.countDown();
            });
            long deadline = System.nanoTime() + delay;
            t.modNs(deadline);
            done.await();
            return at[0] - deadline;
        };
        Sampler aiocoIOThreadOwn = delay -> {
            // Armed by the IOThread itself (as a coroutine's co_sleep is), from a bottom half: the
            // deadline is taken there, so the cross-thread wake that brings the request is not in it.
            long[] at = new long[2];
            CountDownLatch done = new CountDownLatch(1);
            AioContext ctx = io.context();
            Timer t = ctx.newTimer(ClockType.REALTIME, () -> {
                at[0] = System.nanoTime();
                done.countDown();
            });
            ctx.scheduleOneshot(() -> {
                at[1] = System.nanoTime() + delay;
                t.modNs(at[1]);
            });
            done.await();
            return at[0] - at[1];
        };
        Sampler stpeSampler = executorSampler((task, delay) -> stpe.schedule(task, delay, TimeUnit.NANOSECONDS));
        Sampler nettyDefaultSampler = executorSampler((task, delay) ->
                nettyDefault.next().schedule(task, delay, TimeUnit.NANOSECONDS));
        Sampler nettyNioSampler = executorSampler((task, delay) ->
                nettyNio.next().schedule(task, delay, TimeUnit.NANOSECONDS));

        String[] names = {"parkNanos", "aioco (loop on this thread)", "aioco IOThread (armed from outside)",
            "aioco IOThread (armed on its thread)",
            "ScheduledThreadPoolExecutor", "Netty DefaultEventLoop", "Netty NioEventLoop"};
        Sampler[] samplers = {park, aiocoLoop, aiocoIOThread, aiocoIOThreadOwn, stpeSampler, nettyDefaultSampler, nettyNioSampler};
        System.out.printf("JDK %s, %d samples per row after %d warm-up samples%n",
                Runtime.version(), samples, samples / 4);
        for (long delay : new long[] {100_000, 1_000_000}) {
            System.out.printf("%n%d us timer: lateness p50 / p99 (us), ratio to parkNanos%n", delay / 1000);
            // NOTE: the rows take turns, sample by sample (the first row of each turn rotating), so
            // that they all meet the same load: this machine's load changes from second to second,
            // and rows run one after the other would compare different moments, not the loops.
            int n = samplers.length;
            long[][] lateness = new long[n][samples];
            for (int i = 0; i < samples / 4; i++) {
                for (int k = 0; k < n; k++) {
                    samplers[(i + k) % n].sample(delay);
                }
            }
            for (int i = 0; i < samples; i++) {
                for (int k = 0; k < n; k++) {
                    int s = (i + k) % n;
                    lateness[s][i] = samplers[s].sample(delay);
                }
            }
            double parkP50 = 0;
            double parkP99 = 0;
            for (int s = 0; s < n; s++) {
                Arrays.sort(lateness[s]);
                double p50 = lateness[s][samples / 2] / 1000.0;
                double p99 = lateness[s][(int) (samples * 0.99)] / 1000.0;
                if (s == 0) {
                    parkP50 = p50;
                    parkP99 = p99;
                }
                System.out.printf("  %-38s %8.1f / %8.1f   (%.2fx / %.2fx)%n", names[s], p50, p99,
                        p50 / parkP50, p99 / parkP99);
            }
        }
        own.close();
        io.close();
        stpe.shutdownNow();
        nettyDefault.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
        nettyNio.shutdownGracefully(0, 1, TimeUnit.SECONDS).sync();
    }

    private interface Scheduler {
        void schedule(Runnable task, long delayNs);
    }

    private static Sampler executorSampler(Scheduler scheduler) {
        return delay -> {
            long[] at = new long[1];
            CountDownLatch done = new CountDownLatch(1);
            long deadline = System.nanoTime() + delay;
            scheduler.schedule(() -> {
                at[0] = System.nanoTime();
                done.countDown();
            }, delay);
            done.await();
            return at[0] - deadline;
        };
    }
}
