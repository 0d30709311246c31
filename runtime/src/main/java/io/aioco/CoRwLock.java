package io.aioco;

import io.aioco.internal.CoStack;

/**
 * A readers-writer lock for coroutines. Maps to QEMU's {@code CoRwlock}
 * ({@code qemu_co_rwlock_*}), with the semantics of QEMU 6.0 and later.
 *
 * <p>Waiters are served in arrival order (a ticket queue): a {@link #rdlock()} waits behind a
 * queued writer, so a stream of readers cannot starve a writer. When the head of the queue can run
 * it is woken; a woken reader wakes the next reader in line in turn. {@link #upgrade()} takes the
 * write lock at once only when the caller is the sole owner and nobody is queued; otherwise it
 * releases its read lock and queues behind the waiters. {@link #downgrade()} turns the write lock
 * into a read lock and wakes the readers queued at the head, never blocking.
 *
 * <p>Thread-safe: an internal monitor guards the state (never held across a suspension).
 */
public final class CoRwLock {
    private static final int RDLOCK_TOKEN = CoStack.token("rdlock", "()V");
    private static final int WRLOCK_TOKEN = CoStack.token("wrlock", "()V");
    private static final int UPGRADE_TOKEN = CoStack.token("upgrade", "()V");
    private static final int DOWNGRADE_TOKEN = CoStack.token("downgrade", "()V");
    private static final int UNLOCK_TOKEN = CoStack.token("unlock", "()V");

    /** A queued request. */
    private static final class Ticket {
        final boolean read;
        final Coroutine coroutine;
        Ticket next;
        /** Set when the lock has been granted to this ticket (its coroutine is woken or about to be). */
        boolean granted;

        Ticket(boolean read, Coroutine coroutine) {
            this.read = read;
            this.coroutine = coroutine;
        }
    }

    /** Readers holding the lock (> 0), -1 for a writer, 0 when free. Guarded by {@code this}. */
    private int owners;
    private Ticket head;
    private Ticket tail;

    /** Creates an unlocked lock. Maps to {@code qemu_co_rwlock_init}. */
    public CoRwLock() {}

    /**
     * Takes a read lock, yielding while a writer holds the lock or is queued. Maps to
     * {@code qemu_co_rwlock_rdlock}.
     */
    @CoroutineFn
    public void rdlock() {
        CoStack stack = CoStack.enter("io.aioco.CoRwLock.rdlock()");
        int arrival = stack.arrive(RDLOCK_TOKEN, this);
        if (arrival == CoStack.RESUMED) {
            resumeWaiter(stack);
            return;
        }
        synchronized (this) {
            if (owners == 0 || (owners > 0 && head == null)) {
                owners++;
                return;
            }
            requireInstrumentedCaller(stack, arrival, "rdlock()");
            stack.pushRef(enqueue(true, stack.coroutine()));
        }
        stack.suspend();
    }

    /**
     * Takes the write lock, yielding while anybody holds the lock. Maps to
     * {@code qemu_co_rwlock_wrlock}.
     */
    @CoroutineFn
    public void wrlock() {
        CoStack stack = CoStack.enter("io.aioco.CoRwLock.wrlock()");
        int arrival = stack.arrive(WRLOCK_TOKEN, this);
        if (arrival == CoStack.RESUMED) {
            resumeWaiter(stack);
            return;
        }
        synchronized (this) {
            if (owners == 0) {
                owners = -1;
                return;
            }
            requireInstrumentedCaller(stack, arrival, "wrlock()");
            stack.pushRef(enqueue(false, stack.coroutine()));
        }
        stack.suspend();
    }

    /**
     * Turns the caller's read lock into the write lock: at once if it is the only reader and nobody
     * is queued, else by releasing the read lock and queueing for the write lock behind the
     * waiters (so another writer may run first). Maps to {@code qemu_co_rwlock_upgrade}.
     *
     * @throws IllegalStateException if the lock is not held for reading
     */
    @CoroutineFn
    public void upgrade() {
        CoStack stack = CoStack.enter("io.aioco.CoRwLock.upgrade()");
        int arrival = stack.arrive(UPGRADE_TOKEN, this);
        if (arrival == CoStack.RESUMED) {
            resumeWaiter(stack);
            return;
        }
        Coroutine woken;
        synchronized (this) {
            if (owners <= 0) {
                throw new IllegalStateException("cannot upgrade " + this + ": it is not held for reading");
            }
            if (owners == 1 && head == null) {
                owners = -1;
                return;
            }
            requireInstrumentedCaller(stack, arrival, "upgrade()");
            owners--;
            stack.pushRef(enqueue(false, stack.coroutine()));
            woken = grantHead();
        }
        if (woken != null) {
            woken.wake();
        }
        stack.suspend();
    }

    /**
     * Turns the caller's write lock into a read lock and wakes the readers queued at the head;
     * never blocks. Maps to {@code qemu_co_rwlock_downgrade}.
     *
     * @throws IllegalStateException if the lock is not held for writing
     */
    @CoroutineFn
    public void downgrade() {
        CoStack.enter("io.aioco.CoRwLock.downgrade()").arrive(DOWNGRADE_TOKEN, this);
        Coroutine woken;
        synchronized (this) {
            if (owners != -1) {
                throw new IllegalStateException("cannot downgrade " + this + ": it is not held for writing");
            }
            owners = 1;
            woken = grantHead();
        }
        if (woken != null) {
            woken.wake();
        }
    }

    /**
     * Releases the caller's read or write lock and wakes the next waiter that can run. Maps to
     * {@code qemu_co_rwlock_unlock}.
     *
     * @throws IllegalStateException if the lock is not held
     */
    @CoroutineFn
    public void unlock() {
        CoStack.enter("io.aioco.CoRwLock.unlock()").arrive(UNLOCK_TOKEN, this);
        Coroutine woken;
        synchronized (this) {
            if (owners > 0) {
                owners--;
            } else if (owners == -1) {
                owners = 0;
            } else {
                throw new IllegalStateException("cannot unlock " + this + ": it is not locked");
            }
            woken = grantHead();
        }
        if (woken != null) {
            woken.wake();
        }
    }

    private static void requireInstrumentedCaller(CoStack stack, int arrival, String method) {
        if (arrival != CoStack.CALLED) {
            throw stack.crossedUninstrumented("io.aioco.CoRwLock." + method);
        }
    }

    /** Guarded by this. */
    private Ticket enqueue(boolean read, Coroutine coroutine) {
        Ticket ticket = new Ticket(read, coroutine);
        if (tail == null) {
            head = ticket;
        } else {
            tail.next = ticket;
        }
        tail = ticket;
        return ticket;
    }

    /**
     * QEMU's maybe_wake_one: grants the lock to the head ticket if it can run now (a reader while
     * no writer owns, a writer when free), removes it and returns its coroutine to wake. Guarded by
     * this; the caller wakes after leaving the monitor.
     */
    private Coroutine grantHead() {
        Ticket ticket = head;
        if (ticket == null) {
            return null;
        }
        if (ticket.read) {
            if (owners < 0) {
                return null;
            }
            owners++;
        } else {
            if (owners != 0) {
                return null;
            }
            owners = -1;
        }
        head = ticket.next;
        if (head == null) {
            tail = null;
        }
        ticket.next = null;
        ticket.granted = true;
        return ticket.coroutine;
    }

    /**
     * A waiter runs again: if its ticket was granted it owns the lock (a reader then lets the next
     * reader in line in); if it was entered spuriously while still queued, it keeps waiting.
     */
    private void resumeWaiter(CoStack stack) {
        Ticket ticket = (Ticket) stack.popRef();
        Coroutine woken;
        synchronized (this) {
            if (!ticket.granted) {
                stack.pushRef(ticket);
                stack.suspend();
                return;
            }
            woken = ticket.read ? grantHead() : null;
        }
        if (woken != null) {
            woken.wake();
        }
    }

    @Override
    public synchronized String toString() {
        return "CoRwLock@" + Integer.toHexString(System.identityHashCode(this))
                + (owners < 0 ? "[write-locked]" : owners > 0 ? "[" + owners + " readers]" : "[free]");
    }
}
