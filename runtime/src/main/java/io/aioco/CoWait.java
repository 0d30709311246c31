package io.aioco;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * One suspension of a runtime coroutine function: what wakes the coroutine, registered only once
 * the coroutine has yielded. Internal (package-private); created by a coroutine function and handed
 * to {@link CoFrame#suspend}.
 *
 * <p>The rule it carries: the wake-up (a timer, an fd handler, a waiter-list entry, a callback)
 * becomes visible to other threads in {@link #publish()}, which {@link Coroutine} calls on the
 * thread that ran the coroutine after the coroutine has yielded, never before. A waker on another
 * thread can therefore never find the coroutine still running (QEMU's {@code aio_co_wake} assumes
 * the same).
 *
 * <p>States, one int behind {@link #STATE}:
 * <pre>
 * UNPUBLISHED --publish done--> PUBLISHED --cancel--> CANCELLING --withdrawn--> CANCELLED
 *      \                            |
 *       +-------complete------------+--> WOKEN
 * </pre>
 * Completion ({@link #complete()}: a wake-up, a hand-off, an inline completion) takes UNPUBLISHED
 * or PUBLISHED to WOKEN. Cancellation ({@link #cancel}) takes only PUBLISHED to CANCELLING: a wait
 * is cancelled only once its registration is complete, so {@link #withdraw()} always finds what it
 * must undo. Whichever CAS comes first wins; the other does nothing. So a wait whose hand-off (a
 * lock, a queue wake-up) completed first is not cancelled: its coroutine goes on normally and sees
 * the cancellation at its next wait. A cancellation requested before the wait is published is seen
 * by the publishing thread itself ({@link #markPublished(int)}): the two sides form a Dekker pair
 * (the requester writes its flag, then reads the wait's state; the publisher CASes the state, then
 * reads the flag), so at least one of them sees the other and exactly one wins the CAS.
 *
 * <p>Guarded waits (CoMutex's waiter): a wait whose owner keeps it in a list under a guard (a
 * spin bit) may make its transitions under that guard with plain release stores instead of CASes:
 * its publish() reads the flags and publishes under the guard ({@link #publishedGuarded()}), the
 * hand-off completes under it ({@link #completeGuarded()}), and the canceller claims under it
 * ({@link #claimCancel()} overridden). The guard orders the three, so the Dekker pair and the
 * CASes are not needed (a hand-off on one thread then costs no atomic operation on the wait).
 *
 * <p>Generations: a wait may be used again for a later suspension of the same coroutine ({@link
 * #renew()}, CoMutex's kept waiter). The state's upper bits count the uses ({@link #GENERATION}),
 * and every transition is a CAS from a state read in the same generation, so a thread that still
 * holds the object from an earlier use (the publishing thread's {@link #markPublished(int)} after
 * the coroutine was woken, run elsewhere and suspended again on it) finds another generation and
 * does nothing.
 */
abstract class CoWait implements Coroutine.AfterYield {
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(CoWait.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** {@link #state}: being registered by {@link #publish()}; may be completed, not cancelled. */
    private static final int UNPUBLISHED = 0;
    /** {@link #state}: registered, nothing has woken it yet; may be completed or cancelled. */
    private static final int PUBLISHED = 1;
    /** {@link #state}: completed; its coroutine may go on (woken, or satisfied inline). */
    private static final int WOKEN = 2;
    /** {@link #state}: a canceller won; it is withdrawing the registration. Not done yet. */
    private static final int CANCELLING = 3;
    /** {@link #state}: cancelled and withdrawn; its function throws {@link #cancelCause}. */
    private static final int CANCELLED = 4;
    /** The bits of {@link #state} that hold one of the phases above. */
    private static final int PHASE = 7;
    /** One generation in {@link #state}'s upper bits: added by {@link #renew()}. */
    private static final int GENERATION = 8;

    /** One of the phases above, plus the generation (a multiple of {@link #GENERATION}). */
    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /** The coroutine that waits. */
    final Coroutine coroutine;
    /**
     * The innermost {@code withTimeoutNs} scope around this wait when it was made, or null; read by
     * that scope's timer (any thread) to tell whether this wait is inside it. Final.
     */
    final TimeoutScope scope; // NOTE: final even for a renewed wait: only unscoped waits are renewed
    /** False for a wait that must end normally (taking a lock back before a cancellation is thrown). */
    final boolean cancellable;
    /** Thrown by the function once this (uncancellable) wait has completed, or null. */
    final RuntimeException thenThrow;
    /** What publish() threw, set before the completion CAS; null normally. */
    private Throwable publishFailure;
    /** Why it was cancelled: written by the winning canceller before the release of CANCELLED. */
    private RuntimeException cancelCause;
    /** Links in a {@link WaiterList} (doubly linked: a cancelled wait leaves in O(1)); guarded by the lock that guards that list. */
    CoWait next;
    CoWait prev;

    CoWait(Coroutine coroutine) {
        this(coroutine, true, null);
    }

    /**
     * @param cancellable false: the wait ignores cancellation and always ends normally
     * @param thenThrow thrown by the function after the wait completed (a cancellation seen by an
     *     earlier wait of the same call), or null
     */
    CoWait(Coroutine coroutine, boolean cancellable, RuntimeException thenThrow) {
        this.coroutine = coroutine;
        this.scope = coroutine.timeoutScope();
        this.cancellable = cancellable;
        this.thenThrow = thenThrow;
    }

    /**
     * Makes the wake-up visible. Called once, by {@link Coroutine} on the thread that ran the
     * coroutine, after it has yielded and before that thread touches anything else of it.
     *
     * @return null when the wake-up is registered; {@code this} (through {@link #completeInline()})
     *     when the wait is satisfied already and the coroutine goes on at once; another wait that
     *     this publication completed (a lock handed over), whose coroutine the caller wakes
     */
    @Override
    public abstract CoWait publish();

    /**
     * Undoes what {@link #publish()} registered, for a cancelled wait: leaves the waiter list,
     * deletes the timer, removes the fd handler. Called once, by whoever won the cancellation
     * (any thread), after the publication finished and before the coroutine is woken; a wake-up
     * that arrives meanwhile finds the wait cancelled and must pass on what it hands over.
     * Default: nothing to undo (a late callback finds the wait done and does nothing).
     */
    void withdraw() {}

    /**
     * Undoes what the waiting function did before {@link #publish()} for a wait that will never be
     * published: its suspension was refused because a plain frame lies between it and the
     * coroutine ({@code Coroutine.suspensionRefused}). Called once, on the coroutine's thread,
     * inside it. Default: nothing (a wait that changes nothing before its publication).
     */
    void dropped() {}

    /**
     * Completes the wait and wakes its coroutine ({@link Coroutine#wake()}). Any thread; the
     * results the woken function reads must be written before this call (the CAS publishes them).
     *
     * @return false if the wait was completed or cancelled already (nothing done)
     */
    final boolean wake() {
        if (!complete()) {
            return false;
        }
        coroutine.wake();
        return true;
    }

    /**
     * Wakes the coroutine of a wait that was just handed what it waited for (a lock) and that its
     * hander completed already ({@link #complete()}, under the lock's guard, a monitor or CoMutex's
     * LISTING bit: {@code CoMutex.release}, {@code CoRwLock.grantHead}, or a publication that handed
     * a lock over). When
     * its context is closed the coroutine can never run: it is reported as lost (by name, once: it
     * is never woken again) and what it was handed goes to the next waiter ({@link #giveBack()}),
     * so the lock is never held for ever by a coroutine that cannot run and the caller never gets
     * the closed context's exception. Any thread (the one handing off, outside the lock's guard).
     */
    final void wakeHandedOff() {
        for (CoWait wait = this; wait != null && !wait.wakeUnlessContextClosed(null); ) {
            // NOTE: giveBack's result was completed by the release/grant it made, under the lock's
            // monitor (a cancelled waiter skipped there): it must not be completed again here
            wait = wait.giveBack();
        }
    }

    /**
     * Completes the wait and wakes its coroutine, as {@link #wake()}, except that a coroutine whose
     * context is closed (it can never run) is reported as lost, naming {@code where}, instead of the
     * closed context's exception being thrown at the caller. For wakers that must go on whatever
     * happens to this coroutine: {@code CoQueue.next()}, a future's callback, a closing thread pool.
     * Any thread.
     *
     * @param where the class and method that wakes it, for the report
     * @return false if the wait was completed or cancelled already, or its coroutine was lost
     */
    final boolean wakeOrLose(String where) {
        return complete() && wakeUnlessContextClosed(where);
    }

    /**
     * Wakes the coroutine; false (logged as lost) when its context is closed.
     *
     * @param where who ended the wait (a class and method), or null for a hand-off (what the
     *     coroutine was handed goes to the next waiter)
     */
    private boolean wakeUnlessContextClosed(String where) {
        // NOTE: no assertion that it is done: once completed, a kept wait may be renewed by its
        // coroutine (entered by another thread meanwhile) before this runs
        AioContext ctx = coroutine.context();
        if (ctx == null || !ctx.isClosed()) {
            try {
                coroutine.wake();
                return true;
            } catch (IllegalStateException e) {
                if (ctx == null || !ctx.isClosed()) {
                    throw e;
                }
                // NOTE: closed between the check and coSchedule's (which threw before queueing)
            }
        }
        if (where == null) {
            LoopLog.coroutineLost(coroutine, ctx, describe());
        } else {
            LoopLog.coroutineLost(coroutine, ctx, describe(), where);
        }
        return false;
    }

    /**
     * Called when this wait's coroutine was handed something and can never run (its context is
     * closed): gives it back, to the next waiter if there is one. Default: nothing to give back.
     *
     * @return the next wait that was handed it, already completed under the lock's monitor (the
     *     caller only wakes it), or null
     */
    CoWait giveBack() {
        return null;
    }

    /** What the coroutine waits for, for the "lost" report. */
    String describe() {
        return "a wake-up";
    }

    /**
     * What the coroutine waits for, for a coroutine dump: {@link #describe()} and what a reader
     * needs besides (who holds a lock, when a timer is due). Any thread, racy but never throws.
     */
    String describeForDump() {
        return describe();
    }

    /**
     * The coroutine that holds what this wait needs (the owner of a lock it queues for), or null:
     * the edges of a coroutine dump's deadlock report. Any thread, racy.
     */
    Coroutine holder() {
        return null;
    }

    /**
     * Every coroutine this wait waits for (its edges in the deadlock report): by default the
     * {@link #holder()}; a read-write lock's ticket names the nearest writer queued ahead of it, else
     * the writer or (a write ticket) all the readers holding the lock. The wait cannot end until each
     * of them has moved (an AND wait), so a cycle through any of them is a deadlock. Any thread, racy.
     */
    java.util.List<Coroutine> holders() {
        Coroutine holder = holder();
        return holder == null ? java.util.List.of() : java.util.List.of(holder);
    }

    /**
     * Completes the wait without waking: for {@link #publish()} when the wait is satisfied at once,
     * or when it hands a lock to another wait that its caller then wakes.
     *
     * @return this
     */
    final CoWait completeInline() {
        complete();
        return this;
    }

    /**
     * The one completion CAS: UNPUBLISHED or PUBLISHED to WOKEN. Any thread. NOTE: pairs with the
     * acquire in {@link #isDone()}, and races with {@link #cancel}'s CAS: exactly one wins.
     *
     * @return false if the wait was completed or cancelled already
     */
    final boolean complete() {
        while (true) {
            int current = (int) STATE.getVolatile(this);
            if ((current & PHASE) >= WOKEN) {
                return false;
            }
            if (STATE.compareAndSet(this, current, (current & ~PHASE) | WOKEN)) {
                return true;
            }
        }
    }

    /** @return whether the wait has ended, woken or cancelled (acquire: the ender's writes are visible) */
    final boolean isDone() {
        int phase = (int) STATE.getAcquire(this) & PHASE;
        return phase == WOKEN || phase == CANCELLED;
    }

    /**
     * The wait's state word (phase and generation), for the dump's check that a deadlock it found
     * holds: two equal stamps that are not {@link #isDoneStamp done} mean the wait was in progress
     * between the two reads, never ended nor renewed (the phases only move forward within a
     * generation). Any thread (acquire).
     */
    final int stampForDump() {
        return (int) STATE.getAcquire(this);
    }

    /** @return whether {@code stamp} ({@link #stampForDump()}) is that of an ended wait */
    static boolean isDoneStamp(int stamp) {
        int phase = stamp & PHASE;
        return phase == WOKEN || phase == CANCELLED;
    }

    /** @return whether the wait ended by cancellation */
    final boolean isCancelled() {
        return ((int) STATE.getAcquire(this) & PHASE) == CANCELLED;
    }

    /**
     * Makes an ended (or never published) wait ready for another suspension of its coroutine, in a
     * new generation: only the coroutine's thread, inside it, before it suspends on it again. Only
     * for a cancellable wait made outside any timeout scope ({@link TimeoutScope#expire()} never
     * cancels one, and {@link #scope} stays null). Who may still hold it: {@link
     * Coroutine#cancel()} (through {@code currentWait}), whose flag is set for good, so cancelling
     * this later use is what the later wait would do itself ({@link #markPublished(int)}); and the
     * thread that published the earlier use, whose {@link #markPublished(int)} names that
     * generation and fails. Nothing else: a waker or canceller of the earlier use won its CAS and
     * woke the coroutine, which is how it came to run here.
     */
    final void renew() {
        int current = (int) STATE.getAcquire(this);
        int phase = current & PHASE;
        assert cancellable && scope == null && thenThrow == null : this + " cannot be renewed";
        assert phase == WOKEN || phase == CANCELLED || phase == UNPUBLISHED : this + " is in use (" + current + ")";
        assert next == null && prev == null : this + " is still in a waiter list";
        publishFailure = null;
        cancelCause = null;
        // NOTE: release: the cleared fields before the new generation, which another thread sees
        // only through the publication (a monitor) or the publisher's CAS to PUBLISHED
        STATE.setRelease(this, (current & ~PHASE) + GENERATION | UNPUBLISHED);
    }

    /**
     * The generation this wait is in, for {@link #markPublished(int)}: read by the publishing
     * thread before {@link #publish()}, when nobody else can change the state (UNPUBLISHED: only a
     * completion by the publication itself, or a cancellation after markPublished).
     */
    final int generation() {
        return (int) STATE.getOpaque(this) & ~PHASE;
    }

    /**
     * Why the wait was cancelled, or null if it was not (read after {@link #isDone()}, in the
     * coroutine): the coroutine's cancellation, else the innermost timeout around the wait that has
     * expired by now (an inner deadline may have passed after an outer one cancelled the wait, and
     * the innermost is the one reported), else the cause the canceller gave.
     */
    final RuntimeException cancellation() {
        if (!isCancelled()) {
            return null;
        }
        RuntimeException now = coroutine.cancellationFor(this);
        return now != null ? now : cancelCause;
    }

    /**
     * Cancels the wait if it is published and not completed: withdraws its registration and wakes
     * its coroutine, whose function throws {@code cause}. Any thread; never throws the closed
     * context's exception (a coroutine that can never run is reported as lost, naming {@code where}).
     *
     * @return false if the wait completed first, is not cancellable, or is not published yet (then
     *     the publishing thread sees the request itself, see {@link #markPublished(int)})
     */
    final boolean cancel(RuntimeException cause, String where) {
        if (!cancellable) {
            return false;
        }
        int generation = claimCancel();
        if (generation < 0) {
            return false;
        }
        try {
            finishCancel(cause, generation);
        } finally {
            // NOTE: woken even if the withdrawal failed (it is CANCELLED either way). A coroutine
            // whose context is closed can never run: reported as lost, never thrown at the
            // canceller (Coroutine.cancel() may be called from any thread, at any time)
            wakeUnlessContextClosed(where);
        }
        return true;
    }

    /**
     * The cancellation's claim: PUBLISHED to CANCELLING, by CAS (exactly one of it and {@link
     * #complete()} wins). A wait whose owner completes and publishes it under the owner's guard
     * ({@link #publishedGuarded}, {@link #completeGuarded}: CoMutex's waiter) claims it under that
     * guard instead. Any thread.
     *
     * @return the generation claimed (then this thread withdraws and wakes it), or -1: not
     *     published, or ended already
     */
    int claimCancel() {
        int current = (int) STATE.getVolatile(this);
        if ((current & PHASE) != PUBLISHED || !STATE.compareAndSet(this, current, current - PUBLISHED + CANCELLING)) {
            return -1;
        }
        return current & ~PHASE;
    }

    /** @return the state word (phase and generation), volatile: for a guarded claim ({@link #claimCancel}) */
    final int stateWord() {
        return (int) STATE.getVolatile(this);
    }

    /** @return the generation of {@code word} ({@link #stateWord()}), its phase cleared */
    static int generationOf(int word) {
        return word & ~PHASE;
    }

    /** @return whether {@code word} ({@link #stateWord()}) is in the UNPUBLISHED phase */
    static boolean isUnpublished(int word) {
        return (word & PHASE) == UNPUBLISHED;
    }

    /** @return whether {@code word} ({@link #stateWord()}) is in the PUBLISHED phase */
    static boolean isPublished(int word) {
        return (word & PHASE) == PUBLISHED;
    }

    /**
     * UNPUBLISHED to PUBLISHED by a plain (release) store, under the guard of the owner's list, for
     * a wait that {@link #publish()} put in that list: only for a wait whose completion ({@link
     * #completeGuarded}) and cancellation claim ({@link #claimCancel}) are made under the same
     * guard, and whose publish() reads the cancellation flags under it. The guard then orders the
     * publication against the canceller, as {@link #markPublished(int)}'s Dekker pair does for the
     * others, and {@link #markPublished(int)} finds it published already and does nothing.
     */
    final void publishedGuarded() {
        int current = (int) STATE.getOpaque(this);
        assert (current & PHASE) == UNPUBLISHED : this + " is published already (" + current + ")";
        STATE.setRelease(this, current - UNPUBLISHED + PUBLISHED);
    }

    /**
     * PUBLISHED to WOKEN by a plain (release) store, under the owner's guard (see {@link
     * #publishedGuarded()}): no CAS, as nobody else may change the phase meanwhile (a cancellation
     * claims under the guard; only an UNPUBLISHED wait moves outside it). NOTE: the release store
     * carries the hander's writes to the woken coroutine, which reads them after {@link #isDone()}.
     *
     * @return false if it was not PUBLISHED (nothing done)
     */
    final boolean completeGuarded() {
        int current = (int) STATE.getOpaque(this);
        if ((current & PHASE) != PUBLISHED) {
            return false;
        }
        STATE.setRelease(this, current - PUBLISHED + WOKEN);
        return true;
    }

    /**
     * PUBLISHED to CANCELLING by a plain (release) store, for a guarded claim ({@link
     * #claimCancel}), under the owner's guard, with {@code word} the PUBLISHED state word read there.
     */
    final void claimGuarded(int word) {
        assert (word & PHASE) == PUBLISHED : this + " is not published (" + word + ")";
        STATE.setRelease(this, word - PUBLISHED + CANCELLING);
    }

    /**
     * A cancellation seen by {@link #publish()} under the owner's guard, before the wait joined
     * anything: UNPUBLISHED to CANCELLED at once, with {@code cause}; publish() then returns {@code
     * this}, so the coroutine goes on at once and its function throws. Nobody else may change the
     * phase meanwhile (an UNPUBLISHED wait is neither completed nor claimed by others).
     */
    final void cancelledAtPublication(RuntimeException cause) {
        int current = (int) STATE.getOpaque(this);
        assert (current & PHASE) == UNPUBLISHED : this + " is published already (" + current + ")";
        cancelCause = cause;
        STATE.setRelease(this, current - UNPUBLISHED + CANCELLED);
    }

    /** The cancel CAS was won: record the cause, withdraw, and make the outcome visible. */
    private void finishCancel(RuntimeException cause, int generation) {
        cancelCause = cause;
        try {
            withdraw();
        } finally {
            STATE.setRelease(this, generation | CANCELLED); // NOTE: pairs with the acquire in isDone()
        }
    }

    /**
     * Ends the publication: UNPUBLISHED to PUBLISHED, then checks whether a cancellation was
     * requested meanwhile (or before), in which case this thread cancels the wait itself. Called by
     * {@link Coroutine} on the publishing thread right after {@link #publish()} returned without
     * completing the wait itself.
     *
     * @param generation what {@link #generation()} returned before the publication: a wait woken
     *     during the publication may have been renewed since by its coroutine on another thread
     * @return true if this call cancelled the wait: the coroutine is nobody else's to wake and the
     *     caller runs it again at once (its function throws)
     */
    final boolean markPublished(int generation) {
        // NOTE: a read first: a wait published under its owner's guard (publishedGuarded) is past
        // UNPUBLISHED already, and a CAS bound to fail costs a locked instruction all the same. A
        // state that has left this generation's UNPUBLISHED never comes back to it.
        if ((int) STATE.getOpaque(this) != (generation | UNPUBLISHED)
                || !STATE.compareAndSet(this, generation | UNPUBLISHED, generation | PUBLISHED)) {
            return false; // woken during the publication (and perhaps renewed since)
        }
        if (!cancellable) {
            return false;
        }
        // NOTE: the CAS above, then the flags: pairs with Coroutine.cancel / TimeoutScope.expire,
        // which write their flag, then read the state
        RuntimeException cause = coroutine.cancellationFor(this);
        if (cause == null || !STATE.compareAndSet(this, generation | PUBLISHED, generation | CANCELLING)) {
            return false;
        }
        finishCancel(cause, generation);
        return true;
    }

    /**
     * Completes the wait with the failure its {@link #publish()} threw (a closed context, say): the
     * coroutine goes on at once and its function throws it, as it would have before suspending.
     * Only the thread that ran the coroutine calls it, after the yield.
     *
     * @return this
     */
    final CoWait failedToPublish(Throwable failure) {
        publishFailure = failure;
        complete(); // NOTE: the CAS publishes the field to whichever thread resumes the coroutine
        return this;
    }

    /** @return what {@link #publish()} threw, or null */
    final Throwable publishFailure() {
        return publishFailure;
    }

    /**
     * Runs in the coroutine when it goes on after the wait completed normally (not cancelled),
     * before its function returns (a CoRwLock reader lets the next reader in here). Default:
     * nothing.
     */
    void resumed() {}
}
