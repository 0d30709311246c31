package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThread;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Async stack traces (issue 17, item 4): an exception that reaches a coroutine through a wait
 * ({@code Coroutine.await}, {@code ThreadPool.submitCo}, the future of {@code AioContext.spawn}, a
 * cancellation delivered by a wake-up from another context) carries, as a suppressed {@code
 * io.aioco.internal.AsyncStackTrace}, the coroutine's suspended frames with the file and line of
 * the suspension point (found below by its marker {@code // @name}); the exception's own stack is
 * never changed. The suite runs with probes on (pom.xml), which this needs.
 */
class AsyncStackTraceTest {
    private static final String HERE = "io.aioco.suite.AsyncStackTraceTest";

    private final List<AutoCloseable> closing = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : closing) {
            c.close();
        }
    }

    private AioContext context() {
        AioContext ctx = AioContext.create();
        closing.add(ctx);
        return ctx;
    }

    /** Polls {@code ctx} on this thread until {@code co} has terminated. */
    private static void runUntilTerminated(AioContext ctx, Coroutine co) {
        while (!co.isTerminated()) {
            ctx.poll(true);
        }
    }

    /**
     * Checks that {@code failure} carries exactly one async stack trace, naming {@code name}, whose
     * frames are {@code runtimeFunction} (the runtime's function it waited in) then {@code method}
     * of this class at the line of {@code marker}.
     */
    private static void assertWaitedAt(Throwable failure, String name, String runtimeFunction, String method,
            String marker) throws IOException {
        List<Throwable> traces = new ArrayList<>();
        for (Throwable suppressed : failure.getSuppressed()) {
            if (suppressed.getClass().getName().equals("io.aioco.internal.AsyncStackTrace")) {
                traces.add(suppressed);
            }
        }
        assertEquals(1, traces.size(), "suppressed: " + Arrays.toString(failure.getSuppressed()));
        Throwable trace = traces.get(0);
        assertTrue(trace.getMessage().startsWith("a coroutine waiting for this exception (coroutine \"" + name + "\" Coroutine@"), trace.getMessage());
        assertTrue(trace.getMessage().endsWith(") was waiting here"), trace.getMessage());
        StackTraceElement[] frames = trace.getStackTrace();
        assertTrue(frames.length >= 2, Arrays.toString(frames));
        assertEquals(runtimeFunction, frames[0].getClassName() + "." + frames[0].getMethodName(),
                Arrays.toString(frames));
        assertEquals(HERE, frames[1].getClassName(), Arrays.toString(frames));
        assertEquals(method, frames[1].getMethodName(), Arrays.toString(frames));
        assertEquals("AsyncStackTraceTest.java", frames[1].getFileName(), Arrays.toString(frames));
        assertEquals(FixtureSource.markedLine(AsyncStackTraceTest.class, marker), frames[1].getLineNumber(),
                Arrays.toString(frames));
    }

    // ---- await: a future another thread fails ----

    @CoroutineFn
    private static String awaitIt(CompletableFuture<String> future) {
        return Coroutine.await(future); // @await
    }

    @Test
    void anExceptionThroughAwaitCarriesWhereTheCoroutineWaited() throws Exception {
        AioContext ctx = context();
        CompletableFuture<String> future = new CompletableFuture<>();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        Coroutine co = Coroutine.create("async-await", () -> {
            try {
                awaitIt(future);
            } catch (IllegalStateException e) {
                caught.set(e);
            }
        });
        co.enter(ctx);
        IllegalStateException failure = new IllegalStateException("failed elsewhere");
        StackTraceElement[] own = failure.getStackTrace().clone();
        Thread completer = new Thread(() -> future.completeExceptionally(failure));
        completer.start();
        completer.join();
        runUntilTerminated(ctx, co);

        assertSame(failure, caught.get());
        assertArrayEquals(own, failure.getStackTrace()); // its own stack: unchanged
        assertWaitedAt(failure, "async-await", "io.aioco.Coroutine.await", "awaitIt", "await");
    }

    // ---- submitCo: work that throws on a pool thread ----

    @CoroutineFn
    private static void submitIt(AioContext ctx, AtomicReference<StackTraceElement[]> own) throws Exception {
        ctx.threadPool().submitCo(() -> { // @submit
            IOException thrown = new IOException("failed on a pool thread");
            own.set(thrown.getStackTrace().clone());
            throw thrown;
        });
    }

    @Test
    void anExceptionThroughSubmitCoCarriesWhereTheCoroutineWaited() throws Exception {
        AioContext ctx = context();
        AtomicReference<StackTraceElement[]> own = new AtomicReference<>();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        Coroutine co = Coroutine.create("async-submit", () -> {
            try {
                submitIt(ctx, own);
            } catch (IOException e) {
                caught.set(e);
            }
        });
        co.enter(ctx);
        runUntilTerminated(ctx, co);

        Throwable failure = caught.get();
        assertEquals("failed on a pool thread", failure.getMessage());
        assertArrayEquals(own.get(), failure.getStackTrace());
        assertWaitedAt(failure, "async-submit", "io.aioco.ThreadPool.submitCo", "submitIt", "submit");
    }

    // ---- spawn and join: a spawned coroutine fails after a suspension of its own ----

    @CoroutineFn
    private static void joinIt(CompletableFuture<Void> spawned) {
        Coroutine.await(spawned); // @join
    }

    @Test
    void anExceptionThroughASpawnedCoroutinesFutureCarriesWhereTheJoinerWaited() throws Exception {
        AioContext ctx = context();
        CompletableFuture<String> go = new CompletableFuture<>();
        AtomicReference<IllegalArgumentException> thrown = new AtomicReference<>();
        AtomicReference<StackTraceElement[]> own = new AtomicReference<>();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        Coroutine joiner = Coroutine.create("async-join", () -> {
            CompletableFuture<Void> spawned = ctx.spawn(() -> {
                Coroutine.await(go);
                IllegalArgumentException e = new IllegalArgumentException("the spawned coroutine failed");
                own.set(e.getStackTrace().clone());
                thrown.set(e);
                throw e;
            });
            try {
                joinIt(spawned);
            } catch (IllegalArgumentException e) {
                caught.set(e);
            }
        });
        joiner.enter(ctx);
        assertTrue(!joiner.isTerminated());
        go.complete("go");
        runUntilTerminated(ctx, joiner);

        assertSame(thrown.get(), caught.get());
        assertArrayEquals(own.get(), caught.get().getStackTrace());
        assertWaitedAt(caught.get(), "async-join", "io.aioco.Coroutine.await", "joinIt", "join");
    }

    // ---- a cross-context wake: cancelled from an IOThread's context ----

    @CoroutineFn
    private static void waitOnQueue(CoQueue queue) {
        queue.await(null); // @queue
    }

    @Test
    void aCancellationWokenFromAnotherContextCarriesWhereTheCoroutineWaited() throws Exception {
        AioContext ctx = context();
        IOThread other = IOThread.start("async-trace-canceller");
        closing.add(other);
        CoQueue queue = new CoQueue();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        Coroutine co = Coroutine.create("async-cancelled", () -> {
            try {
                waitOnQueue(queue);
            } catch (CancellationException e) {
                caught.set(e);
            }
        });
        co.enter(ctx);
        CompletableFuture<StackTraceElement[]> cancelled = new CompletableFuture<>();
        other.context().scheduleOneshot(() -> {
            co.cancel();
            cancelled.complete(new Throwable().getStackTrace());
        });
        StackTraceElement[] canceller = cancelled.get();
        runUntilTerminated(ctx, co);

        Throwable failure = caught.get();
        assertTrue(failure instanceof CancellationException, String.valueOf(failure));
        // its own stack is where cancel() made it, on the other context's thread: the canceller's
        // frames, never the coroutine's
        StackTraceElement[] stack = failure.getStackTrace();
        assertTrue(Arrays.stream(stack).anyMatch(f -> f.getMethodName().equals("cancel")
                && f.getClassName().equals("io.aioco.Coroutine")), Arrays.toString(stack));
        assertEquals(canceller[canceller.length - 1], stack[stack.length - 1], Arrays.toString(stack));
        assertTrue(Arrays.stream(stack).noneMatch(f -> f.getMethodName().equals("waitOnQueue")),
                Arrays.toString(stack));
        assertWaitedAt(failure, "async-cancelled", "io.aioco.CoQueue.await", "waitOnQueue", "queue");
    }
}
