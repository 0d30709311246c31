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
    private static final VarHandle OWNER;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CoMutex.class, "state", int.class);
            OWNER = MethodHandles.lookup().findVarHandle(CoMutex.class, "owner", Coroutine.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static final CoFrame LOCK = new CoFrame("io.aioco.CoMutex.lock()", "lock", "()V");
    private static final CoFrame UNLOCK = new CoFrame("io.aioco.CoMutex.unlock()", "unlock", "()V");

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
    /**
     * The holder (or the waiter it is handed to); only its holder writes it, or the hand-off. Read
     * as a volatile; written through {@link #OWNER} with release stores: a volatile store is a full
     * fence on x86, two per hand-off, and no thread decides anything from a read of it that must
     * follow the write (no Dekker pair): the holder reads it back itself, and every other reader
     * (the dump, CoQueue's checks) is racy or ordered by the release of the state or a wait's CAS,
     * which come after these stores in the writer's program order and carry them.
     */
    private volatile Coroutine owner;
    /** Waiters, FIFO; guarded by {@code this}. */
    private final WaiterList<Waiter> waiters = new WaiterList<>();

    /** Creates an unlocked mutex. Maps to {@code qemu_co_mutex_init}. */
    public CoMutex() {}

    /**
     * Takes the lock, yielding until it is handed over if another coroutine holds it. Maps to
     * {@code qemu_co_mutex_lock}. The coroutine joins the waiters only once it has yielded, so an
     * unlock on another thread never wakes a coroutine that is still running.
     *
     * <p>A cancellation point while it waits: when the coroutine is cancelled ({@link
     * Coroutine#cancel()}) or an enclosing {@link Coroutine#withTimeoutNs} expires, the coroutine
     * leaves the queue and this throws {@link java.util.concurrent.CancellationException} (or
     * {@link CoroutineTimeoutException}) without the lock. A lock handed over before the
     * cancellation is kept: this returns normally holding it, and the next wait throws. A
     * cancellation that wins against the hand-off makes the unlock pass the lock to the next
     * waiter, so no lock is ever lost. Taking a free lock is not a cancellation point.
     *
     * @throws IllegalStateException outside a coroutine, if the running coroutine already holds the
     *     lock (it is not reentrant), or if it would have to wait while called from code that is not
     *     instrumented
     */
    @CoroutineFn
    public void lock() {
        CoStack stack = LOCK.enter();
        int arrival = LOCK.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            LOCK.resume(stack); // unlock() handed the lock to us before waking us
            return;
        }
        Coroutine self = CoFrame.coroutine(stack);
        if (tryLock(self)) {
            return; // fast path: free, and nobody waits
        }
        if (owner == self) {
            throw new IllegalStateException(this + " is already held by " + self + ", which locks it again");
        }
        LOCK.suspend(stack, arrival, newWaiter(self));
    }

    /**
     * Takes the lock for {@code self} if it is free and nobody waits: one CAS, tried only when a
     * read finds it free (a CAS that fails costs a locked instruction all the same, twice per wait).
     */
    boolean tryLock(Coroutine self) {
        if (state == 0 && STATE.compareAndSet(this, 0, LOCKED)) {
            OWNER.setRelease(this, self);
            return true;
        }
        return false;
    }

    /**
     * A wait for this lock, to suspend on (also used by {@link CoQueue#await(CoMutex)}): once its
     * coroutine has yielded it takes the lock if it is free, else joins the waiters.
     */
    CoWait newWaiter(Coroutine self) {
        if (self.timeoutScope() != null) {
            return new Waiter(this, self, true, null); // NOTE: a scoped wait is never renewed (see CoWait.renew)
        }
        // NOTE: one waiter per coroutine, renewed for each wait (no allocation per contended lock):
        // the coroutine runs here, so its last wait has ended (or was never published)
        Waiter waiter = (Waiter) self.keptMutexWaiter;
        if (waiter == null) {
            waiter = new Waiter(this, self, true, null);
            self.keptMutexWaiter = waiter;
        } else {
            waiter.renew();
            waiter.mutex = this; // NOTE: seen by others through the publication, as the state
        }
        return waiter;
    }

    /**
     * An uncancellable wait for this lock that throws {@code thenThrow} (if not null) once it holds
     * the lock: {@link CoQueue#await(CoMutex)} takes its lock back this way after a cancellation.
     */
    CoWait newRelockWaiter(Coroutine self, RuntimeException thenThrow) {
        return new Waiter(this, self, false, thenThrow);
    }

    /**
     * A coroutine waiting for a lock. Not an inner class: a coroutine's kept waiter ({@link
     * #newWaiter}) waits for one mutex, then another.
     */
    private static final class Waiter extends CoWait {
        /**
         * The lock it waits for: written by its coroutine's thread before the wait is published
         * (renewed), read after the publication (under the monitor, or by the canceller that won
         * the CAS after the publisher's CAS).
         */
        CoMutex mutex;

        Waiter(CoMutex mutex, Coroutine self, boolean cancellable, RuntimeException thenThrow) {
            super(self, cancellable, thenThrow);
            this.mutex = mutex;
        }

        /** The JFR lock-wait event of the wait in progress, or null (JFR off). */
        private Object jfr;

        @Override
        public CoWait publish() {
            // NOTE: set before the waiter is queued: its wake-up may resume it on another thread
            jfr = io.aioco.internal.observe.JfrOn.lockWaits() ? io.aioco.internal.observe.Jfr.beginLockWait() : null;
            if (mutex.tryLockOrQueue(this)) {
                jfr = null; // not contended after all
                return completeInline();
            }
            return null;
        }

        @Override
        void resumed() {
            Object event = jfr;
            if (event != null) {
                jfr = null;
                io.aioco.internal.observe.Jfr.endLockWait(event, "mutex", mutex, coroutine, true);
            }
        }

        /** Cancelled while queued: leaves the queue and the count. Any thread. */
        @Override
        void withdraw() {
            CoMutex lock = mutex;
            synchronized (lock) {
                if (lock.waiters.remove(this)) {
                    STATE.getAndAdd(lock, -WAITER);
                }
                // else: release() took it out already and, finding it cancelled, passed the lock on
            }
            Object event = jfr; // NOTE: written before the publication, which the cancel CAS follows
            if (event != null) {
                jfr = null;
                io.aioco.internal.observe.Jfr.endLockWait(event, "mutex", lock, coroutine, false);
            }
        }

        /**
         * It was handed the lock but can never run: the lock goes on to the next waiter that is not
         * cancelled, completed under the monitor by {@link #release}.
         */
        @Override
        CoWait giveBack() {
            return mutex.release(coroutine);
        }

        @Override
        String describe() {
            return "the lock of " + mutex;
        }

        @Override
        Coroutine holder() {
            CoMutex lock = mutex;
            Coroutine owner = lock == null ? null : lock.owner;
            // NOTE: its own coroutine as the owner: the lock was handed to it and it is about to run
            // (the owner is set before the waiter is woken); never a self-wait, which lock() refuses
            return owner == coroutine ? null : owner;
        }
    }

    /**
     * Takes the lock for the waiter's coroutine if it is free, else puts it last in line. Runs after
     * the coroutine has yielded.
     *
     * @return true if it holds the lock now, false if it must wait for the hand-off
     */
    private boolean tryLockOrQueue(Waiter waiter) {
        if (tryLock(waiter.coroutine)) {
            return true;
        }
        synchronized (this) {
            while (true) {
                int current = state;
                if ((current & LOCKED) == 0) {
                    if (STATE.compareAndSet(this, current, current | LOCKED)) {
                        OWNER.setRelease(this, waiter.coroutine); // freed since: take it
                        return true;
                    }
                } else if (STATE.compareAndSet(this, current, current + WAITER)) {
                    // NOTE: counted and queued under the monitor: an unlock that sees the count takes
                    // the monitor, so it finds this waiter in the queue
                    waiters.add(waiter);
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
     * {@code qemu_co_mutex_unlock}. Beyond QEMU (whose contexts outlive their coroutines): a waiter
     * whose context is closed can never run, so it is skipped, reported once by name as lost
     * (logger {@code io.aioco}, WARNING), and the lock goes to the next waiter; the caller never
     * gets the closed context's exception. Called from a coroutine on any thread.
     *
     * @throws IllegalStateException if the running coroutine does not hold the lock (naming both
     *     the caller and the holder)
     */
    @CoroutineFn
    public void unlock() {
        CoStack stack = UNLOCK.enter();
        UNLOCK.arrive(stack, this); // never suspends: any caller will do
        CoWait next = release(CoFrame.coroutine(stack));
        if (next != null) {
            // completed by release() under the monitor; a waiter whose context is closed is
            // skipped (the lock passed on), never thrown to us
            next.wakeHandedOff();
        }
    }

    /**
     * Throws unless {@code self} holds the lock (the error {@link #unlock()} would throw).
     */
    void checkHeldBy(Coroutine self) {
        Coroutine holder = owner;
        if (holder != self) {
            throw new IllegalStateException(self + " cannot unlock " + this + ": "
                    + (holder == null ? "it is not locked" : "it is held by " + holder));
        }
    }

    /**
     * Gives the lock up: to the first waiter that is not cancelled (completed here, returned for
     * the caller to wake with {@link CoWait#wakeHandedOff()}) or to nobody. Also used by {@link
     * CoQueue#await(CoMutex)}.
     */
    CoWait release(Coroutine self) {
        checkHeldBy(self);
        // NOTE: before the release below (a CAS, or the monitor's exit), after which another
        // coroutine may set it
        OWNER.setRelease(this, (Coroutine) null);
        if (state == LOCKED && STATE.compareAndSet(this, LOCKED, 0)) { // NOTE: no CAS bound to fail
            return null; // nobody waits
        }
        synchronized (this) {
            while (true) {
                Waiter next = waiters.poll();
                if (next == null) {
                    // every waiter counted was cancelled and withdrew (or is withdrawing: it finds
                    // itself gone): nobody to hand to. Waiters join only under this monitor.
                    STATE.getAndAdd(this, -LOCKED);
                    return null;
                }
                // LOCKED stays set. NOTE: a plain read and a release store, not an atomic add: under
                // the monitor with LOCKED set and waiters counted, nobody else writes the state (tryLock
                // needs 0, the fast unlock needs LOCKED alone and is ours; queueing and withdrawing
                // take the monitor); the complete() CAS below fences it
                STATE.setRelease(this, state - WAITER);
                // NOTE: the hand-off is this CAS, made under the monitor: a cancellation that won
                // it first leaves the lock to the next waiter; one that comes after loses, and the
                // waiter holds the lock when it runs
                if (next.complete()) {
                    OWNER.setRelease(this, next.coroutine); // the waiter owns the lock before it runs
                    return next;
                }
            }
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
