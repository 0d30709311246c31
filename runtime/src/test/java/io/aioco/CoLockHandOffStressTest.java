package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.callWhile;
import static io.aioco.HandWoven.plain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The issue-14 scenario under load, QEMU test-aio-multithread style: coroutines entered with
 * {@code enter(ctx)} from plain threads that do not poll ctx, ctx being one of two busy IOThreads,
 * contending on a CoMutex, a CoRwLock and a CoQueue; every critical section suspends (a sleep that
 * the IOThread ends), so hand-offs cross threads all the time. Exact invariants: every coroutine
 * finishes, the plain counter counts every critical section, every item produced is consumed, and
 * no loop thread reports a failure (a wake-up that found its coroutine still running). A wake-up
 * published before the yield loses coroutines here within a few hundred rounds. Set
 * {@code -Daioco.stress.long=true} for the long variant.
 */
@Timeout(120)
class CoLockHandOffStressTest {
    private static final int PER_ENTERER = Boolean.getBoolean("aioco.stress.long") ? 20_000 : 300;
    private static final int ENTERERS = 2;

    private final IOThread[] loops = {IOThread.start("stress-a"), IOThread.start("stress-b")};
    private final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private int counter;

    CoLockHandOffStressTest() {
        for (IOThread loop : loops) {
            loop.thread().setUncaughtExceptionHandler((thread, failure) -> failures.add(failure));
        }
    }

    @AfterEach
    void close() {
        for (IOThread loop : loops) {
            loop.close();
        }
    }

    /** Each enterer thread enters its coroutines one after the other with enter(ctx) of a loop. */
    private void run(IntFunction<HandWoven.Call[]> body) throws Exception {
        CountDownLatch finished = new CountDownLatch(ENTERERS * PER_ENTERER);
        Thread[] enterers = new Thread[ENTERERS];
        for (int e = 0; e < ENTERERS; e++) {
            int enterer = e;
            enterers[e] = new Thread(() -> {
                for (int i = 0; i < PER_ENTERER; i++) {
                    HandWoven.Call[] steps = body.apply(enterer * PER_ENTERER + i);
                    HandWoven.Call[] withEnd = java.util.Arrays.copyOf(steps, steps.length + 1);
                    withEnd[steps.length] = plain(finished::countDown);
                    try {
                        Coroutine.create(new HandWoven(withEnd)).enter(loops[(enterer + i) % 2].context());
                    } catch (Throwable t) {
                        failures.add(t);
                    }
                }
            }, "enterer-" + e);
            enterers[e].start();
        }
        for (Thread t : enterers) {
            t.join(60_000);
            assertFalse(t.isAlive());
        }
        boolean all = finished.await(60, TimeUnit.SECONDS);
        assertEquals(List.of(), failures);
        assertTrue(all, finished.getCount() + " coroutines never resumed");
    }

    private static HandWoven.Call sleepZero() {
        return call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class, () -> Coroutine.sleepNs(ClockType.REALTIME, 0));
    }

    @Test
    void coMutexHandOffsAcrossThreadsLoseNothing() throws Exception {
        CoMutex mutex = new CoMutex();
        int[] seen = new int[1];
        run(i -> new HandWoven.Call[] {call("lock", "()V", mutex, mutex::lock), plain(() -> seen[0] = counter), sleepZero(),
                plain(() -> counter = seen[0] + 1), call("unlock", "()V", mutex, mutex::unlock)});
        assertEquals(ENTERERS * PER_ENTERER, counter);
        assertFalse(mutex.isLocked());
    }

    @Test
    void coRwLockHandOffsAcrossThreadsLoseNothing() throws Exception {
        CoRwLock lock = new CoRwLock();
        int[] seen = new int[1];
        int[] readers = new int[1];
        run(i -> switch (i % 3) {
            case 0 -> new HandWoven.Call[] {call("wrlock", "()V", lock, lock::wrlock), plain(() -> seen[0] = counter),
                    sleepZero(), plain(() -> counter = seen[0] + 1), call("unlock", "()V", lock, lock::unlock)};
            case 1 -> new HandWoven.Call[] {call("rdlock", "()V", lock, lock::rdlock), sleepZero(),
                    call("upgrade", "()V", lock, lock::upgrade), plain(() -> seen[0] = counter), sleepZero(),
                    plain(() -> counter = seen[0] + 1), call("unlock", "()V", lock, lock::unlock)};
            default -> new HandWoven.Call[] {call("rdlock", "()V", lock, lock::rdlock), plain(() -> {
                synchronized (readers) {
                    readers[0]++;
                }
            }), sleepZero(), call("unlock", "()V", lock, lock::unlock)};
        });
        assertEquals(ENTERERS * PER_ENTERER - readers[0], counter);
        assertEquals("[free]", lock.toString().replaceAll(".*@[0-9a-f]+", ""));
    }

    @Test
    void coQueueWakeUpsAcrossThreadsLoseNothing() throws Exception {
        CoMutex mutex = new CoMutex();
        CoQueue queue = new CoQueue();
        int[] items = new int[1];
        run(i -> i % 2 == 0
                ? new HandWoven.Call[] {call("lock", "()V", mutex, mutex::lock), sleepZero(), plain(() -> items[0]++),
                        call("next", "()Z", queue, queue::next), call("unlock", "()V", mutex, mutex::unlock)}
                : new HandWoven.Call[] {call("lock", "()V", mutex, mutex::lock),
                        callWhile(() -> items[0] == 0, "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(mutex)),
                        plain(() -> items[0]--), call("unlock", "()V", mutex, mutex::unlock)});
        assertEquals(0, items[0]);
        assertTrue(queue.isEmpty());
        assertFalse(mutex.isLocked());
    }
}
