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
    private static final CoFrame RDLOCK = new CoFrame("io.aioco.CoRwLock.rdlock()", "rdlock", "()V");
    private static final CoFrame WRLOCK = new CoFrame("io.aioco.CoRwLock.wrlock()", "wrlock", "()V");
    private static final CoFrame UPGRADE = new CoFrame("io.aioco.CoRwLock.upgrade()", "upgrade", "()V");
    private static final CoFrame DOWNGRADE = new CoFrame("io.aioco.CoRwLock.downgrade()", "downgrade", "()V");
    private static final CoFrame UNLOCK = new CoFrame("io.aioco.CoRwLock.unlock()", "unlock", "()V");

    /**
     * A queued request (QEMU's CoRwTicket). It joins the queue once its coroutine has yielded; the
     * lock is granted to it under the monitor, and it is woken after.
     */
    private final class Ticket extends CoWait {
        final boolean read;
        /** An upgrade: its read lock is given up when it joins the queue. */
        final boolean upgrading;

        Ticket(Coroutine coroutine, boolean read, boolean upgrading) {
            super(coroutine);
            this.read = read;
            this.upgrading = upgrading;
        }

        /** An uncancellable read ticket that throws {@code thenThrow} once granted (a cancelled upgrade). */
        Ticket(Coroutine coroutine, RuntimeException thenThrow) {
            super(coroutine, false, thenThrow);
            this.read = true;
            this.upgrading = false;
        }

        @Override
        Coroutine holder() {
            synchronized (CoRwLock.this) {
                // NOTE: a grant completes the ticket before it names the writer, both under the
                // monitor: a ticket not done whose own coroutine is the writer is a self-wait (a
                // writer asking for the lock again), never a grant being made
                return isDone() ? null : writer;
            }
        }

        /**
         * QEMU's CoRwlock semantics as edges, linear in the queue: a ticket behind a queued writer
         * waits for the nearest such writer (the queue is served in order, so a reader queued behind
         * a writer waits for it even while readers hold the lock; that writer in turn waits for
         * whoever is ahead of it or holds the lock: transitively the same cycles); otherwise for the
         * writer holding the lock, and a write ticket (an upgrade too) for every reader holding it
         * (it needs them all gone). Readers are named under {@link Coroutine#PROBES} only, and not
         * after a read lock was released by a coroutine not known to hold one (see {@link
         * #readerLeft}): a missed cycle is better than a false one.
         */
        @Override
        java.util.List<Coroutine> holders() {
            synchronized (CoRwLock.this) {
                if (isDone()) {
                    return java.util.List.of();
                }
                Coroutine ahead = writerAhead();
                if (ahead != null) {
                    return java.util.List.of(ahead);
                }
                if (writer != null) {
                    return java.util.List.of(writer);
                }
                if (read || readers == null || readersUnknown || readers.isEmpty()) {
                    return java.util.List.of();
                }
                return new java.util.ArrayList<>(readers.keySet());
            }
        }

        /** The coroutine of the nearest write ticket queued ahead of this one, or null. Guarded by the monitor. */
        private Coroutine writerAhead() {
            for (CoWait ahead = prev; ahead != null; ahead = ahead.prev) {
                if (ahead instanceof Ticket ticket && !ticket.read) {
                    return ticket.coroutine;
                }
            }
            return null;
        }

        @Override
        String describeForDump() {
            // NOTE: only copies under the monitor (at most NAMED readers); the text is built after
            boolean done;
            boolean written;
            int held;
            boolean unknown;
            Coroutine[] named = null;
            int distinct = 0;
            Coroutine ahead;
            synchronized (CoRwLock.this) {
                done = isDone();
                written = writer != null;
                held = owners;
                unknown = readersUnknown;
                if (!written && held > 0 && readers != null && !unknown) {
                    distinct = readers.size();
                    named = firstReaders();
                }
                ahead = done ? null : writerAhead();
            }
            StringBuilder text = new StringBuilder(describe());
            if (written) {
                // NOTE: the dump appends ", held by" and the writer (holder())
            } else if (held > 0) {
                text.append(", held by ").append(held).append(" reader(s)");
                if (unknown) {
                    text.append(", not all known");
                } else if (named != null && named.length > 0) {
                    text.append(':');
                    for (int i = 0; i < named.length; i++) {
                        text.append(i == 0 ? " " : ", ").append(CoroutineDump.label(named[i]))
                                .append(named[i] == coroutine ? " (itself)" : "");
                    }
                    if (distinct > named.length) {
                        text.append(" and ").append(distinct - named.length).append(" more");
                    }
                }
            } else {
                text.append(", queued behind other waiters");
            }
            if (ahead != null) {
                text.append(", behind the queued writer ").append(CoroutineDump.label(ahead));
            }
            return text.toString();
        }

        @Override
        public CoWait publish() {
            synchronized (CoRwLock.this) {
                if (upgrading) {
                    owners--;
                    if (Coroutine.PROBES) {
                        readerLeft(coroutine);
                    }
                } else if (read ? owners == 0 || (owners > 0 && waiters.isEmpty()) : owners == 0) {
                    owners = read ? owners + 1 : -1; // freed since the coroutine tried
                    writer = read ? null : coroutine;
                    if (Coroutine.PROBES && read) {
                        readerCame(coroutine);
                    }
                    return completeInline();
                }
                // NOTE: set before the ticket is queued: its grant may resume it on another thread
                jfr = io.aioco.internal.observe.JfrOn.lockWaits() ? io.aioco.internal.observe.Jfr.beginLockWait() : null;
                waiters.add(this);
                if (!upgrading) {
                    return null;
                }
                Ticket granted = grantHead(); // an upgrade may free the lock for the head (itself)
                return granted == this ? this : granted; // completed by grantHead either way
            }
        }

        /**
         * Cancelled while queued: leaves the queue, then lets in whoever it held back (a writer at
         * the head blocks the readers behind it). Any thread.
         */
        @Override
        void withdraw() {
            Ticket woken;
            synchronized (CoRwLock.this) {
                // false: grantHead met it cancelled and dropped it (and went on to the next)
                woken = waiters.remove(this) ? grantHead() : null;
            }
            if (woken != null) {
                woken.wakeHandedOff(); // completed by grantHead
            }
            Object event = jfr; // NOTE: written before the publication, which the cancel CAS follows
            if (event != null) {
                jfr = null;
                io.aioco.internal.observe.Jfr.endLockWait(event, upgrading ? "upgrade" : read ? "read" : "write",
                        CoRwLock.this, coroutine, false);
            }
        }

        /** It was granted the lock but can never run: take the grant back and grant the next. */
        @Override
        CoWait giveBack() {
            synchronized (CoRwLock.this) {
                if (read) {
                    owners--;
                    if (Coroutine.PROBES) {
                        readerLeft(coroutine);
                    }
                } else {
                    owners = 0;
                    writer = null;
                }
                return grantHead();
            }
        }

        @Override
        String describe() {
            return (read ? "a read lock of " : "the write lock of ") + CoRwLock.this;
        }

        /** The JFR lock-wait event of the wait in progress, or null (JFR off). */
        private Object jfr;

        @Override
        void resumed() {
            Object event = jfr;
            if (event != null) {
                jfr = null;
                io.aioco.internal.observe.Jfr.endLockWait(event, upgrading ? "upgrade" : read ? "read" : "write",
                        CoRwLock.this, coroutine, true);
            }
            if (read) {
                wakeNextReader();
            }
        }
    }

    /** Readers holding the lock (> 0), -1 for a writer, 0 when free. Guarded by {@code this}. */
    private int owners;
    /**
     * The coroutine that holds the write lock (or the ticket it was granted to), null when none:
     * for coroutine dumps and their deadlock report only. Guarded by {@code this}.
     */
    private Coroutine writer;
    /** Tickets in arrival order; guarded by {@code this}. */
    private final WaiterList<Ticket> waiters = new WaiterList<>();
    /**
     * Under {@link Coroutine#PROBES} only (else always null): the coroutines holding a read lock,
     * each with how many it holds, held weakly (a coroutine lost while holding a read lock is still
     * collected and reported lost), for coroutine dumps and their deadlock report. Created at the
     * first read lock; guarded by {@code this}. Without the probes readers are counted ({@link
     * #owners}), not named, and a read lock costs nothing more (the check is a static final the JIT
     * folds).
     */
    private java.util.WeakHashMap<Coroutine, int[]> readers;
    /**
     * Under {@link Coroutine#PROBES}: a read lock was released by a coroutine not known to hold one
     * (a hand-off, which QEMU does not forbid) since the lock was last free of readers: the names in
     * {@link #readers} may not be who holds the lock, so they are neither printed nor used as
     * edges. Guarded by {@code this}.
     */
    private boolean readersUnknown;
    /** How many readers a dump line names at most. */
    private static final int NAMED = 8;

    /** Creates an unlocked lock. Maps to {@code qemu_co_rwlock_init}. */
    public CoRwLock() {}

    /**
     * Takes a read lock, yielding while a writer holds the lock or is queued. Maps to
     * {@code qemu_co_rwlock_rdlock}.
     *
     * <p>A cancellation point while it waits (see {@link #wrlock()}): a cancelled reader leaves the
     * queue holding nothing and throws {@link java.util.concurrent.CancellationException}; one
     * granted the lock first returns normally holding it.
     */
    @CoroutineFn
    public void rdlock() {
        CoStack stack = RDLOCK.enter();
        int arrival = RDLOCK.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            RDLOCK.resume(stack);
            return;
        }
        synchronized (this) {
            if (owners == 0 || (owners > 0 && waiters.isEmpty())) {
                owners++;
                if (Coroutine.PROBES) {
                    readerCame(CoFrame.coroutine(stack));
                }
                return;
            }
        }
        RDLOCK.suspend(stack, arrival, new Ticket(CoFrame.coroutine(stack), true, false));
    }

    /**
     * Takes the write lock, yielding while anybody holds the lock. Maps to
     * {@code qemu_co_rwlock_wrlock}.
     *
     * <p>A cancellation point while it waits: when the coroutine is cancelled ({@link
     * Coroutine#cancel()}) or an enclosing {@link Coroutine#withTimeoutNs} expires, its ticket
     * leaves the queue (letting in the readers it held back) and this throws {@link
     * java.util.concurrent.CancellationException} (or {@link CoroutineTimeoutException}) without the
     * lock. A grant made before the cancellation is kept: this returns normally holding the lock,
     * and the next wait throws. A grant never goes to a cancelled ticket.
     */
    @CoroutineFn
    public void wrlock() {
        CoStack stack = WRLOCK.enter();
        int arrival = WRLOCK.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            WRLOCK.resume(stack);
            return;
        }
        synchronized (this) {
            if (owners == 0) {
                owners = -1;
                writer = CoFrame.coroutine(stack);
                return;
            }
        }
        WRLOCK.suspend(stack, arrival, new Ticket(CoFrame.coroutine(stack), false, false));
    }

    /**
     * Turns the caller's read lock into the write lock: at once if it is the only reader and nobody
     * is queued, else by releasing the read lock and queueing for the write lock behind the
     * waiters (so another writer may run first). Maps to {@code qemu_co_rwlock_upgrade}.
     *
     * <p>A cancellation point while it waits for the write lock: the ticket leaves the queue, the
     * coroutine takes its read lock back (a wait that cannot be cancelled, behind the waiters), and
     * this throws {@link java.util.concurrent.CancellationException} (or {@link
     * CoroutineTimeoutException}) holding the read lock, as before the call.
     *
     * @throws IllegalStateException if the lock is not held for reading
     */
    @CoroutineFn
    public void upgrade() {
        CoStack stack = UPGRADE.enter();
        int arrival = UPGRADE.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            CoWait ended = UPGRADE.resumeEnded(stack); // a read-lock-back ticket throws its cancellation here
            if (ended instanceof Ticket ticket && ticket.upgrading && ticket.isCancelled()) {
                RuntimeException cancellation = ticket.cancellation();
                synchronized (this) {
                    if (owners == 0 || (owners > 0 && waiters.isEmpty())) {
                        owners++; // the read lock back at once
                        if (Coroutine.PROBES) {
                            readerCame(ticket.coroutine);
                        }
                        throw cancellation;
                    }
                }
                UPGRADE.suspend(stack, arrival, new Ticket(ticket.coroutine, cancellation));
            }
            return;
        }
        synchronized (this) {
            if (owners <= 0) {
                throw new IllegalStateException("cannot upgrade " + this + ": it is not held for reading");
            }
            if (owners == 1 && waiters.isEmpty()) {
                owners = -1;
                writer = CoFrame.coroutine(stack);
                if (Coroutine.PROBES) {
                    readers.clear();
                    readersUnknown = false;
                }
                return;
            }
        }
        // NOTE: the read lock is given up in publish(), after the yield: the caller still holds it
        // until then, so owners stays > 0 meanwhile
        UPGRADE.suspend(stack, arrival, new Ticket(CoFrame.coroutine(stack), false, true));
    }

    /**
     * Turns the caller's write lock into a read lock and wakes the readers queued at the head;
     * never blocks. Maps to {@code qemu_co_rwlock_downgrade}.
     *
     * @throws IllegalStateException if the lock is not held for writing
     */
    @CoroutineFn
    public void downgrade() {
        DOWNGRADE.arrive(DOWNGRADE.enter(), this); // never suspends: any caller will do
        Ticket woken;
        synchronized (this) {
            if (owners != -1) {
                throw new IllegalStateException("cannot downgrade " + this + ": it is not held for writing");
            }
            owners = 1;
            if (Coroutine.PROBES) {
                readerCame(writer); // the writer keeps a read lock
            }
            writer = null;
            woken = grantHead();
        }
        if (woken != null) {
            woken.wakeHandedOff(); // completed by grantHead; a closed context's is skipped, never thrown to us
        }
    }

    /**
     * Releases the caller's read or write lock and wakes the next waiter that can run. Maps to
     * {@code qemu_co_rwlock_unlock}. A waiter whose context is closed can never run: it is skipped
     * and reported once by name as lost, here and wherever the lock is granted to waiters ({@link
     * #downgrade()}, a reader letting the next reader in), as {@link CoMutex#unlock()} does.
     *
     * @throws IllegalStateException if the lock is not held
     */
    @CoroutineFn
    public void unlock() {
        CoStack stack = UNLOCK.enter();
        UNLOCK.arrive(stack, this); // never suspends: any caller will do
        Ticket woken;
        synchronized (this) {
            if (owners > 0) {
                owners--;
                if (Coroutine.PROBES) {
                    readerLeft(CoFrame.coroutine(stack));
                }
            } else if (owners == -1) {
                owners = 0;
                writer = null;
            } else {
                throw new IllegalStateException("cannot unlock " + this + ": it is not locked");
            }
            woken = grantHead();
        }
        if (woken != null) {
            woken.wakeHandedOff(); // completed by grantHead; a closed context's is skipped, never thrown to us
        }
    }

    /**
     * QEMU's maybe_wake_one: grants the lock to the head ticket if it can run now (a reader while
     * no writer owns, a writer when free), removes it, completes it and returns it to wake. A
     * cancelled head is dropped and the next one considered. Guarded by this; the caller wakes the
     * ticket ({@link CoWait#wakeHandedOff()}) after leaving the monitor.
     */
    private Ticket grantHead() {
        // NOTE: no assert Thread.holdsLock(this): the model checker emulates monitors and would trip it
        while (true) {
            Ticket ticket = waiters.peek();
            if (ticket == null) {
                return null;
            }
            if (ticket.read ? owners < 0 : owners != 0) {
                return null;
            }
            waiters.poll();
            // NOTE: the grant is this CAS, under the monitor: a cancellation that won it first gets
            // nothing (its withdraw finds it gone); one that comes after loses and the lock is held
            if (ticket.complete()) {
                owners = ticket.read ? owners + 1 : -1;
                if (!ticket.read) {
                    writer = ticket.coroutine;
                } else if (Coroutine.PROBES) {
                    readerCame(ticket.coroutine);
                }
                return ticket;
            }
        }
    }

    /** A reader that got the lock lets the next reader in line in (QEMU: the woken reader wakes one). */
    private void wakeNextReader() {
        Ticket woken;
        synchronized (this) {
            woken = grantHead();
        }
        if (woken != null) {
            woken.wakeHandedOff(); // completed by grantHead; a closed context's is skipped, never thrown to us
        }
    }

    /** Under {@link Coroutine#PROBES}: {@code reader} took a read lock. Guarded by {@code this}. */
    private void readerCame(Coroutine reader) {
        if (readers == null) {
            readers = new java.util.WeakHashMap<>(4);
        }
        int[] count = readers.get(reader);
        if (count == null) {
            readers.put(reader, new int[] {1});
        } else {
            count[0]++;
        }
    }

    /**
     * Under {@link Coroutine#PROBES}: {@code reader} gave a read lock up ({@link #owners} already
     * counts it down). A read lock released by a coroutine not known to hold one (QEMU does not
     * forbid it) leaves the names unknown until the lock is free of readers ({@link
     * #readersUnknown}). Guarded by {@code this}.
     */
    private void readerLeft(Coroutine reader) {
        if (readers == null) {
            return;
        }
        if (owners <= 0) {
            readers.clear();
            readersUnknown = false;
            return;
        }
        int[] count = readers.get(reader);
        if (count == null) {
            readersUnknown = true;
        } else if (--count[0] == 0) {
            readers.remove(reader);
        }
    }

    /**
     * Under {@link Coroutine#PROBES}: the first {@link #NAMED} readers by identity hash code (the id
     * a dump prints), so that a dump's order is stable. Guarded by {@code this}; allocates only the
     * result.
     */
    private Coroutine[] firstReaders() {
        Coroutine[] first = new Coroutine[Math.min(NAMED, readers.size())];
        int n = 0;
        for (Coroutine reader : readers.keySet()) {
            if (reader == null) {
                continue;
            }
            int key = System.identityHashCode(reader);
            int at = n;
            while (at > 0 && Integer.compareUnsigned(System.identityHashCode(first[at - 1]), key) > 0) {
                at--;
            }
            if (at >= first.length) {
                continue;
            }
            System.arraycopy(first, at, first, at + 1, Math.min(n, first.length - 1) - at);
            first[at] = reader;
            n = Math.min(n + 1, first.length);
        }
        return n == first.length ? first : java.util.Arrays.copyOf(first, n);
    }

    /**
     * For coroutine dumps: the coroutine holding the write lock, or null (readers are named by the
     * tickets' {@code holders()} under the probes). Any thread; takes the lock's monitor briefly.
     */
    synchronized Coroutine writer() {
        return writer;
    }

    /** For coroutine dumps: readers holding the lock (0 when none or when a writer holds it). Any thread. */
    synchronized int readers() {
        return Math.max(owners, 0);
    }

    /** @return whether nobody holds the lock and nobody waits (a snapshot, for tests) */
    synchronized boolean isFree() {
        return owners == 0 && waiters.isEmpty();
    }

    @Override
    public synchronized String toString() {
        return "CoRwLock@" + Integer.toHexString(System.identityHashCode(this))
                + (owners < 0 ? "[write-locked]" : owners > 0 ? "[" + owners + " readers]" : "[free]");
    }
}
