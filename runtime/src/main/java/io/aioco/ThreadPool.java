package io.aioco;

import io.aioco.internal.CoStack;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;

/**
 * Worker threads for blocking work, attached to one {@link AioContext}: QEMU's {@code
 * util/thread-pool.c}, obtained from {@link AioContext#threadPool()}.
 *
 * <p>Work runs on up to {@link #DEFAULT_MAX_WORKERS} threads (see {@link #setMaxWorkers(int)}),
 * started on demand and ended after {@link #IDLE_TIMEOUT_SECONDS} idle seconds; work beyond that
 * waits in FIFO order. Completions are delivered in the context, on its loop thread, through one
 * bottom half (QEMU's {@code completion_bh}), in the order the work finished.
 *
 * <p>Exceptions are never lost: one thrown by {@code submitAio} work reaches its callback; one
 * thrown by {@code submit} work is rethrown from the context's {@link AioContext#poll(boolean)}
 * (so an IOThread or the main loop reports it to its uncaught-exception handler).
 *
 * <p>All methods may be called from any thread. When the context closes, queued work is dropped,
 * running work finishes on its thread, and no completion runs afterwards.
 */
public final class ThreadPool {
    /** QEMU's default {@code max-workers}. */
    public static final int DEFAULT_MAX_WORKERS = 64;
    /** QEMU lets an idle worker go after 10 s. */
    public static final long IDLE_TIMEOUT_SECONDS = 10;

    private static final VarHandle DONE;
    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    static {
        try {
            DONE = MethodHandles.lookup().findVarHandle(ThreadPool.class, "done", Request.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** One piece of work and its outcome (ThreadPoolElement). */
    private static final class Request {
        final Callable<?> work;
        final BiConsumer<Object, Throwable> callback;
        Object result;
        Throwable error;
        /** Link in the completed stack; written by the worker before publishing. */
        Request next;

        Request(Callable<?> work, BiConsumer<Object, Throwable> callback) {
            this.work = work;
            this.callback = callback;
        }
    }

    private static final CoFrame SUBMIT_CO = new CoFrame("io.aioco.ThreadPool.submitCo(Callable)", "submitCo",
            "(Ljava/util/concurrent/Callable;)Ljava/lang/Object;");

    private final AioContext ctx;
    private final ThreadPoolExecutor workers;
    private final BottomHalf completionBh;

    /** Finished requests not yet taken by the loop: a Treiber stack, newest first. */
    @SuppressWarnings("unused") // accessed through DONE
    private volatile Request done;

    /** Taken from the stack but not yet delivered (a callback threw). Loop thread only. */
    private final ArrayDeque<Request> delivering = new ArrayDeque<>();

    ThreadPool(AioContext ctx) {
        this.ctx = ctx;
        int poolId = POOL_IDS.incrementAndGet();
        AtomicInteger threadIds = new AtomicInteger();
        ThreadFactory factory = r -> {
            Thread t = new Thread(r, "aioco-pool-" + poolId + "-worker-" + threadIds.incrementAndGet()
                    + " (" + ctx + ")");
            t.setDaemon(true);
            return t;
        };
        this.workers = new ThreadPoolExecutor(DEFAULT_MAX_WORKERS, DEFAULT_MAX_WORKERS,
                IDLE_TIMEOUT_SECONDS, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), factory);
        this.workers.allowCoreThreadTimeOut(true);
        this.completionBh = new BottomHalf(ctx, this::deliverCompletions, 0);
    }

    /**
     * Runs {@code work} on a worker, then {@code done} in the context with its result or exception
     * (exactly one of the two non-null, unless the work returned null) ({@code
     * thread_pool_submit_aio}). Called from any thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    @SuppressWarnings("unchecked")
    public <T> void submitAio(Callable<T> work, BiConsumer<T, Throwable> done) {
        Objects.requireNonNull(work, "work");
        Objects.requireNonNull(done, "done");
        execute(new Request(work, (BiConsumer<Object, Throwable>) done));
    }

    /**
     * Runs {@code work} on a worker while the calling coroutine is suspended, and returns its result
     * ({@code thread_pool_submit_co}). The coroutine is woken on its own context when the work is
     * done (this pool's context delivers the completion).
     *
     * <p>A cancellation point: when the coroutine is cancelled ({@link Coroutine#cancel()}) or an
     * enclosing {@link Coroutine#withTimeoutNs} expires while the work is queued or running, the
     * coroutine is resumed at once and this throws {@link java.util.concurrent.CancellationException}
     * (or {@link CoroutineTimeoutException}). The work is not interrupted: it runs to its end on its
     * worker, and its result (or exception) is dropped. Called in a coroutine only.
     *
     * @param work what to run on a worker thread
     * @param <T> the result type
     * @return what {@code work} returned
     * @throws Exception what {@code work} threw
     * @throws IllegalStateException outside a coroutine, when called from code that is not
     *     instrumented, or if the context is closed
     */
    @CoroutineFn
    @SuppressWarnings("unchecked")
    public <T> T submitCo(Callable<T> work) throws Exception {
        CoStack stack = SUBMIT_CO.enter();
        int arrival = SUBMIT_CO.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            Submission wait = (Submission) SUBMIT_CO.resume(stack);
            if (wait == null) {
                return null;
            }
            if (wait.failure != null) {
                if (wait.failure instanceof Exception exception) {
                    throw exception;
                }
                throw (Error) wait.failure;
            }
            return (T) wait.result;
        }
        Objects.requireNonNull(work, "work"); // only now: a resume passes a dummy
        SUBMIT_CO.suspend(stack, arrival, new Submission(CoFrame.coroutine(stack), work));
        return null;
    }

    /** submitCo's wait: the work, submitted once the coroutine has yielded; its outcome. */
    private final class Submission extends CoWait {
        private final Callable<?> work;
        /** Written by the completion before {@link #wake()} publishes them. */
        Object result;
        Throwable failure;

        Submission(Coroutine self, Callable<?> work) {
            super(self);
            this.work = work;
        }

        @Override
        public CoWait publish() {
            execute(new Request(work, (value, thrown) -> {
                result = value;
                failure = thrown;
                wake();
            }));
            return null;
        }
    }

    /**
     * Runs {@code work} on a worker, fire and forget ({@code thread_pool_submit}). If it throws, the
     * exception is rethrown from the context's next poll. Called from any thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    public void submit(Runnable work) {
        Objects.requireNonNull(work, "work");
        execute(new Request(() -> {
            work.run();
            return null;
        }, null));
    }

    /**
     * Sets how many workers may run at once ({@code thread_pool_update_params}' max-workers).
     * Called from any thread.
     *
     * @throws IllegalArgumentException if {@code max} is below 1
     */
    public void setMaxWorkers(int max) {
        if (max < 1) {
            throw new IllegalArgumentException("max: " + max + " (expected: >= 1)");
        }
        synchronized (workers) {
            if (max > workers.getMaximumPoolSize()) {
                workers.setMaximumPoolSize(max);
                workers.setCorePoolSize(max);
            } else {
                workers.setCorePoolSize(max);
                workers.setMaximumPoolSize(max);
            }
        }
    }

    /** Called from any thread: how many worker threads exist right now. */
    public int workerCount() {
        return workers.getPoolSize();
    }

    private void execute(Request req) {
        if (ctx.isClosed()) {
            throw new IllegalStateException("thread pool of " + ctx + " used after the context was closed");
        }
        try {
            workers.execute(() -> runOnWorker(req));
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("thread pool of " + ctx + " used after the context was closed", e);
        }
    }

    /** Called on a worker thread (worker_thread). */
    private void runOnWorker(Request req) {
        try {
            req.result = req.work.call();
        } catch (Throwable t) {
            req.error = t;
        }
        if (req.callback == null && req.error == null) {
            return;
        }
        Request head;
        do {
            head = (Request) DONE.getVolatile(this);
            req.next = head;
        } while (!DONE.compareAndSet(this, head, req));
        // Publishes req (and its result) before the bottom half can take it; dropped if closed.
        completionBh.enqueue(BottomHalf.SCHEDULED, false);
    }

    /**
     * Called from the loop thread, by the completion bottom half. Delivers in completion order; if
     * a callback throws, the rest stay queued and the bottom half is scheduled again, so the next
     * poll goes on with them.
     */
    private void deliverCompletions() {
        Request taken = (Request) DONE.getAndSet(this, (Request) null);
        int start = delivering.size();
        for (Request r = taken; r != null; r = r.next) {
            delivering.add(r); // newest first; turned around below
        }
        reverseTail(start);
        try {
            Request r;
            while ((r = delivering.poll()) != null) {
                r.next = null;
                if (ctx.isClosed()) {
                    return;
                }
                if (r.callback != null) {
                    r.callback.accept(r.result, r.error);
                } else {
                    throw asUnchecked(r.error);
                }
            }
        } finally {
            if (!delivering.isEmpty()) {
                completionBh.enqueue(BottomHalf.SCHEDULED, false);
            }
        }
    }

    private void reverseTail(int start) {
        int n = delivering.size() - start;
        if (n < 2) {
            return;
        }
        Request[] tail = new Request[n];
        for (int i = n - 1; i >= 0; i--) {
            tail[i] = delivering.pollLast();
        }
        for (int i = n - 1; i >= 0; i--) {
            delivering.addLast(tail[i]);
        }
    }

    private static RuntimeException asUnchecked(Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new RuntimeException("thread pool work failed", t);
    }

    /** Called by the closing thread of the context: drops queued work; running work finishes. */
    void shutdown() {
        workers.getQueue().clear();
        workers.shutdown();
        completionBh.delete();
    }
}
