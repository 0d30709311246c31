package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThread;
import io.aioco.test.CoroutineTest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Coroutines on the event loop (issue 4): contexts, wake and schedule across threads, sleep,
 * fd waits, futures, thread-pool offload, spawn; QEMU's test-aio-multithread cases.
 */
class CoroutinesOnLoopTest {
    private static final long TIMEOUT_S = 30;
    private final List<IOThread> threads = new ArrayList<>();
    private final List<AioContext> contexts = new ArrayList<>();

    private IOThread ioThread(String name) {
        IOThread thread = IOThread.start(name);
        threads.add(thread);
        return thread;
    }

    private AioContext context() {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        return ctx;
    }

    @AfterEach
    void close() {
        threads.forEach(IOThread::close);
        contexts.forEach(AioContext::close);
    }

    private static <T> T get(CompletableFuture<T> future) throws Exception {
        try {
            return future.get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new AssertionError("not completed within " + TIMEOUT_S + " s", e);
        }
    }

    @Test
    void enterWithContextMakesItTheCoroutinesContext() {
        AioContext ctx = context();
        AioContext[] seen = new AioContext[2];
        Coroutine co = Coroutine.create(() -> {
            seen[0] = Coroutine.self().context();
            Coroutine.yield();
            seen[1] = Coroutine.self().context();
        });
        assertNull(co.context());
        co.enter(ctx);
        assertSame(ctx, co.context());
        assertSame(ctx, seen[0]);
        co.wake(); // this thread does not run ctx: scheduled there, through a bottom half
        assertFalse(co.isTerminated());
        assertTrue(ctx.poll(false));
        assertTrue(co.isTerminated());
        assertSame(ctx, seen[1]);
    }

    @Test
    void wakeFromAnotherThreadSchedulesTheCoroutineOnItsOwnContext() throws Exception {
        IOThread io = ioThread("wake-target");
        CompletableFuture<Coroutine> started = new CompletableFuture<>();
        CompletableFuture<Thread> resumedOn = new CompletableFuture<>();
        Coroutine co = Coroutine.create(() -> {
            started.complete(Coroutine.self());
            Coroutine.yield();
            resumedOn.complete(Thread.currentThread());
        });
        io.context().coSchedule(co);
        get(started);
        assertSame(io.context(), co.context());
        co.wake(); // from the JUnit thread: goes through the IOThread's bottom half
        assertSame(io.thread(), get(resumedOn));
    }

    @Test
    void coroutineMovesToAnotherContextBySchedulingItselfThenYielding() throws Exception {
        IOThread a = ioThread("move-a");
        IOThread b = ioThread("move-b");
        CompletableFuture<List<String>> done = new CompletableFuture<>();
        Coroutine co = Coroutine.create(() -> {
            List<String> where = new ArrayList<>();
            for (int hop = 0; hop < 6; hop++) {
                where.add(Thread.currentThread().getName());
                AioContext next = hop % 2 == 0 ? b.context() : a.context();
                next.coSchedule(Coroutine.self());
                Coroutine.yield();
            }
            done.complete(where);
        });
        a.context().coSchedule(co);
        assertEquals(List.of("move-a", "move-b", "move-a", "move-b", "move-a", "move-b"), get(done));
    }

    @Test
    void schedulingACoroutineTwiceIsRefused() throws Exception {
        AioContext ctx = context();
        Coroutine co = Coroutine.create(Coroutine::yield);
        ctx.coSchedule(co);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ctx.coSchedule(co));
        assertTrue(e.getMessage().contains("already scheduled"), e.getMessage());
        assertTrue(ctx.poll(false));
        assertFalse(co.isTerminated());
    }

    @Test
    void wakeInsideTheSameContextRunsAfterTheWakerYieldsNeverNested() {
        AioContext ctx = context();
        List<String> events = new ArrayList<>();
        Coroutine sleeper = Coroutine.create(() -> {
            events.add("sleeper waits");
            Coroutine.yield();
            events.add("sleeper woken");
        });
        sleeper.enter(ctx);
        Coroutine waker = Coroutine.create(() -> {
            sleeper.wake();
            events.add("waker continues");
            Coroutine.yield();
            events.add("waker resumed");
        });
        ctx.coEnter(waker); // not on ctx's thread: scheduled
        assertEquals(List.of("sleeper waits"), events);
        ctx.poll(false);
        assertEquals(List.of("sleeper waits", "waker continues", "sleeper woken"), events);
    }

    @CoroutineFn
    private static void sleepThenLog(List<String> log, String name, long ns) {
        Coroutine.sleepNs(ClockType.VIRTUAL, ns);
        log.add(name + "@" + ClockType.VIRTUAL.nowNs());
    }

    /** With the test kit: the test's own virtual time, which jumps to each deadline in turn. */
    @CoroutineTest
    @CoroutineFn
    void sleepOnTheVirtualClockWakesInDeadlineOrderEachAtItsDeadline() throws Exception {
        AioContext ctx = AioContext.current();
        List<String> log = new ArrayList<>();
        CompletableFuture<Void> c = ctx.spawn(() -> {
            sleepThenLog(log, "c", 3_000);
            return null;
        });
        CompletableFuture<Void> a = ctx.spawn(() -> {
            sleepThenLog(log, "a", 1_000);
            return null;
        });
        CompletableFuture<Void> b = ctx.spawn(() -> {
            sleepThenLog(log, "b", 2_000);
            return null;
        });
        Coroutine.sleepNs(ClockType.VIRTUAL, 1_500);
        assertEquals(List.of("a@1000"), log);
        Coroutine.await(CompletableFuture.allOf(a, b, c));
        assertEquals(List.of("a@1000", "b@2000", "c@3000"), log);
        assertEquals(3_000, ClockType.VIRTUAL.nowNs());
    }

    @Test
    void sleepWithoutAContextIsRefused() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> Coroutine.create(() -> Coroutine.sleepNs(ClockType.VIRTUAL, 5)).enter());
        assertTrue(e.getMessage().contains("needs an AioContext"), e.getMessage());
    }

    @Test
    void yieldUntilReadableResumesWhenDataArrives() throws IOException {
        AioContext ctx = context();
        Pipe pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        List<String> log = new ArrayList<>();
        Coroutine reader = Coroutine.create(() -> {
            ByteBuffer buffer = ByteBuffer.allocate(16);
            while (pipe.source().read(buffer) == 0) {
                log.add("waiting");
                Coroutine.yieldUntilReadable(pipe.source());
            }
            log.add("read " + buffer.position());
        });
        reader.enter(ctx);
        assertFalse(ctx.poll(false));
        assertEquals(List.of("waiting"), log);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
        ctx.poll(true);
        assertEquals(List.of("waiting", "read 3"), log);
        assertTrue(reader.isTerminated());
        pipe.sink().close();
        pipe.source().close();
    }

    @Test
    void awaitResumesWhenAFutureCompletesOnAnotherThread() throws Exception {
        IOThread io = ioThread("await");
        CompletableFuture<String> input = new CompletableFuture<>();
        CompletableFuture<String> output = io.context().spawn(() -> "got " + Coroutine.await(input) + " on "
                + Thread.currentThread().getName());
        assertFalse(output.isDone());
        new Thread(() -> input.complete("value"), "completer").start();
        assertEquals("got value on await", get(output));
    }

    @Test
    void awaitThrowsTheFuturesFailure() throws Exception {
        AioContext ctx = context();
        CompletableFuture<String> input = new CompletableFuture<>();
        CompletableFuture<String> output = ctx.spawn(() -> Coroutine.await(input));
        input.completeExceptionally(new IllegalArgumentException("bad input"));
        ctx.poll(false);
        ExecutionException e = assertThrows(ExecutionException.class, () -> output.get(1, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IllegalArgumentException);
        CompletableFuture<String> checked = new CompletableFuture<>();
        CompletableFuture<String> wrapped = ctx.spawn(() -> Coroutine.await(checked));
        checked.completeExceptionally(new IOException("disk"));
        ctx.poll(false);
        ExecutionException e2 = assertThrows(ExecutionException.class, () -> wrapped.get(1, TimeUnit.SECONDS));
        // await threw CompletionException(IOException); the spawned future unwraps it as get() does
        assertTrue(e2.getCause() instanceof IOException, String.valueOf(e2.getCause()));
    }

    @Test
    void awaitOfACompletedFutureDoesNotSuspend() {
        List<String> log = new ArrayList<>();
        Coroutine co = Coroutine.create(() -> log.add(Coroutine.await(CompletableFuture.completedFuture("now"))));
        co.enter();
        assertTrue(co.isTerminated());
        assertEquals(List.of("now"), log);
    }

    @Test
    void submitCoRunsWorkOnAWorkerWhileTheCoroutineIsSuspended() throws Exception {
        IOThread io = ioThread("offload");
        CompletableFuture<String> result = io.context().spawn(() -> {
            String loop = Thread.currentThread().getName();
            String worker = io.context().threadPool().submitCo(() -> Thread.currentThread().getName());
            return loop + " / " + worker.startsWith("aioco-pool") + " / " + Thread.currentThread().getName();
        });
        assertEquals("offload / true / offload", get(result));
        CompletableFuture<String> failing = io.context().spawn(() -> io.context().threadPool().submitCo(() -> {
            throw new IOException("worker failed");
        }));
        ExecutionException e = assertThrows(ExecutionException.class, () -> get(failing));
        assertTrue(e.getCause() instanceof IOException);
    }

    @Test
    void spawnCompletesWithTheBodysResultOrFailure() throws Exception {
        AioContext ctx = context();
        CompletableFuture<Integer> value = ctx.spawn(() -> {
            Coroutine.self().context().coSchedule(Coroutine.self());
            Coroutine.yield(); // back to the loop, rescheduled: runs again at the next poll
            return 42;
        });
        assertFalse(value.isDone()); // spawned from a thread that does not run ctx: scheduled
        assertTrue(ctx.poll(false));
        assertFalse(value.isDone());
        assertTrue(ctx.poll(false));
        assertEquals(42, value.get());
        CompletableFuture<Integer> failing = ctx.spawn(() -> {
            throw new IllegalStateException("nope");
        });
        ctx.poll(false);
        assertTrue(failing.isCompletedExceptionally());
        assertEquals("nope", assertThrows(ExecutionException.class, failing::get).getCause().getMessage());
    }

    // ---- test-aio-multithread ----

    @Test
    void coroutinesBounceAcrossSeveralIOThreads() throws Exception {
        int threadCount = 4;
        List<IOThread> loops = new ArrayList<>();
        for (int i = 0; i < threadCount; i++) {
            loops.add(ioThread("bounce-" + i));
        }
        int coroutines = 20;
        int hops = 50;
        AtomicInteger totalHops = new AtomicInteger();
        List<CompletableFuture<Integer>> results = new ArrayList<>();
        for (int c = 0; c < coroutines; c++) {
            int seed = c;
            CompletableFuture<Integer> done = new CompletableFuture<>();
            results.add(done);
            Coroutine co = Coroutine.create(() -> {
                int visited = 0;
                for (int hop = 0; hop < hops; hop++) {
                    AioContext next = loops.get((seed + hop * 7) % threadCount).context();
                    next.coSchedule(Coroutine.self());
                    Coroutine.yield();
                    if (AioContext.current() == next && Coroutine.self().context() == next) {
                        visited++;
                    }
                    totalHops.incrementAndGet();
                }
                done.complete(visited);
            });
            loops.get(seed % threadCount).context().coSchedule(co);
        }
        for (CompletableFuture<Integer> result : results) {
            assertEquals(hops, get(result));
        }
        assertEquals(coroutines * hops, totalHops.get());
    }

    @Test
    void manyCoroutinesOnSeveralIOThreadsContendForOneCoMutexWithAnExactCount() throws Exception {
        int threadCount = 4;
        int coroutinesPerThread = 25;
        int iterations = Integer.getInteger("aioco.stress.mutexIterations", 200);
        CoMutex mutex = new CoMutex();
        int[] counter = {0}; // plain field: only the mutex protects it
        int[] inside = {0};
        AtomicInteger violations = new AtomicInteger();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int t = 0; t < threadCount; t++) {
            IOThread io = ioThread("mutex-" + t);
            for (int c = 0; c < coroutinesPerThread; c++) {
                done.add(io.context().spawn(() -> {
                    for (int i = 0; i < iterations; i++) {
                        mutex.lock();
                        if (++inside[0] != 1) {
                            violations.incrementAndGet();
                        }
                        int before = counter[0];
                        if ((i & 7) == 0) { // back to the loop while holding it: others must queue
                            Coroutine.self().context().coSchedule(Coroutine.self());
                            Coroutine.yield();
                        }
                        counter[0] = before + 1;
                        inside[0]--;
                        mutex.unlock();
                    }
                    return null;
                }));
            }
        }
        for (CompletableFuture<Void> future : done) {
            get(future);
        }
        assertEquals(0, violations.get());
        synchronized (mutex) {
            assertEquals(threadCount * coroutinesPerThread * iterations, counter[0]);
        }
        assertFalse(mutex.isLocked());
    }
}
