package io.aioco.internal.loop;

import io.aioco.internal.observe.LoopProbe;

/**
 * The timers of one AioContext, one {@link TimerQueue} per clock: QEMU's {@code
 * QEMUTimerListGroup}. Arming and disarming may happen on any thread (QEMU's {@code
 * active_timers_lock}: here the monitor of this object); only the loop thread runs timers.
 *
 * <p>Callbacks always run without the lock held, after their entry left the queue, so a callback
 * may re-arm its own timer or any other.
 */
public final class TimerGroup {
    private final TimerQueue[] queues = new TimerQueue[Clocks.COUNT];
    /**
     * Whether any clock has a timer armed: written under the lock after every change, read by the
     * loop without it, so that a poll with no timer armed (the common case) costs one volatile read
     * here rather than one per clock.
     */
    private volatile boolean anyArmed;

    /** @return how many timers are armed on all clocks (any thread, racy: for coroutine dumps) */
    public int armedCount() {
        int count = 0;
        for (TimerQueue queue : queues) {
            count += queue.size();
        }
        return count;
    }

    /** The context's own time (the test kit's), else null: the machine's clocks. */
    private final TestTime time;

    public TimerGroup() {
        this(null);
    }

    /** A group whose clocks all read {@code time} (null: the machine's clocks). */
    public TimerGroup(TestTime time) {
        this.time = time;
        for (int i = 0; i < queues.length; i++) {
            queues[i] = new TimerQueue();
        }
    }

    /**
     * Called from any thread. Returns whether the timer became the earliest of its clock, in which
     * case the caller wakes the loop so it recomputes its wait (QEMU's {@code timerlist_rearm}).
     */
    public synchronized boolean schedule(TimerQueue.Entry e, long expireNs) {
        boolean earliest = queues[e.clock].schedule(e, expireNs);
        anyArmed = true;
        return earliest;
    }

    /** Called from any thread. */
    public synchronized void remove(TimerQueue.Entry e) {
        queues[e.clock].remove(e);
        updateAnyArmed();
    }

    /** Lock held: recomputes anyArmed after timers left the queues. */
    private void updateAnyArmed() {
        boolean any = false;
        for (TimerQueue q : queues) {
            any |= !q.isEmpty();
        }
        if (anyArmed != any) {
            anyArmed = any;
        }
    }

    /** Called from any thread: the earliest VIRTUAL deadline, or Long.MAX_VALUE if none. */
    public synchronized long virtualDeadline() {
        TimerQueue.Entry head = queues[Clocks.VIRTUAL].peek();
        return head == null ? Long.MAX_VALUE : head.expireNs;
    }

    /** Called from the context's closing thread: drops every timer. */
    public synchronized void clear() {
        for (TimerQueue q : queues) {
            q.clear();
        }
        anyArmed = false;
    }

    /**
     * Called from the loop thread: how long the loop may wait before the earliest timer is due, in
     * ns; 0 if one is due, -1 if there is none (or only VIRTUAL ones while that clock is paused: they
     * come due only through {@code advanceVirtualNs}, which wakes the loop).
     */
    public long timeoutNs() {
        if (!anyArmed) {
            return -1;
        }
        long timeout = -1;
        for (int c = 0; c < queues.length; c++) {
            if (queues[c].isEmpty()) {
                continue;
            }
            timeout = earliest(timeout, timeoutNs(c));
            if (timeout == 0) {
                return 0;
            }
        }
        return timeout;
    }

    private static long earliest(long a, long b) {
        if (a < 0) {
            return b;
        }
        return b < 0 ? a : Math.min(a, b);
    }

    /** Called from the loop thread: the wait for clock {@code c} alone, as timeoutNs(). */
    private synchronized long timeoutNs(int c) {
        TimerQueue.Entry head = queues[c].peek();
        if (head == null) {
            return -1;
        }
        if (time != null) {
            // NOTE: a context's own time moves only when advanced (the test kit does, when the
            // context is idle), so waiting would never bring a timer due: as a paused VIRTUAL.
            return head.expireNs - time.nowNs(c) > 0 ? -1 : 0;
        }
        if (c == Clocks.VIRTUAL && VirtualClock.isPaused()) {
            return head.expireNs - VirtualClock.nowNs() > 0 ? -1 : 0;
        }
        return Math.max(0, head.expireNs - Clocks.nowNs(c));
    }

    /**
     * Called from any thread, for a group with its own time: how far that time must move for the
     * earliest timer of any clock to be due (0 if one is due), or -1 if no timer is armed.
     */
    public synchronized long untilNextDeadlineNs() {
        long best = -1;
        for (int c = 0; c < queues.length; c++) {
            TimerQueue.Entry head = queues[c].peek();
            if (head != null) {
                long now = time != null ? time.nowNs(c) : Clocks.nowNs(c);
                long d = Math.max(0, head.expireNs - now);
                best = best < 0 ? d : Math.min(best, d);
            }
        }
        return best;
    }

    /**
     * Called from any thread: one line per armed timer, earliest first per clock ("clock deadline
     * callback"), for leak reports.
     */
    public synchronized java.util.List<String> describeArmed(String[] clockNames) {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (int c = 0; c < queues.length; c++) {
            java.util.List<TimerQueue.Entry> entries = queues[c].entries();
            entries.sort(java.util.Comparator.comparingLong(e -> e.expireNs));
            for (TimerQueue.Entry e : entries) {
                long now = time != null ? time.nowNs(c) : Clocks.nowNs(c);
                out.add(clockNames[c] + " timer due at " + e.expireNs + " ns (in " + (e.expireNs - now)
                        + " ns): " + e.callback);
            }
        }
        return out;
    }

    /**
     * Called from the loop thread: runs every timer due, clock by clock, each clock's in deadline
     * order (QEMU's {@code timerlistgroup_run_timers}). Each clock is read once per pass, and a
     * timer armed during the pass waits for the next one (which does not block: it is due), so a
     * callback re-arming its timer for "now" cannot keep the loop here forever. A callback that
     * throws is reported to {@code guard} and the pass goes on with the next timer due.
     *
     * @param stillOpen checked before each callback: the context may be closed by one of them
     * @param guard told after each callback, and of each exception
     */
    public boolean runDue(java.util.function.BooleanSupplier stillOpen, CallbackGuard guard) {
        // NOTE: the common case, no timer armed at all, costs this one volatile read: no lock and
        // no clock reading. A timer armed concurrently that this read misses is found by the next
        // poll; arming it woke the loop anyway.
        if (!anyArmed) {
            return false;
        }
        boolean progress = false;
        for (int c = 0; c < queues.length; c++) {
            TimerQueue q = queues[c];
            // NOTE: the common case, no timer on this clock, costs one volatile read: no lock and
            // no clock reading (Instant.now() for HOST costs tens of ns). A timer armed concurrently
            // that this read misses is found by the next poll; arming it woke the loop anyway.
            if (q.isEmpty()) {
                continue;
            }
            long now = time != null ? time.nowNs(c) : Clocks.nowNs(c);
            long passSeq;
            synchronized (this) {
                passSeq = q.nextSeq();
            }
            for (;;) {
                TimerQueue.Entry due;
                synchronized (this) {
                    due = q.peek();
                    if (due == null || due.expireNs - now > 0 || due.seq >= passSeq) {
                        break;
                    }
                    q.remove(due);
                    if (q.isEmpty()) {
                        updateAnyArmed();
                    }
                }
                if (!stillOpen.getAsBoolean()) {
                    return progress;
                }
                progress = true;
                Runnable cb = due.callback;
                guard.begin(LoopProbe.TIMER, cb);
                try {
                    cb.run();
                    guard.ran();
                } catch (Throwable t) {
                    guard.failed(cb, "timer callback " + cb, t);
                }
            }
        }
        return progress;
    }
}
