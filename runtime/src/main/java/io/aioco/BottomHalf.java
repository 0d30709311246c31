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
 * and costs no system call unless the context is blocked waiting. Scheduled from the thread that
 * is polling the context (from a callback), it costs no atomic instruction either.
 */
public final class BottomHalf {
    // A bottom half has two states. The shared one is one int of flags, as QEMU's bh->flags, changed
    // only by atomic read-modify-write operations through FLAGS; threads other than the loop use
    // it. The local one is a plain int that only the thread polling the context touches: a
    // schedule made from inside a poll (a callback scheduling the next step, the common case) sets
    // it and appends to the context's loop-owned queue without any locked instruction. The loop
    // merges the two when it dispatches (see take() and BottomHalfQueue.dispatch).
    //
    // Races between the two states (details at the lines marked NOTE):
    // - The loop and another thread both schedule: the bottom half is on the shared list and may
    //   have a ring entry. Drained from the list, it is merged into that entry (LOCAL_SHARED), or
    //   gets one. The entry that comes off runs it once for both schedules, as QEMU's single
    //   PENDING flag gives; an entry that comes off while the bottom half still waits on the
    //   shared list takes SCHEDULED along, and the later entry finds nothing to run. A schedule
    //   that sets SCHEDULED after the loop read the flags for a run came after that run started,
    //   and runs again.
    // - The loop schedules, another thread cancels: cancel clears SCHEDULED and sets CANCELLED in
    //   one atomic step; the loop honours CANCELLED when the local entry comes off, and clears it
    //   before a newer local schedule (which the cancel must not undo).
    // - delete() from any thread: DELETED is read each time an entry comes off, and never cleared.

    // Shared flags (FLAGS):
    /** Queued on the context's shared list; cleared by the poller when it takes the bottom half off. */
    static final int PENDING = 1;
    /** The callback is to run (a schedule from another thread); cleared by the poller, or by cancel(). */
    static final int SCHEDULED = 2;
    /** delete() was called: never run again, scheduling is an error. Never cleared. */
    static final int DELETED = 4;
    /** Created by scheduleOneshot: runs once and is forgotten. Its flags never change after. */
    static final int ONESHOT = 8;
    /** Scheduled by scheduleIdle(): does not count as progress nor prevent blocking for ~10 ms. */
    static final int IDLE = 16;
    /**
     * cancel() was called outside the loop: it also undoes a local schedule made before it. Cleared
     * by the loop (a local schedule after it, or the poller merging the states).
     */
    static final int CANCELLED = 32;
    /** cb is an internal {@link Conditional}. Set at construction, never changed. */
    static final int CONDITIONAL = 64;

    // Local state (the plain field local; loop thread only):
    /** Has an entry in the context's loop-owned ring. */
    static final int LOCAL_QUEUED = 1;
    /** The callback is to run (a schedule made by the loop, or one merged from the shared flags). */
    static final int LOCAL_SCHEDULED = 2;
    /** The local schedule is idle (scheduleIdle, or a merged IDLE). */
    static final int LOCAL_IDLE = 4;
    /**
     * With LOCAL_QUEUED: the ring entry also stands for the bottom half's place on the shared list
     * (PENDING is set); taking the entry clears PENDING (see BottomHalfQueue.drainShared).
     */
    static final int LOCAL_SHARED = 8;
    /**
     * The context closed and this bottom half was reported leaked (BottomHalfQueue.clear and
     * takeShared): a mark, so that one in the ring and on the shared list is reported once, in
     * O(1). Written by the closer (holding the claim) or by a late pusher after the close, when no
     * loop can touch the local state any more.
     */
    static final int LOCAL_LEAK_REPORTED = 16;

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

    // NOTE: five 4-byte fields make a 32-byte object (compressed oops): a one-shot allocates one
    // per schedule, so whether it is a one-shot or has a Conditional callback is kept in the flags
    // (bits that never change once published, read plainly) rather than in fields of their own.
    final AioContext ctx;
    final Runnable cb;
    @SuppressWarnings("unused") // accessed through FLAGS
    private volatile int flags;
    /**
     * LOCAL_* bits. Read and written only by the thread polling the context (handed from one
     * polling thread to the next by the context's claim); other threads read it only racily, for
     * isScheduled().
     */
    int local;
    /**
     * The link in the context's shared list. Written by the thread that set PENDING, before the
     * compare-and-set that publishes this bottom half; afterwards only by the poller, until it
     * clears PENDING. So no two threads ever write it at the same time.
     */
    BottomHalf next;

    // NOTE: no instanceof on cb here: on a one-shot's path (one allocation per schedule) that type
    // check cost more than the rest of the schedule; internal callers say CONDITIONAL themselves.
    BottomHalf(AioContext ctx, Runnable cb, int initialFlags) {
        this.ctx = ctx;
        this.cb = cb;
        FLAGS.set(this, initialFlags); // plain: published by the push or by whoever hands the object on
    }

    /** An internal bottom half whose callback says whether it did anything (event notifiers). */
    BottomHalf(AioContext ctx, Conditional cb) {
        this(ctx, cb, CONDITIONAL);
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
        if (ctx.inLoopThread()) {
            // The loop owns the local state: clear it, then any schedule from another thread.
            local &= ~(LOCAL_SCHEDULED | LOCAL_IDLE);
            if (((int) FLAGS.getVolatile(this) & SCHEDULED) != 0) {
                FLAGS.getAndBitwiseAnd(this, ~SCHEDULED);
            }
            return;
        }
        // NOTE: one atomic step, so that a schedule from another thread is either undone or after
        // this cancel. CANCELLED tells the loop to drop a local schedule made before this point; a
        // local schedule after it clears CANCELLED first (enqueueLocal), so it is not undone.
        int old;
        do {
            old = (int) FLAGS.getVolatile(this);
        } while (!FLAGS.weakCompareAndSet(this, old, (old & ~SCHEDULED) | CANCELLED));
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
     * Called from any thread (qemu_bh_schedule / aio_bh_enqueue); {@code newFlags} is SCHEDULED,
     * optionally with IDLE. Returns whether this call queued the bottom half (found it off the
     * queue it uses).
     */
    boolean enqueue(int newFlags, boolean loud) {
        // NOTE: kept small so that the JIT inlines it into the caller; the two paths are separate.
        return ctx.inLoopThread() ? enqueueLocal(newFlags, loud) : enqueueShared(newFlags, loud);
    }

    /** Called from any thread: a schedule after the context was closed. */
    private boolean closedContext(boolean loud) {
        if (loud) {
            throw new IllegalStateException(this + " scheduled after its context was closed");
        }
        return false;
    }

    /** Called from any thread but the one polling ctx: schedules through the shared list. */
    private boolean enqueueShared(int newFlags, boolean loud) {
        if (ctx.isClosed()) {
            return closedContext(loud);
        }
        int cur = (int) FLAGS.getVolatile(this);
        if ((cur & (PENDING | DELETED | newFlags)) == (PENDING | newFlags)) {
            // Already queued with these flags: this schedule changes nothing (QEMU's fetch_or
            // would leave the flags as they are), so skip the locked instruction.
            return false;
        }
        // Pairs with getAndBitwiseAnd in take (the poller clearing PENDING after unlinking).
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
     * Called from the loop thread (inside a poll of ctx): schedules through the local state and
     * the loop-owned queue. No locked instruction unless cancel() was called from another thread.
     */
    private boolean enqueueLocal(int newFlags, boolean loud) {
        if (ctx.bhq.closed) { // the loop's plain copy of ctx.closed
            return closedContext(loud);
        }
        int f = (int) FLAGS.getVolatile(this);
        if ((f & (DELETED | PENDING | CANCELLED)) == 0) {
            return scheduleLocal(local, newFlags); // the common case: only the local state is involved
        }
        return enqueueLocalSlow(f, newFlags, loud);
    }

    /** Called from the loop thread: a local schedule over local state {@code l}; true if it queued. */
    private boolean scheduleLocal(int l, int newFlags) {
        int add = LOCAL_SCHEDULED | ((newFlags & IDLE) != 0 ? LOCAL_IDLE : 0);
        if ((l & LOCAL_QUEUED) != 0) {
            local = l | add;
            ctx.bhq.countSchedule();
            return false;
        }
        local = l | LOCAL_QUEUED | add;
        ctx.bhq.append(this);
        return true;
    }

    /** Called from the loop thread: enqueueLocal when the shared flags are involved. */
    private boolean enqueueLocalSlow(int f, int newFlags, boolean loud) {
        if ((f & DELETED) != 0) {
            if (loud) {
                throw new IllegalStateException(this + " scheduled after delete()");
            }
            return false;
        }
        if ((f & PENDING) != 0) {
            // Queued through the shared list already: schedule it there, as QEMU would (it keeps
            // its place). Only the loop clears PENDING, so it stays set; the atomic OR keeps a
            // concurrent cancel or delete from another thread ordered.
            int old = (int) FLAGS.getAndBitwiseOr(this, newFlags);
            if ((old & DELETED) != 0 && loud) {
                throw new IllegalStateException(this + " scheduled after delete()");
            }
            ctx.bhq.countSchedule();
            return false;
        }
        int l = local;
        if ((f & CANCELLED) != 0) {
            // A cancel from another thread came after the previous local schedule: apply it, then
            // schedule anew. The atomic clear keeps a concurrent cancel ordered before or after.
            int old = (int) FLAGS.getAndBitwiseAnd(this, ~CANCELLED);
            if ((old & CANCELLED) != 0) {
                l &= ~(LOCAL_SCHEDULED | LOCAL_IDLE);
            }
        }
        return scheduleLocal(l, newFlags);
    }

    /** take result: run the callback. Equals LOCAL_SCHEDULED >>> 1 (see take). */
    static final int RUN = 1;
    /** take result, with RUN: the run is idle (not progress). Equals LOCAL_IDLE >>> 1. */
    static final int RUN_IDLE = 2;
    /** take result, with RUN: cb is an internal {@link Conditional}. */
    static final int RUN_CONDITIONAL = 4;

    /** Called from any thread: whether this is a one-shot (a bit that never changes: plain read). */
    boolean isOneshot() {
        return ((int) FLAGS.get(this) & ONESHOT) != 0;
    }

    /**
     * Called from the loop thread when the shared list is drained and this bottom half, not a
     * one-shot, comes off it (PENDING set): gives it a ring entry, or merges it into the one it has.
     * Returns whether the ring needs a new entry.
     */
    boolean queueShared() {
        int l = local;
        local = l | LOCAL_QUEUED | LOCAL_SHARED;
        return (l & LOCAL_QUEUED) == 0;
    }

    /**
     * Called from the loop thread when the bottom half's entry comes off the loop-owned ring
     * (aio_bh_dequeue): clears its local state and, if the entry stands for the shared list too,
     * PENDING, SCHEDULED and IDLE, after which another thread may queue it again. A schedule or
     * cancel from another thread is merged into the local state. Returns RUN (with RUN_IDLE,
     * RUN_CONDITIONAL) or 0.
     */
    int take() {
        int f = (int) FLAGS.getVolatile(this);
        int l = local;
        if (((f & (ONESHOT | SCHEDULED | CANCELLED | DELETED | CONDITIONAL)) | (l & LOCAL_SHARED)) == 0) {
            // The common case, a schedule by the loop alone: one volatile read, no branch for the
            // result (RUN and RUN_IDLE are LOCAL_SCHEDULED and LOCAL_IDLE shifted).
            local = 0;
            return (l >>> 1) & (RUN | RUN_IDLE);
        }
        return takeSlow(f, l);
    }

    /** Called from the loop thread: take() when a one-shot, the shared flags or the list are involved. */
    private int takeSlow(int f, int l) {
        if ((f & ONESHOT) != 0) {
            return RUN; // nobody else can reach a one-shot: its flags never change, its local state is unused
        }
        local = 0;
        if ((l & LOCAL_SHARED) != 0) {
            // Pairs with getAndBitwiseOr in enqueueShared (a thread setting PENDING links it anew).
            f = (int) FLAGS.getAndBitwiseAnd(this, ~(PENDING | SCHEDULED | IDLE | CANCELLED));
        } else {
            if ((f & (SCHEDULED | CANCELLED)) != 0) {
                // Pairs with getAndBitwiseOr in enqueue and the compare-and-set in cancel. PENDING
                // stays if set: the bottom half waits on the shared list, and its entry finds
                // nothing to run unless scheduled again.
                f = (int) FLAGS.getAndBitwiseAnd(this, ~(SCHEDULED | IDLE | CANCELLED));
            }
            // NOTE: a schedule from another thread that sets SCHEDULED after the volatile read in
            // take() comes after this run started; it finds PENDING clear (or set by a still
            // queued shared entry) and runs again, as in QEMU after aio_bh_dequeue.
        }
        if ((f & DELETED) != 0) {
            return 0;
        }
        if ((f & CANCELLED) != 0) {
            l &= ~(LOCAL_SCHEDULED | LOCAL_IDLE); // the cancel came after the local schedule
        }
        if ((f & SCHEDULED) != 0) {
            // A schedule from another thread, after any cancel: merged into this run.
            l |= LOCAL_SCHEDULED | ((f & IDLE) != 0 ? LOCAL_IDLE : 0);
        }
        if ((l & LOCAL_SCHEDULED) == 0) {
            return 0;
        }
        return RUN | ((l & LOCAL_IDLE) != 0 ? RUN_IDLE : 0) | ((f & CONDITIONAL) != 0 ? RUN_CONDITIONAL : 0);
    }

    /** Called from any thread: the shared flags right now (tests). */
    int flags() {
        return (int) FLAGS.getVolatile(this);
    }

    /** {@link #pending()}: no run pending. */
    static final int NOT_PENDING = 0;
    /** {@link #pending()}: only an idle run is pending (QEMU's BH_IDLE: a blocking poll waits up to 10 ms). */
    static final int IDLE_PENDING = 1;
    /** {@link #pending()}: a run that is not idle is pending (a poll must not block). */
    static final int RUN_PENDING = 2;

    /**
     * Called from any thread: which run is pending, from the shared flags and the local state
     * (read racily unless called by the loop thread).
     *
     * @return {@link #NOT_PENDING}, {@link #IDLE_PENDING} or {@link #RUN_PENDING}
     */
    int pending() {
        int f = flags();
        int l = local;
        if ((f & DELETED) != 0) {
            return NOT_PENDING;
        }
        if ((f & ONESHOT) != 0) {
            return RUN_PENDING; // only queues hold a one-shot, and only until it runs
        }
        boolean shared = (f & SCHEDULED) != 0;
        boolean mine = (l & LOCAL_SCHEDULED) != 0 && (f & CANCELLED) == 0;
        if ((shared && (f & IDLE) == 0) || (mine && (l & LOCAL_IDLE) == 0)) {
            return RUN_PENDING;
        }
        return shared || mine ? IDLE_PENDING : NOT_PENDING;
    }

    /**
     * Called from the loop thread: whether a local schedule that is not idle is pending (then
     * {@link #pending()} is {@link #RUN_PENDING}); false says nothing (ask {@link #pending()}).
     * The blocking poll's check for a ready bottom half, with fewer tests than pending().
     */
    boolean localRunPending() {
        return (local & (LOCAL_SCHEDULED | LOCAL_IDLE)) == LOCAL_SCHEDULED
                && ((int) FLAGS.getVolatile(this) & (DELETED | CANCELLED)) == 0;
    }

    /** Called from any thread: whether {@link #delete()} was called. */
    public boolean isDeleted() {
        return (flags() & DELETED) != 0;
    }

    /** Called from any thread: whether a run is scheduled and not yet started. */
    public boolean isScheduled() {
        return pending() != NOT_PENDING;
    }

    @Override
    public String toString() {
        return "BottomHalf[" + cb + " in " + ctx + "]";
    }
}
