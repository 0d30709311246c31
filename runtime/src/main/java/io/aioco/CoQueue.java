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
    private static final int AWAIT_TOKEN = CoStack.token("await", "(Lio/aioco/CoMutex;)V");
    private static final int NEXT_TOKEN = CoStack.token("next", "()Z");
    private static final int RESTART_ALL_TOKEN = CoStack.token("restartAll", "()V");
    /** await's saved states: waiting in the queue; waiting for the mutex again. */
    private static final int WAITING = 0;
    private static final int RELOCKING = 1;

    /** Waiters, FIFO, linked through {@code Coroutine.next}; guarded by {@code this}. */
    private Coroutine head;
    private Coroutine tail;

    /** Creates an empty queue. Maps to {@code qemu_co_queue_init}. */
    public CoQueue() {}

    /**
     * Waits in the queue until woken by {@link #next()}, {@link #restartAll()} or {@link
     * #enterNext(CoMutex)}. If {@code lockOrNull} is given, the caller must hold it: it is released
     * while waiting and taken again before this returns. Maps to {@code qemu_co_queue_wait}.
     *
     * @param lockOrNull a CoMutex held by the caller, or null
     * @throws IllegalStateException outside a coroutine, or called from code that is not
     *     instrumented, or when the caller does not hold {@code lockOrNull}
     */
    @CoroutineFn
    public void await(CoMutex lockOrNull) {
        CoStack stack = CoStack.enter("io.aioco.CoQueue.await(CoMutex)");
        int arrival = stack.arrive(AWAIT_TOKEN, this);
        Coroutine self = stack.coroutine();
        if (arrival == CoStack.RESUMED) {
            int state = stack.popInt();
            CoMutex lock = (CoMutex) stack.popRef();
            if (state == WAITING) {
                if (contains(self)) {
                    park(stack, lock, WAITING); // entered by someone else while still queued: keep waiting
                } else if (lock != null && !lock.tryLockOrQueue(self)) {
                    park(stack, lock, RELOCKING);
                }
            } else if (!lock.isHeldBy(self)) {
                park(stack, lock, RELOCKING); // entered while still queued on the mutex: keep waiting
            }
            return;
        }
        if (arrival != CoStack.CALLED) {
            throw stack.crossedUninstrumented("io.aioco.CoQueue.await(CoMutex)");
        }
        synchronized (this) {
            self.next = null;
            if (tail == null) {
                head = self;
            } else {
                tail.next = self;
            }
            tail = self;
        }
        if (lockOrNull != null) {
            Coroutine handedTo;
            try {
                handedTo = lockOrNull.release(self);
            } catch (IllegalStateException notHeld) {
                remove(self);
                throw notHeld;
            }
            if (handedTo != null) {
                handedTo.wake();
            }
        }
        park(stack, lockOrNull, WAITING);
    }

    private static void park(CoStack stack, CoMutex lock, int state) {
        stack.pushRef(lock);
        stack.pushInt(state);
        stack.suspend();
    }

    private synchronized boolean contains(Coroutine co) {
        for (Coroutine c = head; c != null; c = c.next) {
            if (c == co) {
                return true;
            }
        }
        return false;
    }

    private synchronized void remove(Coroutine co) {
        Coroutine previous = null;
        for (Coroutine c = head; c != null; previous = c, c = c.next) {
            if (c == co) {
                if (previous == null) {
                    head = c.next;
                } else {
                    previous.next = c.next;
                }
                if (tail == c) {
                    tail = previous;
                }
                c.next = null;
                return;
            }
        }
    }

    /** Takes the first waiter off the queue, or returns null. */
    private synchronized Coroutine poll() {
        Coroutine first = head;
        if (first != null) {
            head = first.next;
            if (head == null) {
                tail = null;
            }
            first.next = null;
        }
        return first;
    }

    /**
     * Wakes the first waiter, which runs after the caller yields or terminates (or on its own
     * context). Maps to {@code qemu_co_queue_next}.
     *
     * @return true if a coroutine was woken, false if the queue was empty
     */
    @CoroutineFn
    public boolean next() {
        CoStack.enter("io.aioco.CoQueue.next()").arrive(NEXT_TOKEN, this);
        Coroutine first = poll();
        if (first == null) {
            return false;
        }
        first.wake();
        return true;
    }

    /**
     * Wakes every waiter, in order. Maps to {@code qemu_co_queue_restart_all}.
     */
    @CoroutineFn
    public void restartAll() {
        CoStack.enter("io.aioco.CoQueue.restartAll()").arrive(RESTART_ALL_TOKEN, this);
        for (Coroutine first = poll(); first != null; first = poll()) {
            first.wake();
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
        Coroutine first = poll();
        if (first == null) {
            return false;
        }
        first.wake();
        return true;
    }

    /**
     * Tells whether no coroutine waits in the queue (a snapshot). Maps to
     * {@code qemu_co_queue_empty}.
     *
     * @return true if empty
     */
    public synchronized boolean isEmpty() {
        return head == null;
    }
}
