package io.aioco.internal;

/**
 * A thread's own state: the coroutine it runs right now and its event-loop contexts ({@code
 * my_aiocontext} in QEMU's {@code util/async.c}, beside the current coroutine of {@code
 * qemu-coroutine.c}). One cheap per-thread lookup ({@link CoStack#carrier()}) serves both.
 *
 * <p>Thread confinement: only its own thread writes a carrier; coroutine dumps read {@link #current}
 * racily from any thread.
 *
 * <p>The contexts and coroutines are held as {@code Object}: the package of woven-code entry points
 * imports nothing public ({@code io.aioco.AioContext} and {@code io.aioco.Coroutine} cast them
 * back), so no import cycle runs through here.
 */
public final class Carrier {
    /** Id of the thread this carrier belongs to (the carrier cache checks it). */
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() is JDK 19+
    final long threadId = Thread.currentThread().getId();
    /** Stack of the coroutine the thread runs now, null outside coroutines. */
    public CoStack current;

    /** The thread this carrier belongs to, weakly (a carrier in the cache must not keep it). */
    private final java.lang.ref.WeakReference<Thread> thread = new java.lang.ref.WeakReference<>(Thread.currentThread());

    /** @return the id of the thread this carrier belongs to (coroutine dumps) */
    public long threadId() {
        return threadId;
    }

    /** @return the thread this carrier belongs to, or null once it is gone (coroutine dumps; any thread) */
    public Thread thread() {
        return thread.get();
    }
    /** The AioContext this thread runs (an IOThread's, or the main one on the main-loop thread). */
    public Object home;
    /** The innermost AioContext this thread is inside {@code poll()} of, else null. */
    public Object polling;

    /**
     * The storage of the last coroutine that terminated on this thread, kept for the next one that
     * starts here (QEMU keeps a pool of coroutines for the same reason): creating and running a
     * short coroutine then allocates one object, not three.
     */
    private CoStack spare;

    Carrier() {}

    /**
     * @param owner a coroutine ({@code io.aioco.Coroutine}) entered for the first time on this thread
     * @return storage for it: the spare one, else a new one
     */
    public CoStack takeStack(Object owner) {
        CoStack stack = spare;
        if (stack == null) {
            return new CoStack(owner);
        }
        spare = null;
        stack.reuseFor(owner);
        return stack;
    }

    /** @param stack the storage of a coroutine that terminated on this thread: kept as the spare */
    public void recycle(CoStack stack) {
        stack.emptyForSpare();
        spare = stack;
    }

    /** @return the AioContext {@code AioContext.current()} answers for this thread, or null */
    public Object context() {
        return home != null ? home : polling;
    }
}
