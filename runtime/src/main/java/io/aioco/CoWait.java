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
 * <p>Completion is one CAS on {@link #state}: {@link #wake()} (any thread) or {@link
 * #completeInline()} (from {@code publish}, when the wait is already satisfied). The coroutine's
 * function sees the wait completed on resume ({@link CoFrame#resume}); an enter by anyone else
 * before that finds it still WAITING and keeps waiting. NOTE: bounded waits (cancellation,
 * timeouts) plug in here: a CANCELLED state that loses or wins the same CAS, and one method that
 * withdraws the registration made by {@code publish}.
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

    /** {@link #state}: registered (or about to be), nothing has woken it yet. */
    private static final int WAITING = 0;
    /** {@link #state}: completed; its coroutine may go on (woken, or satisfied inline). */
    private static final int WOKEN = 1;

    /** WAITING or WOKEN; written once by the CAS in {@link #complete()}. */
    @SuppressWarnings("unused") // through STATE
    private volatile int state;
    /** The coroutine that waits. */
    final Coroutine coroutine;
    /** What publish() threw, set before the completion CAS; null normally. */
    private Throwable publishFailure;
    /** Link in a {@link WaiterList}; guarded by the lock that guards that list. */
    CoWait next;

    CoWait(Coroutine coroutine) {
        this.coroutine = coroutine;
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
     * Completes the wait and wakes its coroutine ({@link Coroutine#wake()}). Any thread; the
     * results the woken function reads must be written before this call (the CAS publishes them).
     *
     * @return false if the wait was completed already (nothing done)
     */
    final boolean wake() {
        if (!complete()) {
            return false;
        }
        coroutine.wake();
        return true;
    }

    /**
     * Completes the wait and wakes its coroutine, which was just handed what it waited for (a lock);
     * when its context is closed the coroutine can never run: it is reported as lost (by name, once:
     * it is never woken again) and what it was handed goes to the next waiter ({@link #giveBack()}),
     * so the lock is never held for ever by a coroutine that cannot run and the caller never gets
     * the closed context's exception. Any thread (the one handing off, outside the owner's lock).
     *
     * @return false if the wait was completed already (nothing done)
     */
    final boolean handOff() {
        if (!complete()) {
            return false;
        }
        wakeHandedOff();
        return true;
    }

    /**
     * {@link #handOff()} for a wait already completed by its hand-off ({@link Coroutine}'s loop
     * after a publication handed a lock over). Any thread.
     */
    final void wakeHandedOff() {
        for (CoWait wait = this; wait != null && !wait.wakeUnlessContextClosed(); ) {
            CoWait next = wait.giveBack();
            // NOTE: a wait handed over is completed once, by whoever handed it (here)
            wait = next != null && next.complete() ? next : null;
        }
    }

    /** Wakes the coroutine; false (logged as lost) when its context is closed. */
    private boolean wakeUnlessContextClosed() {
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
        LoopLog.coroutineLost(coroutine, ctx, describe());
        return false;
    }

    /**
     * Called when this wait's coroutine was handed something and can never run (its context is
     * closed): gives it back, to the next waiter if there is one. Default: nothing to give back.
     *
     * @return the next wait that was handed it (not yet completed; the caller wakes it), or null
     */
    CoWait giveBack() {
        return null;
    }

    /** What the coroutine waits for, for the "lost" report. */
    String describe() {
        return "a wake-up";
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

    /** The one completion CAS: WAITING to WOKEN. NOTE: pairs with the acquire in {@link #isWoken()}. */
    final boolean complete() {
        return STATE.compareAndSet(this, WAITING, WOKEN);
    }

    /** @return whether the wait has completed (acquire: the waker's results are visible) */
    final boolean isWoken() {
        return (int) STATE.getAcquire(this) == WOKEN;
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
     * Runs in the coroutine when it goes on after the wait completed, before its function returns
     * (a CoRwLock reader lets the next reader in here). Default: nothing.
     */
    void resumed() {}
}
