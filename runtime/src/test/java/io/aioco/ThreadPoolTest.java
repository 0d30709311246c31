package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU's tests/unit/test-thread-pool.c: submit, submit_aio, many submissions; and errors. */
@Timeout(60)
class ThreadPoolTest {
    private final AioContext ctx = AioContext.create();

    @AfterEach
    void close() {
        ctx.close();
    }

    @Test
    void submittedWorkRunsOnAWorkerThread() throws Exception {
        CountDownLatch done = new CountDownLatch(1);
        Thread[] ranOn = new Thread[1];
        ctx.threadPool().submit(() -> {
            ranOn[0] = Thread.currentThread();
            done.countDown();
        });
        done.await();
        assertTrue(ranOn[0] != Thread.currentThread());
        assertTrue(ranOn[0].getName().startsWith("aioco-pool-"), ranOn[0].getName());
    }

    @Test
    void submitAioDeliversTheResultInTheContext() {
        Thread[] doneOn = new Thread[1];
        Object[] got = new Object[2];
        ctx.threadPool().submitAio(() -> 42, (result, error) -> {
            doneOn[0] = Thread.currentThread();
            got[0] = result;
            got[1] = error;
        });
        while (doneOn[0] == null) {
            ctx.poll(true);
        }
        assertSame(Thread.currentThread(), doneOn[0]);
        assertEquals(42, got[0]);
        assertNull(got[1]);
    }

    @Test
    void submitAioDeliversTheExceptionToTheCallback() {
        Throwable[] got = new Throwable[1];
        AtomicInteger calls = new AtomicInteger();
        ctx.threadPool().<String>submitAio(() -> {
            throw new IOException("disk on fire");
        }, (result, error) -> {
            calls.incrementAndGet();
            got[0] = error;
        });
        while (calls.get() == 0) {
            ctx.poll(true);
        }
        assertTrue(got[0] instanceof IOException);
        assertEquals("disk on fire", got[0].getMessage());
    }

    @Test
    void failingFireAndForgetWorkIsRethrownFromPoll() {
        ctx.threadPool().submit(() -> {
            throw new IllegalStateException("lost? no");
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            while (true) {
                ctx.poll(true);
            }
        });
        assertEquals("lost? no", e.getMessage());
    }

    @Test
    void manySubmissionsEachCompleteExactlyOnce() {
        // test_submit_many
        int n = 500;
        int[] completions = new int[n];
        AtomicInteger remaining = new AtomicInteger(n);
        for (int i = 0; i < n; i++) {
            int id = i;
            ctx.threadPool().submitAio(() -> id, (result, error) -> {
                completions[result]++;
                remaining.decrementAndGet();
            });
        }
        while (remaining.get() > 0) {
            ctx.poll(true);
        }
        for (int i = 0; i < n; i++) {
            assertEquals(1, completions[i], "completion " + i);
        }
    }

    @Test
    void completionCallbackThatThrowsLeavesTheOtherCompletionsPending() throws Exception {
        CountDownLatch bothDone = new CountDownLatch(2);
        List<String> delivered = new ArrayList<>();
        ThreadPool pool = ctx.threadPool();
        pool.submitAio(() -> {
            bothDone.countDown();
            return "a";
        }, (r, e) -> {
            delivered.add(r);
            throw new IllegalArgumentException("callback fails");
        });
        pool.submitAio(() -> {
            bothDone.countDown();
            return "b";
        }, (r, e) -> delivered.add(r));
        bothDone.await();
        int failures = 0;
        while (delivered.size() < 2) {
            try {
                ctx.poll(true);
            } catch (IllegalArgumentException expected) {
                failures++;
            }
        }
        assertEquals(1, failures);
        assertTrue(delivered.containsAll(List.of("a", "b")));
    }

    @Test
    void workersAreBoundedByMaxWorkers() throws Exception {
        ThreadPool pool = ctx.threadPool();
        pool.setMaxWorkers(2);
        AtomicInteger running = new AtomicInteger();
        AtomicInteger maxRunning = new AtomicInteger();
        CountDownLatch twoRunning = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger completed = new AtomicInteger();
        for (int i = 0; i < 6; i++) {
            pool.submitAio(() -> {
                maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
                twoRunning.countDown();
                release.await();
                running.decrementAndGet();
                return null;
            }, (r, e) -> completed.incrementAndGet());
        }
        twoRunning.await();
        assertTrue(pool.workerCount() <= 2, "workers: " + pool.workerCount());
        release.countDown();
        while (completed.get() < 6) {
            ctx.poll(true);
        }
        assertEquals(2, maxRunning.get());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> pool.setMaxWorkers(0));
        assertEquals("max: 0 (expected: >= 1)", e.getMessage());
    }

    @Test
    void completionOfWorkStillRunningAtCloseIsDropped() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        AtomicInteger callbacks = new AtomicInteger();
        ThreadPool pool = ctx.threadPool();
        pool.submitAio(() -> {
            started.countDown();
            release.await();
            return 1;
        }, (r, e) -> callbacks.incrementAndGet());
        pool.submit(finished::countDown);
        started.await();
        ctx.close();
        release.countDown();
        assertThrows(IllegalStateException.class, () -> pool.submit(() -> {}));
        assertThrows(IllegalStateException.class, ctx::threadPool);
        assertEquals(0, callbacks.get());
    }
}
