package io.aioco;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A callback an {@link AioContext} runs on its thread at its next poll once scheduled: QEMU's
 * {@code QEMUBH}, created by {@link AioContext#newBottomHalf(Runnable)}.
 *
 * <p>A bottom half runs once per {@link #schedule()} that found it idle; scheduling it again while
 * it is still pending does nothing more. A bottom half scheduled while bottom halves are being
 * dispatched (by itself, or by another one) runs in the next poll, which does not block. Within one
 * poll, bottom halves run in the order they were first scheduled (QEMU runs the newest first).
 *
 * <p>{@link #schedule()}, {@link #scheduleIdle()}, {@link #cancel()} and {@link #delete()} may be
 * called from any thread; scheduling is wait-free apart from the retries of one compare-and-set,
 * and costs no system call unless the context is blocked waiting.
 */
public final class BottomHalf {
    // The state is one int of flags, as QEMU's bh->flags, changed only by atomic read-modify-write
    // operations through FLAGS:
    /** Queued on the context's list; cleared by the poller when it takes the bottom half off. */
    static final int PENDING = 1;
    /** The callback is to run; cleared by the poller, or by cancel(). */
    static final int SCHEDULED = 2;
    /** delete() was called: never run again, scheduling is an error. Never cleared. */
    static final int DELETED = 4;
    /** Created by scheduleOneshot: runs once and is forgotten. */
    static final int ONESHOT = 8;
    /** Scheduled by scheduleIdle(): does not count as progress nor prevent blocking for ~10 ms. */
    static final int IDLE = 16;

    private static final VarHandle FLAGS;

    /**
     * An internal callback that may find nothing to do (an event notifier's dispatch after the
     * flag was cleared): only a run that did something counts as progress.
     */
    interface Conditional extends Runnable {
        /** Called from the loop thread; returns whether it did anything. */
        boolean runIfReady();

        @Override
        default void run() {
            runIfReady();
        }
    }

    static {
        try {
            FLAGS = MethodHandles.lookup().findVarHandle(BottomHalf.class, "flags", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    final AioContext ctx;
    final Runnable cb;
    @SuppressWarnings("unused") // accessed through FLAGS
    private volatile int flags;
    /**
     * The link in the context's list. Written by the thread that set PENDING, before the
     * compare-and-set that publishes this bottom half; afterwards only by the poller, until it
     * clears PENDING. So no two threads ever write it at the same time.
     */
    BottomHalf next;

    BottomHalf(AioContext ctx, Runnable cb, int initialFlags) {
        this.ctx = ctx;
        this.cb = cb;
        this.flags = initialFlags;
    }

    /**
     * Makes the bottom half run at the context's next poll ({@code qemu_bh_schedule}), waking the
     * context if it is blocked. Called from any thread.
     *
     * @throws IllegalStateException if the bottom half was deleted or its context closed
     */
    public void schedule() {
        enqueue(SCHEDULED, true);
    }

    /**
     * Like {@link #schedule()}, but the run does not count as progress and does not keep a blocking
     * poll from waiting: the context waits at most about 10 ms before running it ({@code
     * qemu_bh_schedule_idle}). Called from any thread.
     *
     * @throws IllegalStateException if the bottom half was deleted or its context closed
     */
    public void scheduleIdle() {
        enqueue(SCHEDULED | IDLE, true);
    }

    /**
     * Undoes a pending {@link #schedule()} ({@code qemu_bh_cancel}); a run already started is not
     * stopped. Called from any thread; does nothing on an idle or deleted bottom half.
     */
    public void cancel() {
        FLAGS.getAndBitwiseAnd(this, ~SCHEDULED);
    }

    /**
     * Deletes the bottom half ({@code qemu_bh_delete}): a pending run is dropped and it never runs
     * again; safe from inside its own callback. Called from any thread; idempotent. Called from
     * another thread while the callback is running, it does not stop that run.
     */
    public void delete() {
        FLAGS.getAndBitwiseOr(this, DELETED);
    }

    /**
     * Called from any thread (qemu_bh_schedule / aio_bh_enqueue). Sets PENDING and the new flags in
     * one step; the thread that turned PENDING on is the one that links the bottom half into the
     * list, so it is never queued twice. Returns whether this call linked it (found it idle).
     */
    boolean enqueue(int newFlags, boolean loud) {
        if (ctx.isClosed()) {
            if (loud) {
                throw new IllegalStateException(this + " scheduled after its context was closed");
            }
            return false;
        }
        // Pairs with getAndBitwiseAnd in takeFlags (the poller clearing PENDING after unlinking).
        int old = (int) FLAGS.getAndBitwiseOr(this, PENDING | newFlags);
        if ((old & DELETED) != 0) {
            // NOTE: PENDING stays set without the bottom half being queued; harmless, it is dead.
            if (loud) {
                throw new IllegalStateException(this + " scheduled after delete()");
            }
            return false;
        }
        if ((old & PENDING) == 0) {
            ctx.pushBottomHalf(this);
            return true;
        }
        return false;
    }

    /**
     * Called from the loop thread, after unlinking this bottom half: clears PENDING, SCHEDULED and
     * IDLE, returning the flags as they were (aio_bh_dequeue). From here on another thread may queue
     * it again.
     */
    int takeFlags() {
        return (int) FLAGS.getAndBitwiseAnd(this, ~(PENDING | SCHEDULED | IDLE));
    }

    /** Called from any thread: the flags right now (timeout computation, tests). */
    int flags() {
        return (int) FLAGS.getVolatile(this);
    }

    /** Called from any thread: whether {@link #delete()} was called. */
    public boolean isDeleted() {
        return (flags() & DELETED) != 0;
    }

    /** Called from any thread: whether a run is scheduled and not yet started. */
    public boolean isScheduled() {
        return (flags() & (SCHEDULED | DELETED)) == SCHEDULED;
    }

    @Override
    public String toString() {
        return "BottomHalf[" + cb + " in " + ctx + "]";
    }
}
