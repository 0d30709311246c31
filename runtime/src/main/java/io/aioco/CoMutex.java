package io.aioco;

import io.aioco.internal.CoStack;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A mutex for coroutines: a coroutine that cannot take it yields until the lock is handed to it.
 * Maps to QEMU's {@code CoMutex} ({@code qemu_co_mutex_*}).
 *
 * <p>Fair: {@link #unlock()} hands the lock to the longest waiter (FIFO) and wakes only that one, so
 * there is no thundering herd, and nobody can take the lock between the hand-off and the waiter
 * running. Works for coroutines on different threads and AioContexts: the waiter is woken on its
 * own context ({@link Coroutine#wake()}). The lock belongs to a coroutine, not a thread: only the
 * coroutine that holds it may unlock it.
 *
 * <p>The lock is never held across a suspension inside this class: the internal monitor guards a
 * few field updates only.
 */
public final class CoMutex {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CoMutex.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int LOCK_TOKEN = CoStack.token("lock", "()V");
    private static final int UNLOCK_TOKEN = CoStack.token("unlock", "()V");

    /** Bit of {@link #state}: somebody holds the lock (or it is being handed over). */
    private static final int LOCKED = 1;
    /** One waiter, in {@link #state}: the count of queued coroutines is {@code state >>> 1}. */
    private static final int WAITER = 2;

    /**
     * LOCKED bit plus twice the number of waiters, in one word so that the uncontended paths are a
     * single CAS each: lock 0 -> LOCKED, unlock LOCKED -> 0. A waiter adds WAITER and puts itself
     * in the queue under {@code this} monitor in one step; unlock with waiters takes the monitor,
     * so it always finds the queue filled. NOTE: the hand-off keeps LOCKED set: the lock goes to
     * the first waiter without ever being free, so nobody can barge in (FIFO).
     */
    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /** The holder (or the waiter it is handed to); only its holder writes it, or the hand-off. */
    private volatile Coroutine owner;
    /** Waiters, FIFO, linked through {@code Coroutine.next}; guarded by {@code this}. */
    private Coroutine head;
    private Coroutine tail;

    /** Creates an unlocked mutex. Maps to {@code qemu_co_mutex_init}. */
    public CoMutex() {}

    /**
     * Takes the lock, yielding until it is handed over if another coroutine holds it. Maps to
     * {@code qemu_co_mutex_lock}.
     *
     * @throws IllegalStateException outside a coroutine, if the running coroutine already holds the
     *     lock (it is not reentrant), or if it would have to wait while called from code that is not
     *     instrumented
     */
    @CoroutineFn
    public void lock() {
        CoStack stack = CoStack.enter("io.aioco.CoMutex.lock()");
        int arrival = stack.arrive(LOCK_TOKEN, this);
        Coroutine self = stack.coroutine();
        if (arrival == CoStack.RESUMED) {
            if (owner != self) {
                stack.suspend(); // entered by someone else while still waiting: keep waiting
            }
            return; // unlock() handed the lock to us before waking us
        }
        if (STATE.compareAndSet(this, 0, LOCKED)) {
            owner = self; // fast path: free, and nobody waits
            return;
        }
        if (owner == self) {
            throw new IllegalStateException(this + " is already held by " + self + ", which locks it again");
        }
        if (arrival != CoStack.CALLED) {
            throw stack.crossedUninstrumented("io.aioco.CoMutex.lock()");
        }
        if (!tryLockOrQueue(self)) {
            stack.suspend();
        }
    }

    /**
     * Takes the lock for {@code self} if it is free, else puts {@code self} last in line. Also used
     * by {@link CoQueue#await(CoMutex)}.
     *
     * @return true if {@code self} holds the lock now, false if it must wait for the hand-off
     */
    boolean tryLockOrQueue(Coroutine self) {
        if (STATE.compareAndSet(this, 0, LOCKED)) {
            owner = self;
            return true;
        }
        synchronized (this) {
            while (true) {
                int current = state;
                if ((current & LOCKED) == 0) {
                    if (STATE.compareAndSet(this, current, current | LOCKED)) {
                        owner = self; // freed since: take it
                        return true;
                    }
                } else if (STATE.compareAndSet(this, current, current + WAITER)) {
                    // NOTE: counted and queued under the monitor: an unlock that sees the count takes
                    // the monitor, so it finds this waiter in the queue
                    self.next = null;
                    if (tail == null) {
                        head = self;
                    } else {
                        tail.next = self;
                    }
                    tail = self;
                    return false;
                }
            }
        }
    }

    /** @return whether {@code co} holds the lock */
    boolean isHeldBy(Coroutine co) {
        return owner == co;
    }

    /**
     * Releases the lock, handing it to the longest waiter if there is one and waking it. Maps to
     * {@code qemu_co_mutex_unlock}.
     *
     * @throws IllegalStateException if the running coroutine does not hold the lock (naming both
     *     the caller and the holder)
     */
    @CoroutineFn
    public void unlock() {
        CoStack stack = CoStack.enter("io.aioco.CoMutex.unlock()");
        stack.arrive(UNLOCK_TOKEN, this); // never suspends: any caller will do
        Coroutine next = release(stack.coroutine());
        if (next != null) {
            next.wake();
        }
    }

    /**
     * Gives the lock up: to the first waiter (returned, to be woken by the caller) or to nobody.
     * Also used by {@link CoQueue#await(CoMutex)}.
     */
    Coroutine release(Coroutine self) {
        Coroutine holder = owner;
        if (holder != self) {
            throw new IllegalStateException(self + " cannot unlock " + this + ": "
                    + (holder == null ? "it is not locked" : "it is held by " + holder));
        }
        owner = null; // NOTE: before the release below, after which another coroutine may set it
        if (STATE.compareAndSet(this, LOCKED, 0)) {
            return null; // nobody waits
        }
        synchronized (this) {
            Coroutine next = head;
            head = next.next;
            if (head == null) {
                tail = null;
            }
            next.next = null;
            owner = next; // hand-off: the waiter owns the lock before it runs
            STATE.getAndAdd(this, -WAITER); // LOCKED stays set
            return next;
        }
    }

    /**
     * Tells whether some coroutine holds the lock (a snapshot; it may change at once on other
     * threads).
     *
     * @return true if locked
     */
    public boolean isLocked() {
        return (state & LOCKED) != 0;
    }

    @Override
    public String toString() {
        return "CoMutex@" + Integer.toHexString(System.identityHashCode(this));
    }
}
