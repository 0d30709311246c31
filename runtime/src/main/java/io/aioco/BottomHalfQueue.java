package io.aioco;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

// Layout: the shared list head and the loop-owned ring state each sit on cache lines of their own.
// HotSpot lays out a superclass's fields before its subclass's, so padding goes in superclasses
// (the longs of one class come first, whatever their declaration order).

/** Padding before the shared list head. */
abstract class BottomHalfQueuePad0 {
    @SuppressWarnings("unused")
    private long pad00, pad01, pad02, pad03, pad04, pad05, pad06, pad07;
}

/** The shared list head: the one field other threads write at every schedule. */
abstract class BottomHalfQueueShared extends BottomHalfQueuePad0 {
    /** Bottom halves scheduled by other threads since the loop last took the list: newest first. */
    @SuppressWarnings("unused") // accessed through BottomHalfQueue.SHARED_HEAD
    volatile BottomHalf sharedHead;
}

/** Padding between the shared list head and the loop-owned state. */
abstract class BottomHalfQueuePad1 extends BottomHalfQueueShared {
    @SuppressWarnings("unused")
    private long pad10, pad11, pad12, pad13, pad14, pad15, pad16, pad17;
}

/**
 * The bottom halves of one {@link AioContext} waiting to run: QEMU's {@code ctx->bh_list} (here
 * the shared list) and {@code bh_slice_list} (here the loop-owned ring), with the enqueue and
 * dequeue halves of {@code util/async.c} ({@code aio_bh_enqueue}, {@code aio_bh_dequeue}, {@code
 * aio_bh_poll}).
 *
 * <p>Two ways in. A schedule from the thread polling the context (a callback scheduling the next
 * step: the common case) appends to the ring with plain writes ({@link #append}). A schedule from
 * any other thread pushes on the shared list, a Treiber stack, with one compare-and-set ({@link
 * #push}); the loop takes the whole list with one getAndSet and moves it to the ring ({@link
 * #drainShared}). A poll dispatches the ring up to the tail it saw when it started ({@link
 * #dispatch}): bottom halves scheduled meanwhile run in the next poll, a nested poll goes on with
 * the older entries first, and a callback that throws is reported to the context's guard and the
 * dispatch goes on with the next entry.
 *
 * <p>A bottom half has at most one entry in the ring (its local state says whether, see {@link
 * BottomHalf}). A bottom half taken from the shared list that already has one is merged into it and
 * leaves a null slot behind, which the dispatch skips.
 *
 * <p>Everything but {@link #push} and {@link #hasShared} is loop thread only (handed from one
 * polling thread to the next by the context's claim).
 */
final class BottomHalfQueue extends BottomHalfQueuePad1 {
    static final int MIN_CAPACITY = 16;
    /** A ring longer than this is dropped when mostly empty (see renew); 16 KiB of slots. */
    private static final int SHRINK_ABOVE = 4096;
    /** Entries appended between two renewals of the ring (see renew). */
    private static final int RENEW_EVERY = 1 << 16;

    private static final VarHandle SHARED_HEAD;

    static {
        try {
            SHARED_HEAD = MethodHandles.lookup().findVarHandle(BottomHalfQueueShared.class, "sharedHead", BottomHalf.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    // Loop thread only.
    /** The entries, null where a merged entry was; length a power of two. */
    private BottomHalf[] ring = new BottomHalf[MIN_CAPACITY];
    /** The next entry to dispatch (absolute; masked on access). */
    private int head;
    /** Where the next entry goes (absolute). */
    private int tail;
    /**
     * Local schedules of bottom halves already queued, so far (wraps). With tail, lets busyPoll
     * notice a local schedule made by an ioPoll function.
     */
    private int coalescedSchedules;
    /** The tail when the ring was last renewed. */
    private int renewedAt;
    /**
     * The context was closed: a plain copy of its volatile flag for the loop's own paths (set by
     * clear(), by the loop thread or by a closer holding the claim, which hands it on).
     */
    boolean closed;

    // ---------------------------------------------------------------------------------------
    // Any thread

    /**
     * Called from any thread, by the one that set the bottom half's PENDING flag: links it into the
     * shared list (QSLIST_INSERT_HEAD_ATOMIC in aio_bh_enqueue). Returns whether the list was empty:
     * only then must the caller wake the loop (see timeoutNs).
     */
    boolean push(BottomHalf bh) {
        BottomHalf first;
        do {
            first = (BottomHalf) SHARED_HEAD.getVolatile(this);
            // NOTE: published by the compareAndSet below. No ABA problem: nobody pops single nodes,
            // the loop takes the whole list at once. Pairs with the getAndSet in drainShared.
            bh.next = first;
        } while (!SHARED_HEAD.compareAndSet(this, first, bh));
        return first == null;
    }

    /**
     * Called from any thread, for coroutine dumps: the bottom halves queued (ring and shared list),
     * read racily (the loop may be changing them); never throws.
     */
    int pendingForDump() {
        int count = 0;
        BottomHalf[] r = ring;
        int h = head;
        int t = tail;
        for (int i = h; i - t < 0 && i - h < r.length; i++) {
            if (r[i & (r.length - 1)] != null) {
                count++;
            }
        }
        for (BottomHalf bh = (BottomHalf) SHARED_HEAD.getAcquire(this); bh != null && count < 1_000_000; bh = bh.next) {
            count++;
        }
        return count;
    }

    /** Called from any thread: whether the shared list has anything (busyPoll, wakers). */
    boolean hasShared() {
        return (BottomHalf) SHARED_HEAD.getAcquire(this) != null;
    }

    // ---------------------------------------------------------------------------------------
    // Loop thread only

    /**
     * Called from the loop thread, by a bottom half whose local state just got LOCAL_QUEUED:
     * appends it. Bottom halves waiting on the shared list are moved first, so that the ring stays
     * in the order of first scheduling across threads (a schedule from another thread that
     * completed before this one is on the list now).
     */
    void append(BottomHalf bh) {
        if ((BottomHalf) SHARED_HEAD.getAcquire(this) != null) {
            drainShared();
        }
        BottomHalf[] r = ring;
        int t = tail;
        if (t - head == r.length) {
            r = resize(r.length * 2);
        }
        r[t & (r.length - 1)] = bh;
        tail = t + 1;
    }

    /** Called from the loop thread: a local schedule of a bottom half already queued. */
    void countSchedule() {
        coalescedSchedules++;
    }

    /**
     * Called from the loop thread: changes with every local schedule (wraps); compare two readings
     * to learn whether one was made in between.
     */
    int localSchedules() {
        return tail + coalescedSchedules;
    }

    /**
     * Called from the loop thread: takes the whole shared list (one getAndSet, whatever its length)
     * and appends it to the ring, oldest first. A bottom half keeps PENDING until its entry comes
     * off the ring, so that a schedule from another thread meanwhile merges into its run, as in
     * QEMU.
     *
     * <p>NOTE: the list is newest first; rather than reversing it in place (a reference store per
     * node, each paying G1's card-marking barrier with a fence when the nodes are tenured), it is
     * counted, then written into the ring backwards.
     */
    private void drainShared() {
        BottomHalf newest = (BottomHalf) SHARED_HEAD.getAndSet(this, (BottomHalf) null);
        int n = 0;
        for (BottomHalf bh = newest; bh != null; bh = bh.next) { // stable: PENDING is set, nobody else links
            n++;
        }
        BottomHalf[] r = ring;
        int needed = tail - head + n;
        if (needed > r.length) {
            r = resize(Integer.highestOneBit(needed - 1) << 1);
        }
        int mask = r.length - 1;
        int k = tail + n;
        BottomHalf bh = newest;
        while (bh != null) {
            BottomHalf next = bh.next;
            k--;
            if (bh.isOneshot()) {
                // NOTE: not written to at all: its cache line, just filled by the scheduling thread,
                // is only read here. Its stale link dies with it.
                r[k & mask] = bh;
            } else {
                // NOTE: unlinked before its PENDING can be cleared (when its entry comes off): after
                // that another thread may link it into the new list, rewriting bh.next.
                bh.next = null;
                r[k & mask] = bh.queueShared() ? bh : null;
            }
            bh = next;
        }
        tail += n;
    }

    /**
     * Called from the loop thread: aio_bh_poll. Moves what other threads scheduled to the ring, then
     * runs the ring up to its current tail: each entry whose bottom half is still scheduled when it
     * comes off (local state merged with the shared flags). Returns whether a bottom half that is
     * not idle ran (an internal conditional one: whether it did anything).
     *
     * <p>Cost per bottom half scheduled and run by the loop thread: plain reads and writes and one
     * volatile read of its flags; no locked instruction unless another thread scheduled or
     * cancelled it meanwhile.
     *
     * @param guard told after each callback, and of each exception (the dispatch goes on)
     */
    boolean dispatch(io.aioco.internal.loop.CallbackGuard guard) {
        if ((BottomHalf) SHARED_HEAD.getAcquire(this) != null) {
            drainShared();
        }
        int limit = tail;
        boolean progress = false;
        while (head - limit < 0) {
            BottomHalf[] r = ring;
            int slot = head & (r.length - 1);
            // NOTE: head moves before the callback runs: a nested poll from it, or the next poll
            // after it threw, goes on with the next entry.
            head++;
            BottomHalf bh = r[slot];
            if (bh == null) {
                continue; // merged into an earlier entry of the same bottom half
            }
            r[slot] = null;
            // Off the queue before the callback runs, so that it can schedule itself again.
            int run = bh.take();
            if (run == 0) {
                continue; // cancelled, deleted, or nothing to run
            }
            // NOTE: no check of closed here: only this thread can close the context while it
            // polls (a closer needs the claim), and a close from a callback empties the ring.
            guard.begin(io.aioco.internal.observe.LoopProbe.BOTTOM_HALF, bh.cb);
            try {
                if ((run & BottomHalf.RUN_CONDITIONAL) != 0) {
                    // Internal bottom halves (notifier dispatch) say whether they did anything.
                    progress |= ((BottomHalf.Conditional) bh.cb).runIfReady();
                } else {
                    if ((run & BottomHalf.RUN_IDLE) == 0) {
                        progress = true;
                    }
                    bh.cb.run();
                }
                guard.ran();
            } catch (Throwable t) {
                progress = true;
                guard.failed(bh.cb, "bottom half " + bh.cb, t);
            }
        }
        renew();
        return progress;
    }

    /**
     * Called from the loop thread: moves the ring to a new array now and then.
     *
     * <p>NOTE: with G1, storing a reference into a young array is cheap, while storing it into a
     * tenured array costs a slow write barrier with a fence whenever the bottom half lives in
     * another region: every append and every drained node would pay it. A ring that lived through
     * enough young collections is tenured, so a ring is renewed after {@link #RENEW_EVERY}
     * appends (costing about a bit of zeroing per append), and a ring grown big by a burst is
     * dropped when mostly empty.
     */
    private void renew() {
        int size = tail - head;
        int length = ring.length;
        if (length > SHRINK_ABOVE && size <= length >> 3) {
            resize(Math.max(MIN_CAPACITY, Integer.highestOneBit(Math.max(1, size)) << 2));
        } else if (tail - renewedAt - RENEW_EVERY >= 0) {
            resize(length);
        }
    }

    /** Loop thread only: moves the ring to a new array of {@code capacity} (a power of two). */
    private BottomHalf[] resize(int capacity) {
        BottomHalf[] old = ring;
        BottomHalf[] fresh = new BottomHalf[capacity];
        for (int k = head; k != tail; k++) {
            fresh[k & (capacity - 1)] = old[k & (old.length - 1)];
        }
        ring = fresh;
        renewedAt = tail;
        return fresh;
    }

    /**
     * Called from the loop thread, before a busy poll or after announcing a wait: 0 if a bottom half is scheduled or the
     * shared list is not empty, {@code idleTimeoutNs} if only idle ones are scheduled, else -1 (the
     * bottom-half part of aio_compute_timeout).
     *
     * <p>NOTE: a non-empty shared list never lets the loop block, whatever is on it (a cancelled or
     * idle bottom half costs one more poll, which moves it to the ring). That is what lets a thread
     * that pushes on a non-empty list skip the wake-up (pushBottomHalf): the push that made the list
     * non-empty woke the loop, or the loop's check after its announcement sees the list non-empty,
     * or a drain took the list and runs it. (QEMU's aio_notify runs at every schedule.)
     */
    long timeoutNs(long idleTimeoutNs) {
        if ((BottomHalf) SHARED_HEAD.getVolatile(this) != null) {
            return 0;
        }
        long timeout = -1;
        BottomHalf[] r = ring;
        for (int k = head; k != tail; k++) {
            BottomHalf bh = r[k & (r.length - 1)];
            if (bh == null) {
                continue;
            }
            if (bh.localRunPending()) {
                return 0; // NOTE: the common case (a local schedule), from the local state and one flags read
            }
            int pending = bh.pending();
            if (pending == BottomHalf.RUN_PENDING) {
                return 0;
            }
            if (pending == BottomHalf.IDLE_PENDING) {
                timeout = idleTimeoutNs;
            }
        }
        return timeout;
    }

    /**
     * Called by the thread closing the context (the loop thread, or one holding its claim): drops
     * everything; a dispatch in progress sees an empty ring and stops. Returns the bottom halves
     * that were still scheduled and not deleted, oldest local first (QEMU's aio_ctx_finalize walks
     * its list the same way to report a leaked BH).
     */
    List<BottomHalf> clear() {
        closed = true;
        List<BottomHalf> leaked = new ArrayList<>();
        // NOTE: a bottom half can sit in the ring and on the shared list at once (scheduled by the
        // loop, then from another thread): a mark in its local state keeps the report to one entry
        // each in O(1) (a list's contains made closing with n scheduled cost O(n^2)).
        BottomHalf[] r = ring;
        int mask = r.length - 1;
        for (int i = head; i != tail; i++) {
            report(r[i & mask], leaked);
        }
        takeShared(leaked);
        Arrays.fill(r, null);
        head = tail;
        return leaked;
    }

    /** Called by the closing thread: adds {@code bh} to {@code leaked} if still scheduled and not yet reported. */
    private static void report(BottomHalf bh, List<BottomHalf> leaked) {
        if (bh != null && (bh.local & BottomHalf.LOCAL_LEAK_REPORTED) == 0 && bh.pending() != BottomHalf.NOT_PENDING) {
            bh.local |= BottomHalf.LOCAL_LEAK_REPORTED;
            leaked.add(bh);
        }
    }

    /**
     * Called from any thread once the context is closed (closed set before the call): takes what is
     * on the shared list and adds what is still scheduled to {@code leaked}. clear() takes the list
     * once; a schedule from another thread that passed its check of closed before the close and
     * pushed after clear() took the list calls this too (AioContext.pushBottomHalf), so that its
     * bottom half is reported rather than silently stranded. The getAndSet gives each node to
     * exactly one taker; the mark (LOCAL_LEAK_REPORTED, written before clear's getAndSet, read after
     * the late taker's) keeps one reported from the ring from being reported again.
     */
    void takeShared(List<BottomHalf> leaked) {
        BottomHalf newest = (BottomHalf) SHARED_HEAD.getAndSet(this, (BottomHalf) null);
        for (BottomHalf bh = newest; bh != null; bh = bh.next) { // stable: PENDING is set, nobody else links
            report(bh, leaked);
        }
    }

    /**
     * Called from the loop thread (the test kit, between polls): the bottom halves scheduled and
     * not yet run, local ones first, without changing anything.
     */
    List<BottomHalf> scheduled() {
        List<BottomHalf> out = new ArrayList<>();
        BottomHalf[] r = ring;
        int mask = r.length - 1;
        for (int i = head; i != tail; i++) {
            BottomHalf bh = r[i & mask];
            if (bh != null && bh.pending() != BottomHalf.NOT_PENDING && !out.contains(bh)) {
                out.add(bh);
            }
        }
        for (BottomHalf bh = (BottomHalf) SHARED_HEAD.getVolatile(this); bh != null; bh = bh.next) {
            if (bh.pending() != BottomHalf.NOT_PENDING && !out.contains(bh)) {
                out.add(bh);
            }
        }
        return out;
    }
}
