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
 * running work finishes on its thread, and no completion runs in the context afterwards. The one
 * exception is {@link #submitCo}, whose coroutine may belong to another context: it is resumed
 * (from the worker or the closing thread) with the result of work that was running, or with an
 * {@link IllegalStateException} for work that was dropped, so it never waits for ever.
 */
public final class ThreadPool {
    /** QEMU's default {@code max-workers}. */
    public static final int DEFAULT_MAX_WORKERS = 64;
    /** QEMU lets an idle worker go after 10 s. */
    public static final long IDLE_TIMEOUT_SECONDS = 10;

    private static final VarHandle DONE;
    private static final VarHandle REQUEST_STATE;
    private static final AtomicInteger POOL_IDS = new AtomicInteger();

    static {
        try {
            DONE = MethodHandles.lookup().findVarHandle(ThreadPool.class, "done", Request.class);
            REQUEST_STATE = MethodHandles.lookup().findVarHandle(Request.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link Request#state}: waiting in the queue for a worker. */
    private static final int QUEUED = 0;
    /** {@link Request#state}: a worker took it; it runs to its end. */
    private static final int RUNNING = 1;
    /** {@link Request#state}: dropped before a worker took it (its submitCo was cancelled, or the pool closed). */
    private static final int DROPPED = 2;

    /** One piece of work and its outcome (ThreadPoolElement). */
    private static final class Request implements Runnable {
        final ThreadPool pool;
        final Callable<?> work;
        final BiConsumer<Object, Throwable> callback;
        /** The submitCo waiting for it, or null. */
        final Submission submission;
        Object result;
        Throwable error;
        /** Link in the completed stack; written by the worker before publishing. */
        Request next;
        /** QUEUED, RUNNING or DROPPED: a worker and a canceller race for it by CAS. */
        @SuppressWarnings("unused") // through REQUEST_STATE
        private volatile int state;
        /** The JFR queue-delay event, or null (JFR off); written before the request is queued. */
        Object jfr;

        Request(ThreadPool pool, Callable<?> work, BiConsumer<Object, Throwable> callback, Submission submission) {
            this.pool = pool;
            this.work = work;
            this.callback = callback;
            this.submission = submission;
        }

        /** Worker thread: runs the work unless it was dropped first. */
        @Override
        public void run() {
            try {
                if (REQUEST_STATE.compareAndSet(this, QUEUED, RUNNING)) {
                    if (jfr != null) {
                        io.aioco.internal.observe.Jfr.endQueueDelay(jfr, pool.ctx, work);
                    }
                    pool.runOnWorker(this);
                }
            } finally {
                pool.finished();
            }
        }

        /** Drops it if no worker took it yet (any thread); returns whether it was dropped by this call. */
        boolean drop() {
            return REQUEST_STATE.compareAndSet(this, QUEUED, DROPPED);
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
        execute(new Request(this, work, (BiConsumer<Object, Throwable>) done, null));
    }

    /**
     * Runs {@code work} on a worker while the calling coroutine is suspended, and returns its result
     * ({@code thread_pool_submit_co}). The coroutine is woken on its own context when the work is
     * done (this pool's context delivers the completion).
     *
     * <p>A cancellation point: when the coroutine is cancelled ({@link Coroutine#cancel()}) or an
     * enclosing {@link Coroutine#withTimeoutNs} expires while the work is queued or running, the
     * coroutine is resumed at once and this throws {@link java.util.concurrent.CancellationException}
     * (or {@link CoroutineTimeoutException}). Work still queued (no worker has taken it) is dropped
     * and never runs, as QEMU's {@code thread_pool_cancel_aio} removes a queued request. Work already
     * running is not interrupted: it runs to its end on its worker, and its result (or exception)
     * is dropped. Called in a coroutine only.
     *
     * <p>The coroutine may belong to another context than this pool's. If this pool's context is
     * closed while the work is queued, the work is dropped and the coroutine resumes with an {@link
     * IllegalStateException} saying so; work running at the close finishes, and the coroutine
     * resumes with its result (or exception), delivered from the worker thread since the closed
     * context delivers nothing. A coroutine of the closed context itself can never run again and
     * is dropped quietly, as everything else of that context; one whose own context is closed is
     * reported as lost (logger {@code io.aioco}, WARNING).
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
                CoroutineDump.waitedHere(wait.failure, CoFrame.coroutine(stack)); // where it waited, added
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
        /** The request submitted by publish(); read by a canceller after the publication. */
        private Request request;

        Submission(Coroutine self, Callable<?> work) {
            super(self);
            this.work = work;
        }

        @Override
        public CoWait publish() {
            request = new Request(ThreadPool.this, work, this::deliver, this);
            execute(request);
            return null;
        }

        /**
         * The outcome, delivered by the pool's context (or, once it is closed, by the worker or the
         * closing thread): wakes the coroutine on its own context. Any thread.
         */
        void deliver(Object value, Throwable thrown) {
            if (coroutine.context() == ctx && ctx.isClosed()) {
                return; // NOTE: a coroutine of the closed context itself: dropped with it, quietly
            }
            result = value;
            failure = thrown; // NOTE: published by the completion CAS in wakeOrLose
            wakeOrLose("ThreadPool.submitCo(Callable)'s completion");
        }

        /** Cancelled: work still queued is dropped and never runs; running work finishes, unread. */
        @Override
        void withdraw() {
            request.drop();
        }

        @Override
        String describe() {
            return "work submitted to the thread pool of " + ctx;
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
        execute(new Request(this, () -> {
            work.run();
            return null;
        }, null, null));
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
        inFlight.incrementAndGet();
        if (io.aioco.internal.observe.JfrOn.queueDelays()) {
            req.jfr = io.aioco.internal.observe.Jfr.beginQueueDelay();
        }
        try {
            workers.execute(req);
        } catch (RejectedExecutionException e) {
            inFlight.decrementAndGet();
            throw new IllegalStateException("thread pool of " + ctx + " used after the context was closed", e);
        }
    }

    /**
     * Requests submitted whose worker has not finished with them yet (a completion, if any, is
     * scheduled before the count drops): the test kit's driver blocks rather than moving its time
     * while this is not 0.
     */
    private final AtomicInteger inFlight = new AtomicInteger();

    /** Called from any thread (the test kit's driver): whether work is queued or running. */
    boolean busy() {
        return inFlight.get() != 0;
    }

    /**
     * Called on a worker thread when it is done with a request. The last one wakes a context with
     * its own time, whose driver may be blocked waiting for the pool to drain (a dropped request
     * schedules no completion); other contexts are left alone.
     */
    private void finished() {
        if (inFlight.decrementAndGet() == 0 && ctx.hasTestTime()) {
            ctx.notifyEvent();
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
        // NOTE: pushed, then the closed flag read; the closer writes the flag, then takes the stack
        // (shutdown): one of the two sees the other, and each request is taken once (getAndSet)
        if (ctx.isClosed()) {
            deliverAfterClose((Request) DONE.getAndSet(this, (Request) null));
            return;
        }
        // Publishes req (and its result) before the bottom half can take it; dropped if closed.
        completionBh.enqueue(BottomHalf.SCHEDULED, false);
    }

    /**
     * The context is closed: of the completed requests in {@code taken}, those of submitCo are
     * delivered to their coroutines (which may belong to other contexts) from this thread; the
     * others are dropped, as no completion runs after the close. Any thread.
     */
    private static void deliverAfterClose(Request taken) {
        for (Request r = taken; r != null; r = r.next) {
            if (r.submission != null) {
                r.submission.deliver(r.result, r.error);
            }
        }
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

    /**
     * Called by the closing thread of the context: drops queued work (a submitCo waiting for it
     * resumes with an IllegalStateException); running work finishes (its submitCo gets the result
     * from the worker, see {@link #runOnWorker}); completions not yet delivered are dropped, except
     * submitCo's, delivered here.
     */
    void shutdown() {
        java.util.List<Runnable> queued = new java.util.ArrayList<>();
        workers.getQueue().drainTo(queued);
        workers.shutdown();
        completionBh.delete();
        for (Runnable job : queued) {
            Request r = (Request) job;
            if (r.submission != null && r.drop()) {
                r.submission.deliver(null, new IllegalStateException("thread pool of " + ctx + " was closed before"
                        + " the work submitted by ThreadPool.submitCo(Callable) ran; the work was dropped"));
            }
        }
        Request r;
        while ((r = delivering.poll()) != null) {
            r.next = null;
            deliverAfterClose(r);
        }
        deliverAfterClose((Request) DONE.getAndSet(this, (Request) null));
    }
}
