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
 * <p>No thread ever blocks inside this class: a bit of the state word guards the waiter list for a
 * few field updates only (others spin on it), never across a suspension or a call out.
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
    /**
     * Bit of {@link #state}: a thread is changing {@link #waiters} (a spin lock held for a few field
     * updates). Whoever sets it is the only writer of the state until it clears it, which it does
     * with a release store of the state it computed.
     */
    private static final int LISTING = 2;
    /** One waiter, in {@link #state}: the count of queued coroutines is {@code state >>> 2}. */
    private static final int WAITER = 4;

    /**
     * LOCKED and LISTING bits plus four times the number of waiters, in one word so that the
     * uncontended paths are a single CAS each: lock 0 -> LOCKED, unlock LOCKED -> 0. A waiter adds
     * WAITER and sets LISTING in one CAS, puts itself in the queue, and clears LISTING; an unlock
     * that finds waiters (or LISTING) takes LISTING too, so it always finds the queue filled. No
     * monitor: the hand-off costs one CAS for the list instead of a monitor's two, and queueing one
     * CAS instead of three. NOTE: the hand-off keeps LOCKED set: the lock goes to the first waiter
     * without ever being free, so nobody can barge in (FIFO).
     */
    private volatile int state; // NOTE: written through STATE, and directly where an Error must not leave LISTING set
    /**
     * The holder (or the waiter it is handed to); only its holder writes it, or the hand-off. Read
     * as a volatile; written through {@link #OWNER} with release stores: a volatile store is a full
     * fence on x86, two per hand-off, and no thread decides anything from a read of it that must
     * follow the write (no Dekker pair): the holder reads it back itself, and every other reader
     * (the dump, CoQueue's checks) is racy or ordered by the release of the state or a wait's CAS,
     * which come after these stores in the writer's program order and carry them.
     */
    private volatile Coroutine owner;
    /** Waiters, FIFO; guarded by the LISTING bit of {@link #state}. */
    private final WaiterList<Waiter> waiters = new WaiterList<>();
    /**
     * Test hook, else null: run by a cancelled waiter's canceller (any thread) in {@link
     * Waiter#withdraw()}, after it claimed the wait and took it out of the queue and before it
     * wakes it, so a test can hand the lock over in that window. Static: a field per mutex would
     * cost every instance its size.
     */
    static Runnable withdrawHook;

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
            // NOTE: before the renewal's release store: a canceller that reads the new generation
            // (acquire) reads this mutex (see Waiter.claimCancel)
            waiter.mutex = this;
            waiter.renew();
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
         * The lock it waits for: written by its coroutine's thread before the wait is renewed (the
         * release store of its new generation), read by others after a read of that generation
         * (the canceller) or under the mutex's LISTING bit. One value per generation.
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
            int outcome = mutex.tryLockOrQueue(this);
            if (outcome == QUEUED) {
                return null;
            }
            if (outcome == TAKEN) {
                jfr = null; // not contended after all
                return completeInline();
            }
            endJfr(mutex, false); // cancelled at the publication: it goes on here and throws
            return this;
        }

        private void endJfr(CoMutex lock, boolean acquired) {
            Object event = jfr;
            if (event != null) {
                jfr = null;
                io.aioco.internal.observe.Jfr.endLockWait(event, "mutex", lock, coroutine, acquired);
            }
        }

        @Override
        void resumed() {
            endJfr(mutex, true);
        }

        /**
         * The cancellation's claim, made under the mutex's LISTING bit, where the hand-off
         * completes and the publication queues: a PUBLISHED waiter is claimed (CANCELLING) and
         * leaves the queue and the count in one step, so the queue never holds a cancelled waiter
         * and a hand-off never meets one. An UNPUBLISHED one is left to its publisher, which takes
         * LISTING after this and reads the cancellation flag there (the flag was written before
         * this call). Any thread.
         */
        @Override
        int claimCancel() {
            while (true) {
                int seen = stateWord();
                if (!isUnpublished(seen) && !isPublished(seen)) {
                    return -1; // ended (or claimed by another canceller)
                }
                // NOTE: read after the state (acquire): the mutex of that generation, or of a later
                // one, which the check below then finds
                CoMutex lock = mutex;
                int listed = lock.takeList();
                int after = listed;
                try {
                    if (stateWord() != seen || mutex != lock) {
                        continue; // completed, renewed or published meanwhile: look again
                    }
                    if (isUnpublished(seen)) {
                        return -1; // its publisher takes LISTING after us and sees the flag
                    }
                    claimGuarded(seen);
                    if (lock.waiters.remove(this)) { // NOTE: always: a PUBLISHED waiter is queued
                        after -= WAITER;
                    }
                    return generationOf(seen);
                } finally {
                    try {
                        STATE.setRelease(lock, after); // LISTING cleared
                    } catch (Throwable overflow) {
                        lock.state = after; // NOTE: see clearing LISTING in tryLockOrQueue
                        throw overflow;
                    }
                }
            }
        }

        /** Cancelled: claimCancel took it out of the queue already; only the JFR event ends. */
        @Override
        void withdraw() {
            Runnable hook = withdrawHook;
            if (hook != null) {
                hook.run();
            }
            endJfr(mutex, false); // NOTE: written before the publication, which the claim follows
        }

        /**
         * It was handed the lock but can never run: the lock goes on to the next waiter that is not
         * cancelled, completed under the LISTING bit by {@link #release}.
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

    /** {@link #tryLockOrQueue}: the lock was free, the waiter holds it. */
    private static final int TAKEN = 0;
    /** {@link #tryLockOrQueue}: queued (and PUBLISHED): it waits for the hand-off. */
    private static final int QUEUED = 1;
    /** {@link #tryLockOrQueue}: a cancellation came first: not queued, the wait is CANCELLED. */
    private static final int CANCELLED = 2;

    /**
     * Takes the lock for the waiter's coroutine if it is free, else puts it last in line and
     * publishes it, both under LISTING: the hand-off (which completes it) and a canceller (which
     * claims it) work under LISTING too, so the publication needs no CAS of the wait's state and
     * no Dekker pair with the canceller: a canceller that took LISTING before us wrote its flag
     * before, and we read it here; one that takes it after finds the waiter queued and PUBLISHED.
     * Runs after the coroutine has yielded.
     *
     * @return {@link #TAKEN}, {@link #QUEUED} or {@link #CANCELLED}
     */
    private int tryLockOrQueue(Waiter waiter) {
        if (tryLock(waiter.coroutine)) {
            return TAKEN;
        }
        for (int spins = 1; ; spins++) {
            int current = state;
            if ((current & LISTING) != 0) {
                spin(spins);
            } else if ((current & LOCKED) == 0) {
                if (STATE.compareAndSet(this, current, current | LOCKED)) {
                    OWNER.setRelease(this, waiter.coroutine); // freed since: take it
                    return TAKEN;
                }
            } else if (STATE.compareAndSet(this, current, current | LISTING)) {
                int after = current;
                try {
                    RuntimeException cause = waiter.cancellable ? waiter.coroutine.cancellationFor(waiter) : null;
                    if (cause != null) {
                        waiter.cancelledAtPublication(cause);
                        return CANCELLED;
                    }
                    // NOTE: counted and queued under LISTING: an unlock that sees the count takes
                    // LISTING, so it finds this waiter in the queue
                    waiters.add(waiter);
                    waiter.publishedGuarded();
                    after = current + WAITER;
                    return QUEUED;
                } finally {
                    try {
                        STATE.setRelease(this, after); // LISTING cleared; nobody else wrote it meanwhile
                    } catch (Throwable overflow) {
                        // NOTE: a StackOverflowError thrown in the section is thrown again by this
                        // call (a VarHandle's, frames deep when interpreted), before its store: LISTING
                        // would stay set for good and every later lock, unlock and cancel spin for
                        // ever. A volatile store of the field needs no frame (a monitor's exit needs
                        // none either); only on this path, it costs a full fence.
                        state = after;
                        throw overflow;
                    }
                }
            }
        }
    }

    /**
     * Takes the LISTING bit (the waiter list), spinning while another thread holds it.
     *
     * @return the state when it was taken, without LISTING: what the caller stores to give it back,
     *     after its own changes (nobody else writes the state meanwhile: tryLock needs 0, the fast
     *     unlock needs LOCKED alone, everything else takes LISTING first)
     */
    private int takeList() {
        for (int spins = 1; ; spins++) {
            int current = state;
            if ((current & LISTING) == 0 && STATE.compareAndSet(this, current, current | LISTING)) {
                return current;
            }
            spin(spins);
        }
    }

    /** Waits for another thread to clear LISTING: held for a few field updates, but it may be preempted. */
    private static void spin(int spins) {
        if ((spins & 63) == 0) {
            Thread.yield();
        } else {
            Thread.onSpinWait();
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
            // completed by release() under LISTING; a waiter whose context is closed is
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
        // NOTE: before the release below (a CAS, or the store that clears LISTING), after which
        // another coroutine may set it
        OWNER.setRelease(this, (Coroutine) null);
        if (state == LOCKED && STATE.compareAndSet(this, LOCKED, 0)) { // NOTE: no CAS bound to fail
            return null; // nobody waits
        }
        return handOff();
    }

    /**
     * The rest of {@link #release} when it found waiters (or LISTING): takes LISTING, hands the
     * lock to the first waiter that is not cancelled, or frees it, and clears LISTING. NOTE: the CAS
     * that takes LISTING and the {@code try} that clears it are in one frame: a call between them
     * (this method's entry) may throw StackOverflowError with LISTING taken and no finally to run.
     */
    private CoWait handOff() {
        int current;
        for (int spins = 1; ; spins++) {
            current = state;
            if (current == LOCKED) {
                if (STATE.compareAndSet(this, LOCKED, 0)) {
                    return null; // the waiters withdrew meanwhile
                }
            } else if ((current & LISTING) != 0) {
                spin(spins); // a waiter joining or withdrawing
            } else if (STATE.compareAndSet(this, current, current | LISTING)) {
                break;
            }
        }
        int after = current;
        try {
            while (true) {
                Waiter next = waiters.poll();
                if (next == null) {
                    // every waiter counted was cancelled and withdrew (or is withdrawing: it finds
                    // itself gone): nobody to hand to. Waiters join only under LISTING.
                    after -= LOCKED;
                    return null;
                }
                after -= WAITER; // LOCKED stays set
                // NOTE: the hand-off is this store, made under LISTING, where a cancellation
                // claims: one that came first took the waiter out of the queue; one that comes after
                // finds it WOKEN and loses, and the waiter holds the lock when it runs. No CAS.
                if (next.completeGuarded()) {
                    OWNER.setRelease(this, next.coroutine); // the waiter owns the lock before it runs
                    return next;
                }
            }
        } finally {
            try {
                STATE.setRelease(this, after); // LISTING cleared; nobody else wrote the state meanwhile
            } catch (Throwable overflow) {
                state = after; // NOTE: see clearing LISTING in tryLockOrQueue
                throw overflow;
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
