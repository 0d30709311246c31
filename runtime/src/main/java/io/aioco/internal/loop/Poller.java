package io.aioco.internal.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.locks.LockSupport;

/**
 * Waiting and waking for one AioContext: QEMU's {@code util/aio-posix.c} with its fd monitor
 * ({@code fdmon-*.c}) and the context notifier of {@code util/async.c}. It holds the announcement
 * a blocking poll makes ({@code ctx->notify_me}), the pending notification ({@code ctx->notified}),
 * the "what I wait for changed" flag that ends a busy poll, the fd table with its selector, and
 * the adaptive-polling state. The context's poll ({@code aio_poll}) runs what is ready, then asks
 * the poller to wait ({@link #waitForEvents}: busy poll, announce, build the poll set, compute the
 * timeout, block, end the wait, adjust the poll time), then runs what is ready again. The
 * handshake is walked through in {@code runtime/DESIGN.md}, section "The notify/kick handshake".
 *
 * <p><b>Threads.</b> {@link #kick()}, {@link #notifyChange()}, {@link #notifyEvent()} and {@link
 * #fdTable()} may be called from any thread. Everything else is the loop thread's: the one polling
 * the context (handed from one polling thread to the next by the context's claim).
 */
public final class Poller {
    // notifyMe values: what the poller blocks in, which tells a waker how to wake it.
    /** The loop is not about to block: a waker has nothing to do. */
    public static final int NOT_WAITING = 0;
    /** The loop blocks (or is about to) in {@link LockSupport#park}: it has no channels. */
    public static final int WAIT_PARK = 1;
    /** The loop blocks (or is about to) in its selector. */
    public static final int WAIT_SELECT = 2;

    private static final VarHandle NOTIFY_ME;
    private static final VarHandle NOTIFIED;
    private static final VarHandle POKED;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NOTIFY_ME = l.findVarHandle(Poller.class, "notifyMe", int.class);
            NOTIFIED = l.findVarHandle(Poller.class, "notified", int.class);
            POKED = l.findVarHandle(Poller.class, "poked", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        // NOTE: loads FdTable (without initializing it). The JIT does not inline a method whose
        // signature names a class not loaded yet: until a context's first channel, fds(), called
        // at every poll, was a real call.
        FdTable.class.getName();
    }

    /** NOT_WAITING, or how the poller is blocked (set by the poller, cleared by it or a waker). */
    @SuppressWarnings("unused") // accessed through NOTIFY_ME
    private volatile int notifyMe;

    /** 1 after notifyEvent() until a blocking poll accepts it (QEMU's ctx->notified). */
    @SuppressWarnings("unused") // accessed through NOTIFIED
    private volatile int notified;

    /**
     * 1 after another thread changed what the loop waits for (a timer, a channel) since the loop
     * last looked: tells a busy poll to stop and recompute its wait. With bottom halves on the
     * shared list and {@code notified}, it is what QEMU's context notifier polls ({@code
     * aio_context_notifier_poll} reading {@code ctx->notified}).
     */
    @SuppressWarnings("unused") // accessed through POKED
    private volatile int poked;

    /** The thread blocked (park mode); written before notifyMe is set, read by wakers after. */
    private Thread waiter;

    /** The fd table, created on first use; the main loop's are given up front. */
    private volatile FdTable fds;

    /** Adaptive polling's parameters and poll time. */
    private final AdaptivePolling polling = new AdaptivePolling();

    /** The context's work, as the wait needs to see it (its timeout, bottom halves queued). */
    private final Work work;
    /** The context's guard, told of a polling function that throws during a busy poll. */
    private final CallbackGuard guard;

    /**
     * The poller whose wait also covers this one's events (the main loop's iohandler context is
     * waited for by the main context's poll), else this one. Set once at the main loop's
     * initialization, before the contexts are published.
     */
    private Poller waitedForBy = this;

    /**
     * What the poller asks of its context during a wait: QEMU's {@code aio_compute_timeout} and the
     * context notifier's {@code io_poll} (bottom halves queued). Called from the loop thread.
     */
    public interface Work {
        /** {@code aio_compute_timeout}: 0 if something is ready, -1 if nothing is due, else ns. */
        long timeoutNs();

        /** Before a busy poll: remembers what is queued now (for {@link #queuedSinceMark}). */
        void markQueued();

        /** During a busy poll, called in its spin (cheap): whether work was queued since the mark. */
        boolean queuedSinceMark();
    }

    /**
     * Called from the context's constructor.
     *
     * @param work the context's work (null for a poller that never waits: tests of its steps)
     * @param guard the context's guard (may be null likewise)
     */
    public Poller(Work work, CallbackGuard guard) {
        this.work = work;
        this.guard = guard;
    }

    /** Called once, before the poller is published: {@code host}'s waits cover this one's events. */
    public void coveredBy(Poller host, FdTable table) {
        this.waitedForBy = host;
        this.fds = table;
    }

    /** Called once, before the poller is published: gives it its fd table up front. */
    public void useFdTable(FdTable table) {
        this.fds = table;
    }

    /** Called from any thread: the fd table, or null if no handler was ever set. */
    public FdTable fds() {
        return fds;
    }

    /** Called from any thread: the fd table, created on first use. */
    public FdTable fdTable() {
        FdTable table = fds;
        if (table == null) {
            synchronized (this) {
                table = fds;
                if (table == null) {
                    table = new FdTable();
                    fds = table;
                }
            }
        }
        return table;
    }

    /** Called from any thread: adaptive polling's state ({@code aio_context_set_poll_params}). */
    public AdaptivePolling polling() {
        return polling;
    }

    // ---------------------------------------------------------------------------------------
    // The loop's side: the wait, then its steps in the order it takes them

    /**
     * Called from the loop thread: the blocking part of aio_poll. With adaptive polling on, first
     * busy-polls for up to the poll time, before announcing the wait (QEMU's try_poll_mode comes
     * before notify_me is raised: a waker meanwhile makes no system call, and the poll sees what it
     * published). Then announces the wait, builds the poll set, checks for work, and blocks. The
     * handshake with the wakers is walked through case by case in runtime/DESIGN.md, section "The
     * notify/kick handshake".
     *
     * @param table the fd table as the poll read it (null: no handler was ever set)
     * @param hooks what the main loop adds to this wait ({@link PollHooks#NONE} for any other poll)
     */
    public void waitForEvents(Thread me, FdTable table, PollHooks hooks) {
        int mode = waitMode(table);
        setWaiter(me);
        // NOTE: no busy poll while a channel has no polling function: its events would wait.
        boolean adaptive = polling.enabled() && (table == null || table.allPollable());
        long pollStart = 0;
        long budget = 0;
        boolean polledWork = false;
        if (adaptive) {
            pollStart = System.nanoTime();
            long pollNs = polling.budgetNs(-1);
            if (pollNs > 0 && !notified()) {
                // NOTE: cleared before the timeout is computed: a change published before this
                // point is in what timeoutNs reads, one after it ends the poll.
                clearPoked();
                long untilDeadline = timeoutNs(hooks);
                if (untilDeadline == 0) {
                    polledWork = true;
                } else {
                    budget = untilDeadline < 0 ? pollNs : Math.min(pollNs, untilDeadline);
                    work.markQueued();
                    polledWork = busyPoll(table, pollStart, budget);
                }
            }
        }
        // NOTE: the announcement comes before every check below, the poll set's included. A
        // producer publishes its work first and reads notifyMe after (pushBottomHalf, timerMod,
        // setFdHandler, ...); both sides use volatile accesses, which are totally ordered, so either
        // we see the work here or the producer sees the announcement and wakes us. This is QEMU's
        // notify_me / smp_mb() pairing; QEMU builds its pollfds after it too.
        announce(mode);
        boolean woken = false;
        FdTable now = fds;
        if (now != null) {
            // NOTE: the poll set is built after the announcement (QEMU's pollfds are too): a
            // handler set or removed by another thread since the poll began is applied here, or the
            // wait would not watch its channel. One volatile read when nothing changed.
            boolean changed = now.applyUpdates();
            changed |= hooks.buildPollSet();
            if (changed) {
                int newMode = waitMode(now);
                if (newMode != mode) {
                    woken = !reannounce(mode, newMode); // a waker cleared it: do not block
                    mode = newMode;
                }
            }
            table = now;
        }
        if (table != null && table.isClosed()) {
            // NOTE: a callback run inside this wait (a polling function of the busy poll, a main
            // loop's canRead function while the poll set was built) closed the context: nothing is
            // left to wait for (its selector is gone), and the poll returns as after any callback
            // that closes it
            endWait();
            return;
        }
        long timeoutNs = woken || polledWork || notified() ? 0 : timeoutNs(hooks);
        try {
            if (timeoutNs == 0) {
                if (table != null) {
                    selectNow(table, hooks);
                }
            } else {
                hooks.beforeWait(true);
                try {
                    block(mode, table, timeoutNs);
                } finally {
                    hooks.afterWait(true);
                }
            }
        } finally {
            endWait();
        }
        if (adaptive && (budget > 0 || timeoutNs != 0)) {
            // Only waits count (a poll that found work at once says nothing about how long to poll).
            polling.adjust(System.nanoTime() - pollStart);
        }
    }

    /**
     * Called from the loop thread: the non-blocking part of aio_poll with channels, a selectNow
     * (after the main loop's hooks brought its guest's poll set up to date).
     */
    public static void pollNow(FdTable table, PollHooks hooks) {
        hooks.buildPollSet();
        selectNow(table, hooks);
    }

    private static void selectNow(FdTable table, PollHooks hooks) {
        hooks.beforeWait(false);
        try {
            table.selectNow();
        } finally {
            hooks.afterWait(false);
        }
    }

    /**
     * Called from the loop thread: aio_compute_timeout, with the main loop's guest's when it has
     * hooks; 0 if something is ready, -1 if nothing is due.
     */
    private long timeoutNs(PollHooks hooks) {
        long timeout = work.timeoutNs();
        if (timeout != 0) {
            timeout = earliest(timeout, hooks.timeoutNs());
        }
        return timeout;
    }

    /** The earlier of two timeouts, -1 standing for none. */
    public static long earliest(long a, long b) {
        if (a < 0) {
            return b;
        }
        return b < 0 ? a : Math.min(a, b);
    }


    /** Called from the loop thread: how the next wait would block with {@code table}. */
    static int waitMode(FdTable table) {
        return table != null && table.hasChannels() ? WAIT_SELECT : WAIT_PARK;
    }

    /** Called from the loop thread: remembers who blocks, for wakers in park mode. */
    void setWaiter(Thread me) {
        if (waiter != me) {
            waiter = me; // rarely written: it shares a cache line with what wakers read
        }
    }

    /**
     * For asserts: whether the caller is the thread that set itself as the waiter of this wait.
     * The context's claim hands the loop from one polling thread to the next; setWaiter comes first
     * in every wait, so the steps after it must be on that same thread.
     */
    private boolean inWaitingThread() {
        return waiter == Thread.currentThread();
    }

    /** Called from the loop thread: whether a notifyEvent() is pending (ctx->notified). */
    private boolean notified() {
        return (int) NOTIFIED.getVolatile(this) != 0;
    }

    /**
     * Called from the loop thread before a busy poll computes its wait: a change published before
     * this point is in what the loop reads next, one after it ends the busy poll.
     */
    private void clearPoked() {
        if ((int) POKED.getVolatile(this) != 0) {
            POKED.setVolatile(this, 0);
        }
    }

    /**
     * Called from the loop thread: spins over the ioPoll functions (AioHandler io_poll) and the
     * context's own notifications for up to {@code budgetNs}. Returns true when one reports work
     * (then the loop does not block); false when the time is up or another thread changed what the
     * loop waits for, or the thread is interrupted (then the loop recomputes its wait).
     *
     * A polling function that throws is reported to the guard and counts as having found no work.
     */
    private boolean busyPoll(FdTable table, long start, long budgetNs) {
        assert inWaitingThread();
        boolean handlers = table != null && table.hasPollHandlers();
        do {
            if (handlers && table.runPollHandlersOnce(guard)) {
                return true;
            }
            if (work.queuedSinceMark() || (int) NOTIFIED.getVolatile(this) != 0) {
                return true;
            }
            if ((int) POKED.getVolatile(this) != 0 || Thread.currentThread().isInterrupted()) {
                return false; // recompute the wait; an interrupt ends it (see block)
            }
            Thread.onSpinWait();
        } while (System.nanoTime() - start < budgetNs);
        return false;
    }

    /**
     * Called from the loop thread: announces that it is about to block in {@code mode} (QEMU's
     * {@code notify_me}). Every check for work comes after this store; see runtime/DESIGN.md, "The
     * notify/kick handshake".
     */
    void announce(int mode) {
        assert inWaitingThread();
        assert mode == WAIT_PARK || mode == WAIT_SELECT : mode;
        NOTIFY_ME.setVolatile(this, mode);
    }

    /**
     * Called from the loop thread after {@link #announce} when building the poll set added the
     * first channel or removed the last: switches the announcement from {@code from} to {@code to}
     * so that a waker wakes the right way. Returns false if a waker cleared it meanwhile (the loop
     * must then not block). A waker that read {@code from} and loses its CAS to this one reads the
     * new mode and wakes that way (see wake()).
     */
    boolean reannounce(int from, int to) {
        return NOTIFY_ME.compareAndSet(this, from, to);
    }

    /** Called from any thread, for tests: the current announcement (NOT_WAITING, WAIT_PARK, WAIT_SELECT). */
    int announcement() {
        return (int) NOTIFY_ME.getVolatile(this);
    }

    /**
     * Called from the loop thread: blocks until woken, a channel is ready, the timeout ({@code -1}:
     * none) passes or the thread is interrupted. Spurious returns of park or select are absorbed.
     * In select mode the channels are always looked at before it returns, once at least: a wait
     * that a waker ends before it blocks still collects what is ready (QEMU's aio_poll polls its
     * fds after an aio_notify too, with no timeout).
     */
    private void block(int mode, FdTable table, long timeoutNs) {
        assert inWaitingThread();
        assert mode == WAIT_PARK || table != null;
        long deadline = System.nanoTime() + timeoutNs;
        Thread me = Thread.currentThread();
        boolean selected = false;
        for (;;) {
            if ((int) NOTIFY_ME.getVolatile(this) == NOT_WAITING) {
                // NOTE: a waker cleared the announcement: something is there. A waker may do so
                // after the poll set was built and before the first select (a channel update whose
                // waker was descheduled between its poke and its read of the announcement): the
                // channels ready now are collected anyway, or a readable channel would wait for
                // the next poll (and a next poll that busy-polls functions that see nothing would
                // never look: issue 14's lost handler, third form). After a select, what it
                // collected stands (the waker's Selector.wakeup() ended it).
                lookIfNotSelected(mode, table, selected);
                return;
            }
            if (me.isInterrupted()) {
                // NOTE: the channels are still looked at: the status stays set, and an interrupted
                // thread that goes on polling must not starve its handlers.
                if (mode == WAIT_SELECT) {
                    table.selectNow();
                }
                return;
            }
            long remaining = -1;
            if (timeoutNs > 0) {
                remaining = deadline - System.nanoTime();
                if (remaining <= 0) {
                    // NOTE: a timeout shorter than the way here (a timer due now) still looks at the
                    // channels once, as ppoll with any timeout reports the ready fds
                    lookIfNotSelected(mode, table, selected);
                    return;
                }
            }
            if (mode == WAIT_PARK) {
                if (remaining < 0) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, remaining);
                }
            } else {
                selected = true;
                if (table.select(remaining)) {
                    return;
                }
            }
        }
    }

    /**
     * Called from the loop thread by a wait about to return: in select mode, a wait that has not
     * selected yet collects the channels ready now (one selectNow), so that no wait ends without
     * looking at its channels.
     */
    private static void lookIfNotSelected(int mode, FdTable table, boolean selected) {
        if (mode == WAIT_SELECT && !selected) {
            table.selectNow();
        }
    }

    /**
     * Called from the loop thread by a blocking poll that does not wait (it has a bottom half to
     * run): accepts the pending notification (aio_notify_accept), as the end of a wait does. A
     * notify that sets the flag after this read is served by the next wait.
     */
    public void acceptNotification() {
        if ((int) NOTIFIED.getVolatile(this) != 0) {
            NOTIFIED.setVolatile(this, 0);
        }
    }

    /** Called from any thread, for tests: whether a notifyEvent() waits to be accepted. */
    public boolean notificationPending() {
        return notified();
    }

    /**
     * Called from the loop thread when the wait is over (blocked or not): withdraws the announcement
     * and accepts the pending notification (aio_notify_accept).
     */
    private void endWait() {
        assert inWaitingThread();
        // NOTE: both stores are skipped when they would change nothing, and the first needs no
        // fence: other threads read these fields at every schedule, and a store to their cache
        // line makes each of them miss. Only the loop sets a wait mode, so a NOT_WAITING read
        // here (a waker cleared it) stays so. A stale mode that a waker reads in the meantime
        // costs one spurious wake-up of the next wait, which block() absorbs.
        if ((int) NOTIFY_ME.getVolatile(this) != NOT_WAITING) {
            NOTIFY_ME.setRelease(this, NOT_WAITING);
        }
        // aio_notify_accept: a notify from before this point has been served by this wait. One
        // that sets the flag after this read is served by the next wait instead.
        if ((int) NOTIFIED.getVolatile(this) != 0) {
            NOTIFIED.setVolatile(this, 0);
        }
    }

    // ---------------------------------------------------------------------------------------
    // The wakers' side

    /**
     * Called from any thread after changing what the loop waits for (a timer, a channel): ends a
     * busy poll in progress, which then recomputes its wait, and wakes the loop if it is blocked
     * (QEMU's aio_notify from timerlist_notify or aio_set_fd_handler). The caller has published the
     * change, with a full fence, before calling.
     */
    public void notifyChange() {
        Poller target = waitedForBy;
        if ((int) POKED.getVolatile(target) == 0) {
            POKED.setVolatile(target, 1);
        }
        target.wake();
    }

    /**
     * Called from any thread: makes the next blocking poll (or the one in progress) return ({@code
     * aio_notify}). No system call unless the loop is blocked.
     */
    public void notifyEvent() {
        NOTIFIED.setVolatile(this, 1);
        kick();
    }

    /**
     * Called from any thread after publishing work (a bottom half, a coroutine): wakes the poller if
     * it announced it is blocking (QEMU's aio_notify minus the notified flag). Cheap when it is not:
     * one volatile read.
     */
    public void kick() {
        waitedForBy.wake();
    }

    private void wake() {
        for (;;) {
            int mode = (int) NOTIFY_ME.getVolatile(this);
            if (mode == NOT_WAITING) {
                return; // nobody blocks, or another waker cleared it and wakes the loop
            }
            // NOTE: only the waker that clears the announcement makes the system call. A stale wake
            // (the poller already left) costs the next wait one spurious return, which block()
            // absorbs.
            if (NOTIFY_ME.compareAndSet(this, mode, NOT_WAITING)) {
                if (mode == WAIT_PARK) {
                    LockSupport.unpark(waiter);
                } else {
                    fds.wakeup();
                }
                return;
            }
            // NOTE: the CAS failed: another waker cleared the announcement (the next read sees
            // NOT_WAITING), or the loop switched it with reannounce() after applying the fd updates
            // published before ours. Then the loop may block in the new mode without our change:
            // read it again and wake that way. The loop switches at most once per wait, so this
            // retries rarely, and only on contention (pairs with the CAS in reannounce).
        }
    }
}
