package io.aioco;

import io.aioco.internal.CoStack;

/**
 * A queue of coroutines waiting for a condition, like a condition variable. Maps to QEMU's
 * {@code CoQueue} ({@code qemu_co_queue_*}).
 *
 * <p>Waiters are woken in the order they started waiting. Waking goes through {@link
 * Coroutine#wake()}: from a coroutine on the same context, the woken coroutine runs after the waker
 * yields or terminates; from elsewhere it is scheduled on its own context. Thread-safe: an internal
 * monitor guards the list (never held across a suspension).
 */
public final class CoQueue {
    private static final CoFrame AWAIT = new CoFrame("io.aioco.CoQueue.await(CoMutex)", "await",
            "(Lio/aioco/CoMutex;)V");
    private static final CoFrame NEXT = new CoFrame("io.aioco.CoQueue.next()", "next", "()Z");
    private static final CoFrame RESTART_ALL = new CoFrame("io.aioco.CoQueue.restartAll()", "restartAll", "()V");

    /** Waiters, FIFO; guarded by {@code this}. */
    private final WaiterList<Waiter> waiters = new WaiterList<>();

    /** Creates an empty queue. Maps to {@code qemu_co_queue_init}. */
    public CoQueue() {}

    /**
     * Waits in the queue until woken by {@link #next()}, {@link #restartAll()} or {@link
     * #enterNext(CoMutex)}. If {@code lockOrNull} is given, the caller must hold it: it is released
     * while waiting and taken again before this returns. Maps to {@code qemu_co_queue_wait}. The
     * coroutine joins the queue, and then releases the lock, only once it has yielded: a waker that
     * took the lock meanwhile finds it in the queue, and no waker finds it still running.
     *
     * <p>A cancellation point: when the coroutine is cancelled ({@link Coroutine#cancel()}) or an
     * enclosing {@link Coroutine#withTimeoutNs} expires while it waits, it leaves the queue, takes
     * {@code lockOrNull} back (that wait cannot be cancelled: the caller's {@code finally} may
     * unlock it), and throws {@link java.util.concurrent.CancellationException} (or {@link
     * CoroutineTimeoutException}). A wake-up that reached it first is kept (it returns normally,
     * and its next wait throws); a cancellation that came first makes {@link #next()} wake the
     * next waiter instead, so no wake-up is swallowed.
     *
     * @param lockOrNull a CoMutex held by the caller, or null
     * @throws IllegalStateException outside a coroutine, or called from code that is not
     *     instrumented, or when the caller does not hold {@code lockOrNull}
     */
    @CoroutineFn
    public void await(CoMutex lockOrNull) {
        CoStack stack = AWAIT.enter();
        int arrival = AWAIT.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            CoWait ended = AWAIT.resumeEnded(stack); // a relock wait throws its carried cancellation here
            if (ended instanceof Waiter waiter) {
                RuntimeException cancellation = waiter.cancellation();
                if (waiter.lock != null && !waiter.lock.tryLock(waiter.coroutine)) {
                    // out of the queue: now wait for the mutex again (its waiter completes when
                    // handed it), uncancellably: the caller expects to hold it, even when this throws
                    AWAIT.suspend(stack, arrival, waiter.lock.newRelockWaiter(waiter.coroutine, cancellation));
                    return;
                }
                if (cancellation != null) {
                    throw cancellation;
                }
            }
            return;
        }
        Coroutine self = CoFrame.coroutine(stack);
        if (lockOrNull != null) {
            lockOrNull.checkHeldBy(self);
        }
        AWAIT.suspend(stack, arrival, new Waiter(self, lockOrNull));
    }

    /** A coroutine waiting in this queue. */
    private final class Waiter extends CoWait {
        /** The mutex released while waiting and taken again after, or null. */
        final CoMutex lock;

        Waiter(Coroutine self, CoMutex lock) {
            super(self);
            this.lock = lock;
        }

        @Override
        public CoWait publish() {
            synchronized (CoQueue.this) {
                waiters.add(this);
            }
            // NOTE: queued before the lock is released: whoever takes the lock next and calls
            // next() finds this waiter (no lost wake-up, as qemu_co_queue_wait_impl)
            return lock == null ? null : lock.release(coroutine);
        }

        /** Cancelled while queued: leaves the queue. Any thread. */
        @Override
        void withdraw() {
            synchronized (CoQueue.this) {
                waiters.remove(this); // false: next() polled it, lost the CAS, and woke the next one
            }
        }

        @Override
        String describe() {
            return "a wake-up from " + CoQueue.this;
        }
    }

    /** Takes the first waiter off the queue, or returns null. */
    private synchronized Waiter poll() {
        return waiters.poll();
    }

    /**
     * Wakes the first waiter, which runs after the caller yields or terminates (or on its own
     * context). Maps to {@code qemu_co_queue_next}. Beyond QEMU (whose contexts outlive their
     * coroutines): a waiter whose context is closed can never run, so it is skipped, reported once
     * by name as lost (logger {@code io.aioco}, WARNING, naming {@code CoQueue.next()}), and the
     * next waiter is woken instead; the caller never gets the closed context's exception.
     *
     * @return true if a coroutine was woken, false if the queue was empty
     */
    @CoroutineFn
    public boolean next() {
        NEXT.arrive(NEXT.enter(), this); // never suspends: any caller will do
        return wakeFirst("CoQueue.next()");
    }

    /**
     * Wakes the first waiter that is not cancelled and can run. NOTE: a waiter whose cancellation
     * won the CAS in wakeOrLose() does not count, nor does one whose context is closed (reported as
     * lost): the wake-up goes to the next one (never swallowed, never thrown at the waker).
     */
    private boolean wakeFirst(String where) {
        for (Waiter first = poll(); first != null; first = poll()) {
            if (first.wakeOrLose(where)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Wakes every waiter, in order. Maps to {@code qemu_co_queue_restart_all}. A waiter whose
     * context is closed is skipped and reported as lost, as in {@link #next()}.
     */
    @CoroutineFn
    public void restartAll() {
        RESTART_ALL.arrive(RESTART_ALL.enter(), this); // never suspends: any caller will do
        for (Waiter first = poll(); first != null; first = poll()) {
            first.wakeOrLose("CoQueue.restartAll()");
        }
    }

    /**
     * Wakes the first waiter; usable outside coroutines, where the woken coroutine is entered
     * before this returns. In a coroutine it is equivalent to {@link #next()}. Maps to
     * {@code qemu_co_enter_next}.
     *
     * <p>QEMU releases its {@code lock} argument around the wake because the woken coroutine runs
     * at once and may need it. Here {@code lockOrNull} is a CoMutex, which only a coroutine can
     * hold: outside coroutines the caller cannot hold it, and inside one the woken coroutine runs
     * only after the caller yields. So it is checked (the calling coroutine, if any, must hold it)
     * but needs no release.
     *
     * @param lockOrNull the CoMutex that protects the condition, or null
     * @return true if a coroutine was woken
     * @throws IllegalStateException if called in a coroutine that does not hold {@code lockOrNull}
     */
    public boolean enterNext(CoMutex lockOrNull) {
        Coroutine self = Coroutine.self();
        if (lockOrNull != null && self != null && !lockOrNull.isHeldBy(self)) {
            throw new IllegalStateException(self + " calls enterNext with " + lockOrNull + ", which it does not hold");
        }
        return wakeFirst("CoQueue.enterNext(CoMutex)");
    }

    /**
     * Tells whether no coroutine waits in the queue (a snapshot). Maps to
     * {@code qemu_co_queue_empty}.
     *
     * @return true if empty
     */
    public synchronized boolean isEmpty() {
        return waiters.isEmpty();
    }
}
