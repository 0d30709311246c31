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
    private static final VarHandle OWNER;

    static {
        try {
            OWNER = MethodHandles.lookup().findVarHandle(CoMutex.class, "owner", Coroutine.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final int LOCK_TOKEN = CoStack.token("lock", "()V");
    private static final int UNLOCK_TOKEN = CoStack.token("unlock", "()V");

    /**
     * The holder, or null when free. Set by CAS when free and nobody waits, or by the unlocker to
     * the waiter it hands the lock to (under {@code this} monitor). Pairs: CAS in lock() / the
     * release store in unlock().
     */
    @SuppressWarnings("unused") // through OWNER
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
        int arrival = stack.arrive(LOCK_TOKEN);
        Coroutine self = stack.coroutine();
        if (arrival == CoStack.RESUMED) {
            if (owner != self) {
                stack.suspend(); // entered by someone else while still waiting: keep waiting
            }
            return; // unlock() handed the lock to us before waking us
        }
        if (owner == self) {
            throw new IllegalStateException(this + " is already held by " + self + ", which locks it again");
        }
        if (OWNER.compareAndSet(this, null, self)) {
            return; // fast path: free, so nobody waits (waiters exist only while it is held)
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
        if (OWNER.compareAndSet(this, null, self)) {
            return true;
        }
        synchronized (this) {
            // NOTE: re-check under the monitor: an unlock that found no waiter may have freed it since
            if (OWNER.compareAndSet(this, null, self)) {
                return true;
            }
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
        stack.arrive(UNLOCK_TOKEN); // never suspends: any caller will do
        Coroutine self = stack.coroutine();
        Coroutine next = release(self);
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
        synchronized (this) {
            Coroutine next = head;
            if (next != null) {
                head = next.next;
                if (head == null) {
                    tail = null;
                }
                next.next = null;
            }
            OWNER.setRelease(this, next); // hand-off: the waiter owns the lock before it runs
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
        return owner != null;
    }

    @Override
    public String toString() {
        return "CoMutex@" + Integer.toHexString(System.identityHashCode(this));
    }
}
