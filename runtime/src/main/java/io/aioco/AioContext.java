package io.aioco;

import io.aioco.internal.CoStack;
import io.aioco.internal.loop.AdaptivePolling;
import io.aioco.internal.loop.FdTable;
import io.aioco.internal.loop.LoopThreads;
import io.aioco.internal.loop.TimerGroup;
import io.aioco.internal.loop.VirtualClock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.SelectableChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntSupplier;

/**
 * An event loop: QEMU's {@code AioContext} ({@code block/aio.h}, {@code util/async.c}, {@code
 * util/aio-posix.c}). It owns bottom halves, timers, fd handlers, event-notifier handlers and a
 * thread pool, and runs their callbacks on whichever thread calls {@link #poll(boolean)}.
 *
 * <p><b>Threads.</b> One thread at a time polls a context (its <em>loop thread</em>: an {@link
 * IOThread}'s, the main loop's, or any thread driving it by hand); everything the context calls
 * back runs there. A thread may poll the context again from inside a callback (nested, as QEMU's
 * {@code AIO_WAIT_WHILE}). Methods that register or schedule things may be called from any thread.
 *
 * <p><b>Waking.</b> A blocking poll first announces that it is about to block (QEMU's {@code
 * notify_me}), then checks for work, then blocks. Whoever adds work (a bottom half, a timer that
 * becomes the earliest, a handler) reads the announcement after publishing the work and wakes the
 * loop only if it is blocked, so that scheduling from a thread costs no system call while the loop
 * is busy. At most one waker per wait makes the system call: the first to clear the announcement.
 * The loop blocks in {@link LockSupport#parkNanos} while it has no channels, and in an NIO
 * selector otherwise.
 *
 * <p><b>Errors.</b> An exception thrown by a callback propagates out of {@link #poll(boolean)};
 * the context stays usable and what was still pending stays pending. Registering on a closed
 * context throws {@link IllegalStateException}.
 */
public final class AioContext implements AutoCloseable {
    /** How long a blocking poll waits at most while only idle bottom halves are scheduled. */
    static final long IDLE_BH_TIMEOUT_NS = 10_000_000;

    // notifyMe values: what the poller blocks in, which tells a waker how to wake it.
    private static final int NOT_WAITING = 0;
    private static final int WAIT_PARK = 1;
    private static final int WAIT_SELECT = 2;

    private static final VarHandle NOTIFY_ME;
    private static final VarHandle NOTIFIED;
    private static final VarHandle POKED;
    private static final VarHandle POLLING_THREAD;
    private static final VarHandle SCHEDULED_COROUTINES;
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            NOTIFY_ME = l.findVarHandle(AioContext.class, "notifyMe", int.class);
            NOTIFIED = l.findVarHandle(AioContext.class, "notified", int.class);
            POKED = l.findVarHandle(AioContext.class, "poked", int.class);
            POLLING_THREAD = l.findVarHandle(AioContext.class, "pollingThread", Thread.class);
            SCHEDULED_COROUTINES = l.findVarHandle(AioContext.class, "scheduledCoroutines", Coroutine.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final String name;

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

    /** The thread inside poll() right now, else null. */
    @SuppressWarnings("unused") // accessed through POLLING_THREAD
    private volatile Thread pollingThread;

    /** The thread blocked (park mode); written before notifyMe is set, read by wakers after. */
    private Thread waiter;

    private volatile boolean closed;
    private final BooleanSupplier open = () -> !closed;

    /**
     * The bottom halves waiting to run: the shared list other threads push on, and the loop-owned
     * ring (its own object: see BottomHalfQueue for the layout).
     */
    final BottomHalfQueue bhq = new BottomHalfQueue();

    private final TimerGroup timers = new TimerGroup();
    private final Runnable virtualClockListener = this::virtualClockChanged;
    private boolean listensToVirtualClock; // guarded by timers' lock holder: see ensureVirtualListener

    private volatile FdTable fds;
    private final AdaptivePolling polling = new AdaptivePolling();
    private volatile ThreadPool threadPool;

    /** Main loop: the context whose wait also covers this one (iohandler -> main), else null. */
    private AioContext host;
    /** Main loop: the context this one's wait also covers (main -> iohandler), else null. */
    private AioContext guest;

    // The per-thread state of the last polling thread, to save a ThreadLocal lookup per poll.
    private Thread stateThread;
    private CoStack.Carrier stateCache;

    /**
     * Coroutines scheduled to run here ({@code aio_co_schedule}) and not yet taken by the loop: a
     * Treiber stack through {@code Coroutine.scheduledNext}, newest first. Pushed by any thread
     * (CAS), taken whole by {@link #runScheduledCoroutines()} (getAndSet).
     */
    @SuppressWarnings("unused") // accessed through SCHEDULED_COROUTINES
    private volatile Coroutine scheduledCoroutines;
    /** Taken from the stack, oldest first, not yet entered (one threw). Loop thread only. */
    private final java.util.ArrayDeque<Coroutine> coroutinesToRun = new java.util.ArrayDeque<>();
    /** Runs the scheduled coroutines (QEMU's {@code co_schedule_bh}). */
    private final BottomHalf coScheduleBh;

    private AioContext(String name) {
        this.name = name;
        this.coScheduleBh = new BottomHalf(this, this::runScheduledCoroutines, 0);
    }

    /**
     * Creates a context ({@code aio_context_new}). No thread runs it: poll it, or use an {@link
     * IOThread}. Called from any thread.
     */
    public static AioContext create() {
        return new AioContext("AioContext-" + NEXT_ID.incrementAndGet());
    }

    /** Creates a named context (IOThread, main loop). */
    static AioContext create(String name) {
        return new AioContext(name);
    }

    /**
     * The calling thread's context ({@code qemu_get_current_aio_context}): in an {@link IOThread},
     * its context; on the thread that called {@link MainLoop#init()}, the main context; on any other
     * thread, the context it is polling right now; else null. Called from any thread.
     */
    public static AioContext current() {
        return LoopThreads.current();
    }

    /** Called from the main loop's initialization: makes this context's waits cover {@code guest}. */
    void attachGuest(AioContext guest, FdTable guestFds) {
        this.guest = guest;
        guest.host = this;
        guest.fds = guestFds;
    }

    /** Called from the main loop's initialization: gives this context its fd table up front. */
    void useFdTable(FdTable table) {
        this.fds = table;
    }

    // ---------------------------------------------------------------------------------------
    // Polling

    /**
     * Runs what is ready: bottom halves, fd and notifier handlers, timers due ({@code aio_poll}).
     * With {@code blocking}, first waits until something is ready, a timer is due or {@link
     * #notifyEvent()} is called; a bare notify makes it return false. Without, never blocks.
     *
     * <p>Called by the loop thread: any thread, but only one at a time; the same thread may call it
     * again from inside a callback (the nested call may block). Thread interruption ends a wait
     * early, leaving the interrupt status set.
     *
     * @return whether progress was made: a handler, a timer or a bottom half that is not idle ran
     * @throws IllegalStateException if another thread is polling this context, or it is closed
     * @throws RuntimeException (or Error) thrown by a callback; the context stays usable
     */
    public boolean poll(boolean blocking) {
        return poll(blocking, null, false);
    }

    /** What the main loop does around the blocking wait itself: release and retake the big lock. */
    interface WaitHooks {
        void beforeWait();

        void afterWait();
    }

    /** Called from the loop thread. {@code serveGuest}: the main loop's wait also covers the guest. */
    boolean poll(boolean blocking, WaitHooks hooks, boolean serveGuest) {
        Thread me = Thread.currentThread();
        boolean outermost = enterPoll(me);
        CoStack.Carrier state = threadState(me);
        AioContext outerPolling = state.polling;
        state.polling = this;
        try {
            return pollOnce(me, blocking, hooks, serveGuest);
        } finally {
            state.polling = outerPolling;
            if (outermost) {
                // Pairs with the compareAndSet in enterPoll of the next poller.
                POLLING_THREAD.setRelease(this, null);
            }
        }
    }

    /** Called from any thread: claims the context for polling; returns whether the claim is new. */
    private boolean enterPoll(Thread me) {
        Thread owner = (Thread) POLLING_THREAD.getAcquire(this);
        if (owner == me) {
            checkOpen();
            return false;
        }
        if (owner != null || !POLLING_THREAD.compareAndSet(this, null, me)) {
            throw new IllegalStateException(this + " is being polled by " + pollingThread
                    + "; " + me + " may not poll it at the same time");
        }
        if (closed) {
            POLLING_THREAD.setRelease(this, null);
            checkOpen();
        }
        return true;
    }

    /**
     * Called from an IOThread's own thread before its loop (iothread_run): claims the context for
     * as long as the loop runs, so that each of its polls is a nested one that neither claims nor
     * releases it. Saves a compare-and-set and a store per poll, and keeps the claim's cache line
     * (read by other threads at every schedule) unwritten. Returns false, claiming nothing, if
     * another thread polls the context (then each poll claims it, and fails, as without this).
     */
    boolean claimForLoop() {
        Thread me = Thread.currentThread();
        if (!POLLING_THREAD.compareAndSet(this, null, me)) {
            return false;
        }
        if (closed) {
            POLLING_THREAD.setRelease(this, null);
            return false;
        }
        return true;
    }

    /** Called from the IOThread's own thread when its loop ends, after claimForLoop returned true. */
    void releaseLoopClaim() {
        // Pairs with the compareAndSet of the next poller or closer.
        POLLING_THREAD.setRelease(this, null);
    }

    /** Called from the loop thread. */
    private CoStack.Carrier threadState(Thread me) {
        if (stateThread != me) {
            stateCache = LoopThreads.state();
            stateThread = me;
        }
        return stateCache;
    }

    /** Called from the loop thread: one aio_poll. */
    private boolean pollOnce(Thread me, boolean blocking, WaitHooks hooks, boolean serveGuest) {
        FdTable table = fds;
        if (table != null) {
            table.applyUpdates();
            if (serveGuest && guest != null) {
                guest.fds.applyUpdates();
                guest.fds.refreshInterest();
            }
        }
        if (blocking) {
            waitForEvents(me, table, hooks, serveGuest);
        } else if (table != null) {
            table.serveGuests(serveGuest);
            table.selectNow();
            table.serveGuests(false);
        }
        if (closed) {
            return false;
        }
        boolean progress = bhq.dispatch();
        if (table != null && !closed) {
            progress |= table.dispatch(open);
        }
        if (!closed) {
            progress |= timers.runDue(open);
        }
        return progress;
    }

    /**
     * Called from the loop thread: the blocking part of aio_poll. With adaptive polling on, first
     * busy-polls for up to the poll time, before announcing the wait (QEMU's try_poll_mode comes
     * before notify_me is raised: a waker meanwhile makes no system call, and the poll sees what it
     * published). Then announces the wait, checks for work, and blocks.
     */
    private void waitForEvents(Thread me, FdTable table, WaitHooks hooks, boolean serveGuest) {
        int mode = table != null && table.hasChannels() ? WAIT_SELECT : WAIT_PARK;
        if (waiter != me) {
            waiter = me; // rarely written: it shares a cache line with what wakers read
        }
        // NOTE: no busy poll while a channel has no polling function: its events would wait.
        boolean adaptive = polling.enabled() && (table == null || table.allPollable());
        long pollStart = 0;
        long budget = 0;
        boolean polledWork = false;
        if (adaptive) {
            pollStart = System.nanoTime();
            long pollNs = polling.budgetNs(-1);
            if (pollNs > 0 && (int) NOTIFIED.getVolatile(this) == 0) {
                // NOTE: cleared before the timeout is computed: a change published before this
                // point is in what computeTimeoutNs reads, one after it ends the poll.
                if ((int) POKED.getVolatile(this) != 0) {
                    POKED.setVolatile(this, 0);
                }
                long untilDeadline = computeTimeoutNs(serveGuest);
                if (untilDeadline == 0) {
                    polledWork = true;
                } else {
                    budget = untilDeadline < 0 ? pollNs : Math.min(pollNs, untilDeadline);
                    polledWork = busyPoll(table, pollStart, budget);
                }
            }
        }
        // NOTE: the announcement comes before every check below. A producer publishes its work
        // first and reads notifyMe after (pushBottomHalf, timerMod, ...); both sides use volatile
        // accesses, which are totally ordered, so either we see the work here or the producer sees
        // the announcement and wakes us. This is QEMU's notify_me / smp_mb() pairing.
        NOTIFY_ME.setVolatile(this, mode);
        long timeoutNs = polledWork || (int) NOTIFIED.getVolatile(this) != 0 ? 0 : computeTimeoutNs(serveGuest);
        if (table != null) {
            table.serveGuests(serveGuest);
        }
        try {
            if (timeoutNs == 0) {
                if (table != null) {
                    table.selectNow();
                }
            } else {
                if (hooks != null) {
                    hooks.beforeWait();
                }
                try {
                    block(mode, table, timeoutNs);
                } finally {
                    if (hooks != null) {
                        hooks.afterWait();
                    }
                }
            }
        } finally {
            if (table != null) {
                table.serveGuests(false);
            }
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
        if (adaptive && (budget > 0 || timeoutNs != 0)) {
            // Only waits count (a poll that found work at once says nothing about how long to poll).
            polling.adjust(System.nanoTime() - pollStart);
        }
    }

    /**
     * Called from the loop thread: spins over the ioPoll functions (AioHandler io_poll) and the
     * context's own notifications for up to {@code budgetNs}. Returns true when one reports work
     * (then the loop does not block); false when the time is up or another thread changed what the
     * loop waits for, or the thread is interrupted (then the loop recomputes its wait).
     */
    private boolean busyPoll(FdTable table, long start, long budgetNs) {
        int localSeen = bhq.localSchedules();
        boolean handlers = table != null && table.hasPollHandlers();
        do {
            if (handlers && table.runPollHandlersOnce()) {
                return true;
            }
            if (bhq.hasShared() || (int) NOTIFIED.getVolatile(this) != 0
                    || bhq.localSchedules() != localSeen) {
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
     * Called from the loop thread: blocks until woken, a channel is ready, the timeout ({@code -1}:
     * none) passes or the thread is interrupted. Spurious returns of park or select are absorbed.
     */
    private void block(int mode, FdTable table, long timeoutNs) {
        long deadline = System.nanoTime() + timeoutNs;
        Thread me = Thread.currentThread();
        for (;;) {
            if ((int) NOTIFY_ME.getVolatile(this) == NOT_WAITING) {
                return; // a waker cleared the announcement: something is there
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
                    return;
                }
            }
            if (mode == WAIT_PARK) {
                if (remaining < 0) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, remaining);
                }
            } else if (table.select(remaining)) {
                return;
            }
        }
    }

    /**
     * Called from any thread after changing what the loop waits for (a timer, a channel): ends a
     * busy poll in progress, which then recomputes its wait, and wakes the loop if it is blocked
     * (QEMU's aio_notify from timerlist_notify or aio_set_fd_handler).
     */
    private void notifyChange() {
        AioContext target = host != null ? host : this;
        if ((int) POKED.getVolatile(target) == 0) {
            POKED.setVolatile(target, 1);
        }
        kick(target);
    }

    /**
     * Called from any thread: wakes the poller if it announced it is blocking (QEMU's aio_notify
     * minus the notified flag). Cheap when it is not: one volatile read.
     */
    void kick() {
        kick(host != null ? host : this);
    }

    /** @param target the context whose poller runs this one's loop: its host, or itself */
    private static void kick(AioContext target) {
        int mode = (int) NOTIFY_ME.getVolatile(target);
        // NOTE: only the waker that clears the announcement makes the system call; the others see
        // NOT_WAITING (or lose the CAS) and return. A stale wake (the poller already left) costs the
        // next wait one spurious return, which block() absorbs.
        if (mode != NOT_WAITING && NOTIFY_ME.compareAndSet(target, mode, NOT_WAITING)) {
            if (mode == WAIT_PARK) {
                LockSupport.unpark(target.waiter);
            } else {
                target.fds.wakeup();
            }
        }
    }

    /**
     * Wakes the context if it is blocked in {@link #poll(boolean)}, which then returns (false if
     * nothing else happened); if it is not blocked, its next blocking poll returns at once ({@code
     * aio_notify}). Called from any thread; no system call unless the loop is blocked.
     */
    public void notifyEvent() {
        if (closed) {
            return;
        }
        NOTIFIED.setVolatile(this, 1);
        kick();
    }

    /**
     * Called from the loop thread, before a busy poll and after announcing the wait:
     * aio_compute_timeout.
     */
    private long computeTimeoutNs(boolean serveGuest) {
        long timeout = bhq.timeoutNs(IDLE_BH_TIMEOUT_NS);
        if (timeout == 0) {
            return 0;
        }
        timeout = earliest(timeout, timers.timeoutNs());
        if (serveGuest && guest != null && timeout != 0) {
            timeout = earliest(timeout, guest.computeTimeoutNs(false));
        }
        return timeout;
    }

    private static long earliest(long a, long b) {
        if (a < 0) {
            return b;
        }
        return b < 0 ? a : Math.min(a, b);
    }

    // ---------------------------------------------------------------------------------------
    // Bottom halves

    /**
     * Creates a bottom half that runs {@code cb} in this context ({@code aio_bh_new}). Called from
     * any thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    public BottomHalf newBottomHalf(Runnable cb) {
        Objects.requireNonNull(cb, "cb");
        checkOpen();
        return new BottomHalf(this, cb, 0);
    }

    /**
     * Runs {@code cb} once at the context's next poll ({@code aio_bh_schedule_oneshot}), waking it
     * if blocked. Called from any thread; this is also the way to hand work to the context's thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    public void scheduleOneshot(Runnable cb) {
        Objects.requireNonNull(cb, "cb");
        oneshot(cb, true);
    }

    /** Called from any thread: like scheduleOneshot, but silently dropped once the context is closed. */
    boolean tryScheduleOneshot(Runnable cb) {
        return oneshot(cb, false);
    }

    /**
     * Called from any thread. A one-shot bottom half is reachable by nobody else, so its state is
     * set before it is published and never changes: no read-modify-write on its flags, here or when
     * it is dispatched.
     */
    private boolean oneshot(Runnable cb, boolean loud) {
        if (closed) {
            if (loud) {
                throw new IllegalStateException("BottomHalf[" + cb + " in " + this + "] scheduled after its context was closed");
            }
            return false;
        }
        if (inLoopThread()) {
            bhq.append(new BottomHalf(this, cb, BottomHalf.ONESHOT)); // its local state is unused
        } else {
            pushBottomHalf(new BottomHalf(this, cb, BottomHalf.ONESHOT | BottomHalf.PENDING | BottomHalf.SCHEDULED));
        }
        return true;
    }

    /**
     * Called from any thread, by the one that set PENDING: links {@code bh} into the shared list and
     * wakes the loop if it is blocked (aio_bh_enqueue).
     */
    void pushBottomHalf(BottomHalf bh) {
        // The compareAndSet in push is the publication that the poller's check pairs with. Pushed
        // on a non-empty list, no wake-up is needed: see BottomHalfQueue.timeoutNs. A stream of
        // schedules from another thread then reads notifyMe once per drain rather than per schedule.
        if (bhq.push(bh)) {
            kick();
        }
    }

    // ---------------------------------------------------------------------------------------
    // Timers

    /**
     * Creates a timer with nanosecond scale whose callback runs in this context ({@code
     * aio_timer_new}); it starts disarmed. Called from any thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    public Timer newTimer(ClockType type, Runnable cb) {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(cb, "cb");
        checkOpen();
        if (type == ClockType.VIRTUAL) {
            ensureVirtualListener();
        }
        return new Timer(this, type, cb);
    }

    /** Called from any thread. */
    private void ensureVirtualListener() {
        synchronized (timers) {
            if (!listensToVirtualClock && !closed) {
                listensToVirtualClock = true;
                VirtualClock.addListener(virtualClockListener);
            }
        }
    }

    /**
     * Called from the thread that changed the VIRTUAL clock: wakes the loop if a VIRTUAL timer is
     * now due, or if the clock runs (the loop's wait was computed from the old time).
     */
    private void virtualClockChanged() {
        long deadline = timers.virtualDeadline();
        if (deadline != Long.MAX_VALUE && (deadline - VirtualClock.nowNs() <= 0 || !VirtualClock.isPaused())) {
            notifyChange();
        }
    }

    /** Called from any thread (timer_mod_ns). */
    void timerMod(Timer t, long expireNs) {
        if (closed) {
            throw new IllegalStateException(t + " armed after its context was closed");
        }
        boolean earliest = timers.schedule(t.entry, expireNs);
        if (earliest) {
            // NOTE: the full fence makes the store-then-load order explicit: the armed timer is
            // visible before kick() reads notifyMe (the poller announces, then reads the timers).
            VarHandle.fullFence();
            notifyChange();
        }
    }

    /** Called from any thread (timer_del). */
    void timerDel(Timer t) {
        timers.remove(t.entry);
    }

    // ---------------------------------------------------------------------------------------
    // fd handlers, event notifiers, polling parameters, thread pool

    /**
     * Sets the level-triggered handlers of a channel ({@code aio_set_fd_handler}): {@code onRead}
     * runs while the channel is readable (or acceptable), {@code onWrite} while it is writable (or
     * connectable), each at most once per poll. Both null removes the channel's handlers; a removed
     * handler is never called again, even if the removal comes from another handler of the same
     * poll. The channel is made non-blocking. Called from any thread, including from handlers; a
     * change made from another thread takes effect at the loop's next poll (it wakes the loop).
     *
     * @throws IllegalStateException if the context is closed
     * @throws IllegalArgumentException if the channel is closed
     */
    public void setFdHandler(SelectableChannel ch, Runnable onRead, Runnable onWrite) {
        setFdHandler(ch, null, onRead, onWrite, null);
    }

    /**
     * Like {@link #setFdHandler(SelectableChannel, Runnable, Runnable)}, with a userspace polling
     * function (AioHandler {@code io_poll}). When the context has adaptive polling on ({@link
     * #setPollParams}), a blocking poll first spins over the polling functions for up to the current
     * poll time; when {@code ioPoll} returns true the loop does not block and calls {@code onRead}
     * (QEMU's {@code io_poll_ready}). {@code ioPoll} runs on the loop thread and must be cheap.
     */
    public void setFdHandler(SelectableChannel ch, Runnable onRead, Runnable onWrite, BooleanSupplier ioPoll) {
        setFdHandler(ch, null, onRead, onWrite, ioPoll);
    }

    /** Called from any thread; canRead is the main loop's IOCanReadHandler. */
    void setFdHandler(SelectableChannel ch, IntSupplier canRead, Runnable onRead, Runnable onWrite,
                      BooleanSupplier ioPoll) {
        Objects.requireNonNull(ch, "ch");
        checkOpen();
        fdTable().update(ch, canRead, onRead, onWrite, ioPoll);
        // NOTE: as in timerMod, the update is published before the loop's announcement is read.
        VarHandle.fullFence();
        notifyChange();
    }

    private FdTable fdTable() {
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

    /**
     * Sets the handler of an event notifier ({@code aio_set_event_notifier}): while the notifier is
     * set, the handler runs at each poll of this context (level-triggered, as with an eventfd: the
     * handler normally calls {@link EventNotifier#testAndClear()}). Null removes it. Called from any
     * thread.
     *
     * @throws IllegalStateException if the context is closed, the notifier is closed, or it has a
     *     handler in another context
     */
    public void setEventNotifier(EventNotifier n, Consumer<EventNotifier> handler) {
        Objects.requireNonNull(n, "n");
        if (handler != null) {
            checkOpen();
        }
        n.setHandler(this, handler);
    }

    /**
     * Sets adaptive polling ({@code aio_context_set_poll_params}): before blocking, a blocking poll
     * busy-polls the context's {@code ioPoll} functions and its own notifications (bottom halves
     * scheduled and {@link #notifyEvent()} from other threads, timers and channels changed by them:
     * QEMU's context notifier, which has an {@code io_poll} of its own), so that what arrives within
     * the poll time costs neither waker nor loop a system call. The poll time starts at 0, grows by
     * {@code grow} (0: 2) when an event came a little too late for it, shrinks by {@code shrink} (0:
     * back to 0) when waits are longer than {@code maxNs}, and never exceeds {@code maxNs} (0 turns
     * polling off; the default). Called from any thread; applies from the next wait.
     *
     * @throws IllegalArgumentException if an argument is negative, naming it
     */
    public void setPollParams(long maxNs, long grow, long shrink) {
        polling.setParams(maxNs, grow, shrink);
    }

    /** Called from the loop thread: the current adaptive poll time (tests, diagnostics). */
    long currentPollNs() {
        return polling.pollNs();
    }

    // ---------------------------------------------------------------------------------------
    // Coroutines

    /**
     * Schedules {@code co} to be entered in this context from a bottom half ({@code
     * aio_co_schedule}). Called from any thread. The coroutine must have yielded, or be the running
     * coroutine about to yield: a coroutine that schedules itself (to move to this context) is
     * handed over only once it has yielded, so this context's thread cannot enter it while it still
     * runs elsewhere.
     *
     * @param co the coroutine
     * @throws IllegalStateException if it is already scheduled (here or elsewhere), or this context
     *     is closed
     */
    public void coSchedule(Coroutine co) {
        Objects.requireNonNull(co, "co");
        checkOpen();
        co.markScheduled(this);
        if (!co.deferMoveIfRunningHere(this)) {
            pushScheduled(co);
        }
    }

    /** Called from any thread: pushes a coroutine on the scheduled stack and wakes the loop. */
    void pushScheduled(Coroutine co) {
        Coroutine head;
        do {
            head = scheduledCoroutines;
            co.scheduledNext = head; // NOTE: published by the CAS below (release)
        } while (!SCHEDULED_COROUTINES.compareAndSet(this, head, co));
        if (!closed) {
            coScheduleBh.schedule();
        }
    }

    /** The scheduled coroutines' bottom half. Loop thread only. */
    private void runScheduledCoroutines() {
        Coroutine newest = (Coroutine) SCHEDULED_COROUTINES.getAndSet(this, (Coroutine) null);
        if (newest != null) {
            java.util.ArrayDeque<Coroutine> batch = new java.util.ArrayDeque<>();
            for (Coroutine co = newest; co != null; ) {
                Coroutine next = co.scheduledNext;
                co.scheduledNext = null;
                batch.addFirst(co); // oldest first
                co = next;
            }
            coroutinesToRun.addAll(batch);
        }
        Coroutine co;
        while ((co = coroutinesToRun.poll()) != null) {
            co.clearScheduled();
            try {
                co.enter(this);
            } catch (RuntimeException | Error e) {
                if (!coroutinesToRun.isEmpty()) {
                    coScheduleBh.schedule(); // the rest stays pending for the next poll
                }
                throw e;
            }
        }
    }

    /**
     * Enters {@code co} in this context ({@code aio_co_enter}): from another thread or context it
     * is scheduled here ({@link #coSchedule}); on this context's thread from a running coroutine it
     * is entered after that coroutine yields or terminates; otherwise at once. Called from any
     * thread.
     *
     * @param co the coroutine
     */
    public void coEnter(Coroutine co) {
        Objects.requireNonNull(co, "co");
        CoStack.Carrier carrier = CoStack.carrier();
        if (carrier.context() != this) {
            coSchedule(co);
            return;
        }
        co.enterFromContext(this, carrier);
    }

    /**
     * Starts a coroutine that computes a value in this context ({@link #coEnter}) and returns a
     * future of it, completed when the body returns or throws. Beyond QEMU. Called from any thread.
     *
     * @param body the coroutine's code
     * @param <T> the result type
     * @return the future of the body's result
     */
    public <T> java.util.concurrent.CompletableFuture<T> spawn(CoroutineCallable<T> body) {
        Objects.requireNonNull(body, "body");
        io.aioco.internal.SpawnEntry<T> entry = new io.aioco.internal.SpawnEntry<>(body);
        coEnter(Coroutine.create(entry));
        return entry.result();
    }

    /**
     * The context's thread pool ({@code aio_get_thread_pool}), created on first use. Called from any
     * thread.
     *
     * @throws IllegalStateException if the context is closed
     */
    public ThreadPool threadPool() {
        checkOpen();
        ThreadPool pool = threadPool;
        if (pool == null) {
            synchronized (this) {
                checkOpen();
                pool = threadPool;
                if (pool == null) {
                    pool = new ThreadPool(this);
                    threadPool = pool;
                }
            }
        }
        return pool;
    }

    // ---------------------------------------------------------------------------------------
    // Lifecycle

    /** Called from any thread. */
    boolean isClosed() {
        return closed;
    }

    /**
     * Called from any thread: whether the calling thread is polling this context right now (or is
     * the IOThread running it, which holds its claim between polls too).
     */
    boolean inLoopThread() {
        return (Thread) POLLING_THREAD.getAcquire(this) == Thread.currentThread();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(this + " is closed");
        }
    }

    /**
     * Closes the context ({@code aio_context_unref}): pending bottom halves, timers, handlers and
     * thread-pool completions are dropped, and nothing is called back after this returns (work
     * already running on pool threads finishes, its completion is dropped). Allowed with work still
     * registered, and from inside one of the context's own callbacks (the poll in progress then
     * returns without running anything more). Idempotent.
     *
     * <p>Called from any thread that is not racing a poll of another thread: to stop a context
     * that an {@link IOThread} runs, close the IOThread.
     *
     * @throws IllegalStateException if another thread is polling the context right now
     */
    @Override
    public void close() {
        Thread me = Thread.currentThread();
        boolean fromLoop = (Thread) POLLING_THREAD.getAcquire(this) == me;
        if (!fromLoop && !POLLING_THREAD.compareAndSet(this, null, me)) {
            if (closed) {
                return;
            }
            throw new IllegalStateException(me + " may not close " + this + " while "
                    + pollingThread + " polls it; stop that loop first");
        }
        try {
            if (closed) {
                return;
            }
            closed = true;
            // From a callback too: the dispatch in progress sees an empty queue and stops.
            bhq.clear();
            timers.clear();
            synchronized (timers) {
                if (listensToVirtualClock) {
                    VirtualClock.removeListener(virtualClockListener);
                }
            }
            FdTable table = fds;
            if (table != null) {
                table.close();
            }
            ThreadPool pool = threadPool;
            if (pool != null) {
                pool.shutdown();
            }
        } finally {
            if (!fromLoop) {
                POLLING_THREAD.setRelease(this, null);
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
