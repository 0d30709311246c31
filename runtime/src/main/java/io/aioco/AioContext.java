package io.aioco;

import io.aioco.internal.Carrier;
import io.aioco.internal.CoStack;
import io.aioco.internal.loop.CallbackGuard;
import io.aioco.internal.loop.FdTable;
import io.aioco.internal.loop.PollHooks;
import io.aioco.internal.loop.Poller;
import io.aioco.internal.loop.TimerGroup;
import io.aioco.internal.loop.VirtualClock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.SelectableChannel;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
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
 * The loop blocks in {@link java.util.concurrent.locks.LockSupport#parkNanos} while it has no channels, and in an NIO
 * selector otherwise.
 *
 * <p><b>Errors.</b> One callback's exception never keeps the loop from the others: the poll goes
 * on with the rest of its bottom halves, fd handlers and timers, and a callback that throws every
 * time (a level-triggered handler that fails before clearing its condition) is called again at
 * each poll, as QEMU would. Then, in a poll run by hand, the first exception of the poll propagates
 * out of {@link #poll(boolean)} (the context stays usable); any later one of that poll is logged.
 * In a loop aioco runs (an {@link IOThread}, {@link MainLoop#waitOnce}), each exception is logged
 * (logger {@code io.aioco}, WARNING) naming the callback (bottom half, fd handler and its channel,
 * or timer) and the context, and is passed to the thread's uncaught-exception handler. Either way
 * the reports are rate-limited per callback class: the 1st, 10th, 100th, ... failure is reported,
 * with the count, so a callback failing at every poll cannot flood the log. Registering on a closed
 * context throws {@link IllegalStateException}.
 *
 * <p><b>Interrupts.</b> In a loop aioco runs, an interrupt status a callback leaves on the thread
 * is cleared as soon as that callback returns (the first one is logged), so it never reaches the
 * next callback, whose NIO channels it would close. A poll run by hand leaves the status alone.
 */
public final class AioContext implements AutoCloseable {
    /** How long a blocking poll waits at most while only idle bottom halves are scheduled. */
    static final long IDLE_BH_TIMEOUT_NS = 10_000_000;

    private static final VarHandle POLLING_THREAD;
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    static {
        try {
            POLLING_THREAD = MethodHandles.lookup().findVarHandle(AioContext.class, "pollingThread", Thread.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        AioContextTestAccess.install();
    }

    private final String name;

    /**
     * The carrier of the thread that runs this context's loop (an IOThread's, the main loop's), or
     * null: coroutine dumps read what it runs from it, as the carrier cache may have lost that
     * thread's slot to another thread. Written once by the loop thread as it starts, read racily.
     */
    volatile io.aioco.internal.Carrier loopCarrier;
    /** The context's own time, the test kit's (see TestTime), else null: the machine's clocks. */
    private final io.aioco.internal.loop.TestTime testTime;

    /** The thread inside poll() right now, else null. */
    @SuppressWarnings("unused") // accessed through POLLING_THREAD
    private volatile Thread pollingThread;

    private volatile boolean closed;
    /** Taken by closers from other threads (see close). */
    private final Object closeLock = new Object();
    private final BooleanSupplier open = () -> !closed;

    /**
     * Waiting and waking, the fd table and adaptive polling (QEMU's aio-posix.c, fdmon): the wait
     * of a blocking poll is the poller's (Poller.waitForEvents).
     */
    private final Poller poller;

    /**
     * The bottom halves waiting to run: the shared list other threads push on, and the loop-owned
     * ring (its own object: see BottomHalfQueue for the layout).
     */
    final BottomHalfQueue bhq = new BottomHalfQueue();

    final TimerGroup timers;
    private final Runnable virtualClockListener = this::virtualClockChanged;
    private boolean listensToVirtualClock; // guarded by timers' lock holder: see ensureVirtualListener

    volatile ThreadPool threadPool;

    // The per-thread state of the last polling thread, to save a ThreadLocal lookup per poll.
    private Thread stateThread;
    private Carrier stateCache;

    /** Reports callbacks' failures and clears stray interrupts around each callback. */
    private final Guard guard;
    /** What this loop dispatches now, for the stall detector and JFR (see LoopObserve). */
    final io.aioco.internal.observe.LoopProbe probe;

    /** Test hook, else null: runs in a schedule from another thread between its check and its push. */
    Runnable afterOpenCheck;

    /** Coroutines scheduled here and not yet entered (aio_co_schedule). */
    private final ScheduledCoroutines scheduledCoroutines;
    /** Coroutines waiting on channels here (QIOChannel's read/write_coroutine); see ChannelWaiters. */
    final ChannelWaiters channelWaiters = new ChannelWaiters(this);

    private AioContext(String name) {
        this(name, null);
    }

    /** Called from any thread (here, and by the test kit through AioContextTestAccess). */
    AioContext(String name, io.aioco.internal.loop.TestTime testTime) {
        this.name = name;
        this.testTime = testTime;
        this.timers = new TimerGroup(testTime);
        this.probe = new io.aioco.internal.observe.LoopProbe(name);
        this.guard = new Guard(probe);
        this.poller = new Poller(new PollWork(), guard);
        this.scheduledCoroutines = new ScheduledCoroutines(this);
        CoroutineDump.contextCreated(this);
        LoopObserve.contextCreated(this);
    }

    // ---- for CoroutineDump (any thread, racy, never throws) ----

    /** @return the thread polling it now, else the last one that did, or null */
    Thread loopThreadForDump() {
        Thread polling = pollingThread;
        return polling != null ? polling : stateThread;
    }

    /** @return bottom halves queued */
    int pendingBottomHalvesForDump() {
        return bhq.pendingForDump();
    }

    /** @return timers armed */
    int timersForDump() {
        return timers.armedCount();
    }

    /** @return channels with handlers */
    int handlersForDump() {
        FdTable table = poller.fds();
        return table == null ? 0 : table.handlerCount();
    }

    /** @return coroutines scheduled here and not entered yet */
    java.util.List<Coroutine> scheduledForDump() {
        return scheduledCoroutines.snapshot();
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
        return (AioContext) CoStack.carrier().context();
    }

    /** Called from the main loop's initialization: makes this context's waits cover {@code guest}. */
    void attachGuest(AioContext guest, FdTable guestFds) {
        guest.poller.coveredBy(poller, guestFds);
    }

    /** Called from the main loop's initialization: gives this context its fd table up front. */
    void useFdTable(FdTable table) {
        poller.useFdTable(table);
    }

    /** Called from the loop thread (the main loop's hooks): this context's fd table, or null. */
    FdTable fds() {
        return poller.fds();
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
     * <p>A callback that throws does not stop the poll: the rest of its bottom halves, handlers and
     * timers run, then the first exception propagates (later ones of the same poll are logged, see
     * "Errors" above). A nested poll from a callback of an {@link IOThread} or the main loop reports
     * instead, as its loop does.
     *
     * @return whether progress was made: a handler, a timer or a bottom half that is not idle ran
     * @throws IllegalStateException if another thread is polling this context, or it is closed
     * @throws RuntimeException (or Error) the first thrown by a callback in this poll, after the
     *     poll ran everything else; the context stays usable
     */
    public boolean poll(boolean blocking) {
        return poll(blocking, PollHooks.NONE, false);
    }

    /**
     * Called from the loop thread. {@code hooks}: what the main loop adds to its poll of its main
     * context (MainLoop's PollHooks), else {@link PollHooks#NONE}; a nested poll never uses them.
     * {@code asLoop}: a poll run by a loop of aioco's (IOThread, MainLoop): callbacks' exceptions
     * are reported rather than thrown, and a stray interrupt is cleared after each callback; nested
     * polls from its callbacks inherit this.
     */
    boolean poll(boolean blocking, PollHooks hooks, boolean asLoop) {
        io.aioco.internal.loop.TestTime time = testTime;
        if (time == null) {
            if (!io.aioco.internal.loop.TestTime.anyBound()) {
                return pollClaimed(blocking, hooks, asLoop);
            }
            // NOTE: a context of the machine's clocks polled from inside one with its own time
            // (a nested poll): its callbacks read the machine's clocks, as its timers do
            io.aioco.internal.loop.TestTime outer = io.aioco.internal.loop.TestTime.bind(null);
            try {
                return pollClaimed(blocking, hooks, asLoop);
            } finally {
                io.aioco.internal.loop.TestTime.restore(null, outer);
            }
        }
        // NOTE: the polling thread reads the context's own time for the length of the poll, so
        // that every callback and coroutine run here sees it (ClockType.nowNs, CoSleep, timeouts)
        io.aioco.internal.loop.TestTime outer = io.aioco.internal.loop.TestTime.bind(time);
        try {
            return pollClaimed(blocking, hooks, asLoop);
        } finally {
            io.aioco.internal.loop.TestTime.restore(time, outer);
        }
    }

    /** Called from the loop thread: poll() with the thread's clocks already set. */
    private boolean pollClaimed(boolean blocking, PollHooks hooks, boolean asLoop) {
        Thread me = Thread.currentThread();
        boolean outermost = enterPoll(me);
        Carrier state = threadState(me);
        Object outerPolling = state.polling;
        state.polling = this;
        // NOTE: per poll, not per dispatch: a callback polling its own context (nested) leaves the
        // probe idle meanwhile (the inner poll runs the context's work); one polling ANOTHER context
        // stays in its callback: its context runs nothing meanwhile (the watcher reports only the
        // innermost of a thread's stalls). The probe is saved by its own state, not by the thread's
        // innermost context: a callback of this context that polls another, whose callback polls
        // this one, is a dispatch of this probe too (rv17c finding 6: it was marked idle and lost).
        // Only this thread writes the probe (it holds the claim), and between polls it has no
        // callback (its kind stays: LoopProbe.pollEnded), so an outermost poll saves nothing.
        io.aioco.internal.observe.LoopProbe outerProbe = probe.what == null ? null : probe;
        int outerKind = outerProbe == null ? 0 : outerProbe.kind();
        Object outerWhat = outerProbe == null ? null : outerProbe.what;
        Object outerEvent = outerProbe == null ? null : outerProbe.event;
        int outerDepth = probe.depth;
        int depth = outerPolling == null ? 0 : ((AioContext) outerPolling).probe.depth + 1;
        if (outerDepth != depth) {
            probe.depth = depth; // NOTE: the nesting, for the watcher's innermost stall (rv12)
        }
        if (outerProbe != null) {
            outerProbe.idle();
            outerProbe.event = null;
        }
        probe.pollStarted();
        Guard g = guard;
        boolean outerAsLoop = g.asLoop;
        Throwable outerFailure = g.firstFailure;
        g.asLoop = outerAsLoop || asLoop;
        g.firstFailure = null;
        Throwable failure;
        boolean progress;
        try {
            progress = pollOnce(me, blocking, hooks);
        } finally {
            failure = g.firstFailure;
            g.firstFailure = outerFailure;
            g.asLoop = outerAsLoop;
            state.polling = outerPolling;
            probe.pollEnded();
            if (outerProbe != null && outerWhat != null) {
                outerProbe.depth = outerDepth;
                outerProbe.begin(outerKind, outerWhat); // the rest of the callback counts afresh
                outerProbe.event = outerEvent;
            }
            if (outermost) {
                // Pairs with the compareAndSet in enterPoll of the next poller.
                POLLING_THREAD.setRelease(this, null);
            }
        }
        if (failure != null) {
            throw Guard.<RuntimeException>sneaky(failure);
        }
        return progress;
    }

    /**
     * The context's {@link CallbackGuard}: what the loop does after each callback. Loop thread only
     * (handed from one polling thread to the next with the claim).
     */
    private final class Guard implements CallbackGuard {
        /** Reports are rate-limited per callback class; beyond this many classes, all count as one. */
        private static final int MAX_KEYS = 256;

        /** The poll is run by a loop of aioco's (see poll(boolean, PollHooks, boolean)). */
        boolean asLoop;
        /** In a poll run by hand: the first exception of this poll, thrown when it ends. */
        Throwable firstFailure;
        /** Failures so far per callback class (rate limiting). */
        private final java.util.HashMap<Class<?>, long[]> counts = new java.util.HashMap<>();
        /** Whether a stray interrupt was logged already. */
        private boolean interruptLogged;
        /** The context's probe (a copy of the field: one load less per dispatch). */
        private final io.aioco.internal.observe.LoopProbe probe;

        Guard(io.aioco.internal.observe.LoopProbe probe) {
            this.probe = probe;
        }

        // NOTE: JFR's flag is read at each dispatch (a static field, a plain load), no longer
        // copied here once per poll: the copy cost a read and three stores per poll, and the
        // dispatch reads one field either way. An event whose callback ends after the flag turned
        // off is dropped (left in the probe, cleared by the next dispatch's begin or the poll's end).
        @Override
        public void begin(int kind, Object what) {
            io.aioco.internal.observe.LoopProbe p = probe;
            p.begin(kind, what); // one plain store (see LoopProbe)
            if (io.aioco.internal.observe.JfrOn.callbacks()) {
                p.event = io.aioco.internal.observe.Jfr.beginCallback();
            } else if (p.event != null) {
                // NOTE: an event left by an earlier callback of this poll (the flag turned off during
                // it) must not be committed by this one's end in its name (rv12b): dropped here
                p.event = null;
            }
        }

        @Override
        public void ran() {
            // NOTE: in a loop of aioco's only; one volatile read when the status is clear.
            if (asLoop && Thread.interrupted()) {
                strayInterrupt();
            }
            if (io.aioco.internal.observe.JfrOn.callbacks() && probe.event != null) {
                endEvent();
            }
        }

        /** The JFR long-callback event of the callback that just ended. */
        private void endEvent() {
            io.aioco.internal.observe.LoopProbe p = probe;
            Object event = p.event;
            p.event = null;
            io.aioco.internal.observe.Jfr.endCallback(event, p, p.kind(), p.what);
        }

        @Override
        public void failed(Object callback, String what, Throwable failure) {
            if (io.aioco.internal.observe.JfrOn.callbacks() && probe.event != null) {
                endEvent();
            }
            if (asLoop && Thread.interrupted()) {
                strayInterrupt();
            }
            if (asLoop && closed) {
                // NOTE: the callback closed the loop's own context (or failed because it is closed):
                // the loop ends here, as its IOThread did before on any exception after close.
                return;
            }
            if (!asLoop && firstFailure == null) {
                firstFailure = failure; // thrown when the poll ends, after everything else ran
                return;
            }
            Class<?> key = callback == null ? Object.class : callback.getClass();
            long[] count = counts.get(key);
            if (count == null) {
                if (counts.size() >= MAX_KEYS) {
                    key = Void.class; // all further classes share one counter
                    count = counts.get(key);
                }
                if (count == null) {
                    count = new long[1];
                    counts.put(key, count);
                }
            }
            long n = ++count[0];
            if (!LoopLog.reportedAt(n)) {
                return;
            }
            LoopLog.callbackFailed(AioContext.this, what, n, failure, !asLoop);
            if (asLoop) {
                Thread me = Thread.currentThread();
                try {
                    me.getUncaughtExceptionHandler().uncaughtException(me, failure);
                } catch (RuntimeException e) {
                    // NOTE: a handler that throws must not stop the loop either; it has been logged.
                }
            }
        }

        /** Loop thread: logs the first stray interrupt this context's loop cleared. */
        void strayInterrupt() {
            if (!interruptLogged) {
                interruptLogged = true;
                LoopLog.strayInterrupt(AioContext.this);
            }
        }

        /** Test hook: failures counted so far for callbacks of {@code cls}. */
        long count(Class<?> cls) {
            long[] c = counts.get(cls);
            return c == null ? 0 : c[0];
        }

        @SuppressWarnings("unchecked")
        static <T extends Throwable> T sneaky(Throwable t) throws T {
            throw (T) t;
        }
    }

    /**
     * Called from the loop thread after a callback that runs several (co_schedule_bh entering each
     * scheduled coroutine) ran one: clears a stray interrupt as after any callback.
     */
    void afterCallback() {
        guard.ran();
    }

    /** Called from the loop thread before co_schedule_bh enters {@code co} (stall detector, JFR). */
    void beforeCoroutine(Coroutine co) {
        guard.begin(io.aioco.internal.observe.LoopProbe.COROUTINE, co);
    }

    /** Called from the loop thread (tests): failures counted so far for callbacks of {@code cls}. */
    long callbackFailures(Class<?> cls) {
        return guard.count(cls);
    }

    /** Called from any thread: claims the context for polling; returns whether the claim is new. */
    private boolean enterPoll(Thread me) {
        Thread owner = (Thread) POLLING_THREAD.getAcquire(this);
        if (owner == me) {
            checkOpen();
            return false;
        }
        while (!POLLING_THREAD.compareAndSet(this, null, me)) {
            // NOTE: flushClosedChannels holds the claim for one selectNow only: wait for it
            if (!flushing && POLLING_THREAD.getAcquire(this) != null) {
                throw new IllegalStateException(this + " is being polled by " + pollingThread
                        + "; " + me + " may not poll it at the same time");
            }
            Thread.onSpinWait();
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

    /** Set while {@link #flushClosedChannels} may hold the claim: a poller waits for it instead of failing. */
    private volatile boolean flushing;

    /**
     * Makes this context's selector let go of {@code ch} now, if it is registered and this thread
     * may: for {@link IOThreadGroup#close()} (a closed listener, whose fd and port NIO frees only
     * when the selector deregisters its key, at the selector's next select) and for {@link
     * #setFdHandler} removing a handler (so that {@code configureBlocking(true)} works right after).
     * On the polling thread (a coroutine, a callback), or when no thread polls the context (a main
     * loop that has stopped: this thread claims it for the while), applies the handler changes and
     * flushes the cancelled keys with a selectNow whose readiness is dropped (level-triggered, it is
     * reported again). When another thread polls the context, does nothing: that thread's next
     * select does it. Nothing on a closed context (its selector is closed) or when the context's
     * channels live in another context's selector (the main loop's iohandler context). Any thread.
     */
    void flushRegistration(SelectableChannel ch) {
        Thread me = Thread.currentThread();
        Thread owner = (Thread) POLLING_THREAD.getAcquire(this);
        if (owner == me) {
            flushNow(ch);
            return;
        }
        if (owner != null) {
            return; // polled: its select flushes
        }
        flushing = true;
        boolean claimed = false;
        try {
            if (POLLING_THREAD.compareAndSet(this, null, me)) {
                claimed = true;
                flushNow(ch);
            }
        } finally {
            if (claimed) {
                POLLING_THREAD.setRelease(this, null);
            }
            flushing = false;
        }
    }

    /** Holding the claim: applies the handler changes and, if {@code ch} is still registered, flushes. */
    private void flushNow(SelectableChannel ch) {
        FdTable table = poller.fds();
        if (closed || table == null) {
            return;
        }
        table.applyUpdates();
        if (ch.isRegistered()) {
            table.flushCancelledKeys();
        }
    }

    /**
     * Called from an IOThread's own thread after {@link #claimForLoop} returned true, before its
     * first {@link #loopPoll}: does once what {@link #poll(boolean, PollHooks, boolean)} does at
     * the start of each outermost poll of a loop (the thread's state names this context as the one
     * it polls, callbacks' failures are reported as in a loop), so that each poll of the loop pays
     * only for the poll itself (issue 18 item 4). Undone by {@link #leaveLoop}.
     */
    void enterLoop() {
        assert inLoopThread() : Thread.currentThread() + " enters the loop of " + this + " held by " + pollingThread;
        Carrier state = threadState(Thread.currentThread());
        state.polling = this;
        guard.asLoop = true;
        guard.firstFailure = null;
        probe.depth = 0;
    }

    /** Called from an IOThread's own thread when its loop ends, after {@link #enterLoop}. */
    void leaveLoop() {
        threadState(Thread.currentThread()).polling = null;
        guard.asLoop = false;
    }

    /**
     * Called from an IOThread's own thread between {@link #enterLoop} and {@link #leaveLoop}: one
     * blocking poll of its loop, what {@code poll(true, PollHooks.NONE, true)} does at the outermost
     * level with the claim held. An IOThread's context has no time of its own, and its thread is
     * bound to none at this level (TestTime bindings nest and are undone by the polls that make
     * them), so its clocks need no setting; its probe is idle between polls, so nothing of it is
     * saved; with failures reported, none is thrown.
     *
     * @throws IllegalStateException if the context is closed
     */
    boolean loopPoll() {
        if (closed) {
            checkOpen();
        }
        io.aioco.internal.observe.LoopProbe p = probe;
        p.pollStarted();
        try {
            return pollOnce(Thread.currentThread(), true, PollHooks.NONE);
        } finally {
            p.pollEnded();
        }
    }

    /** Called from the IOThread's own thread when its loop ends, after claimForLoop returned true. */
    void releaseLoopClaim() {
        assert inLoopThread() : Thread.currentThread() + " releases the claim of " + this + " held by " + pollingThread;
        // Pairs with the compareAndSet of the next poller or closer.
        POLLING_THREAD.setRelease(this, null);
    }

    /** Called from the loop thread. */
    private Carrier threadState(Thread me) {
        if (stateThread != me) {
            stateCache = CoStack.carrier();
            stateThread = me;
            probe.polledBy(me); // NOTE: here, not at each poll: the thread changed
        }
        return stateCache;
    }

    /**
     * Called from the loop thread: one aio_poll. Applies the handler changes, then waits (blocking,
     * with nothing ready to run: the poller's wait, with the timeout of what is queued here; else a
     * selectNow if there are channels), then runs what is ready: bottom halves, fd handlers, timers
     * due.
     */
    private boolean pollOnce(Thread me, boolean blocking, PollHooks hooks) {
        assert inLoopThread() : me + " polls " + this + " claimed by " + pollingThread;
        // NOTE: before the updates are applied, so that this poll's select flushes what it drops
        channelWaiters.releaseIdle();
        FdTable table = poller.fds();
        if (table != null) {
            table.applyUpdates();
        }
        // NOTE: QEMU's aio_poll computes its timeout before it raises notify_me, and raises it
        // only when the timeout is not 0 (use_notify_me): a poll that has a bottom half to run
        // (one scheduled again by its own callback, QEMU's usual pattern) looks at its channels
        // with a zero timeout, as a non-blocking poll does, and pays no announcement, no clock read
        // for adaptive polling and no timeout computation after the announcement. Only the bottom
        // halves are looked at here (the timers' part reads clocks under a lock): with none ready,
        // the wait computes the whole timeout as before. The channels (selectNow) and the timers
        // (runDue) below still get their turn at every poll (PollFairnessTest).
        if (blocking && bhq.timeoutNs(IDLE_BH_TIMEOUT_NS) != 0) {
            poller.waitForEvents(me, table, hooks);
            table = poller.fds(); // NOTE: the wait may have found the first handler (see waitForEvents)
        } else {
            if (blocking) {
                // NOTE: a notifyEvent() made before this point is served by this poll, which does
                // not block: accepted, as the wait's end accepts it (aio_notify_accept)
                poller.acceptNotification();
            }
            if (table != null) {
                Poller.pollNow(table, hooks);
            }
        }
        if (closed) {
            return false;
        }
        // NOTE: each step reports a callback's exception to the guard and goes on: one failing
        // callback never keeps the loop from the rest of the batch, the handlers or the timers.
        boolean progress = bhq.dispatch(guard);
        if (table != null && !closed) {
            progress |= table.dispatch(open, guard);
            progress |= table.dispatchClosed(open, guard);
        }
        if (!closed) {
            progress |= timers.runDue(open, guard);
        }
        return progress;
    }

    /**
     * What the poller's wait sees of this context (Poller.Work): the timeout of what is queued
     * here, and the bottom halves scheduled during a busy poll. Loop thread only.
     */
    private final class PollWork implements Poller.Work {
        /** The local schedules counted when the busy poll began. */
        private int mark;

        @Override
        public long timeoutNs() {
            return computeTimeoutNs();
        }

        @Override
        public void markQueued() {
            mark = bhq.localSchedules();
        }

        @Override
        public boolean queuedSinceMark() {
            return bhq.hasShared() || bhq.localSchedules() != mark;
        }
    }

    /**
     * Called from any thread: wakes the poller if it announced it is blocking (QEMU's aio_notify
     * minus the notified flag). Cheap when it is not: one volatile read.
     */
    void kick() {
        poller.kick();
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
        poller.notifyEvent();
    }

    /**
     * Called from the loop thread (this context's, or its host's): aio_compute_timeout. The poller
     * calls it before a busy poll and after announcing the wait.
     */
    long computeTimeoutNs() {
        long timeout = bhq.timeoutNs(IDLE_BH_TIMEOUT_NS);
        if (timeout == 0) {
            return 0;
        }
        return Poller.earliest(timeout, timers.timeoutNs());
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
        Runnable hook = afterOpenCheck;
        if (hook != null) {
            hook.run();
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
        // NOTE: the schedule checked closed before the push; a close that came in between has
        // taken the shared list already, and ours would stay on it, neither run nor reported. A
        // close sets closed before it takes the list, so a push after that take sees closed here
        // and takes the list itself: each bottom half is reported leaked by exactly one taker
        // (DESIGN.md, "Close"). One volatile read per schedule from another thread.
        if (closed) {
            java.util.List<BottomHalf> late = new java.util.ArrayList<>();
            bhq.takeShared(late);
            if (!late.isEmpty()) {
                LoopLog.bottomHalvesLeaked(this, late);
            }
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
        if (type == ClockType.VIRTUAL && testTime == null) {
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
            poller.notifyChange();
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
            poller.notifyChange();
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
     * A removal made on the context's thread, or while no thread polls the context, also takes the
     * channel out of the selector at once (a selectNow flushes its cancelled key), so that {@code
     * configureBlocking(true)} works right after; from another thread, once the loop has polled.
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
        poller.fdTable().update(ch, canRead, onRead, onWrite, ioPoll);
        // NOTE: as in timerMod, the update is published before the loop's announcement is read.
        VarHandle.fullFence();
        poller.notifyChange();
        if (onRead == null && onWrite == null && ch.isRegistered()) {
            // NOTE: the key leaves the selector at its next select: now, if this thread may select
            flushRegistration(ch);
        }
    }

    /**
     * For {@link IOThreadGroup}'s listeners: sets the channel's read handler as {@link
     * #setFdHandler} does, and {@code onClosed} is called once, on this context's thread, at the
     * first poll that finds the channel closed by someone else (NIO reports no close of a
     * registered channel: its handler would never run again), after which it has no handlers. The
     * close does not wake the loop: it is noticed when the loop next polls. Any thread.
     *
     * @throws IllegalStateException if the context is closed
     * @throws IllegalArgumentException if the channel is closed
     */
    void setFdHandlerWatchingClose(SelectableChannel ch, Runnable onRead, Runnable onClosed) {
        Objects.requireNonNull(ch, "ch");
        checkOpen();
        poller.fdTable().updateWatchingClose(ch, onRead, null, onClosed);
        // NOTE: as in setFdHandler, the update is published before the loop's announcement is read
        VarHandle.fullFence();
        poller.notifyChange();
    }

    /**
     * For {@link ChannelWaiters}: sets the channel's handlers for the coroutine waits of this
     * context, watching the directions in {@code watched} ({@link FdTable#READ}, {@link
     * FdTable#WRITE}), as {@link #setFdHandler} does (replacing a user's). Any thread.
     *
     * @return the registration, which {@code owner} changes with {@link #watchFd}
     * @throws IllegalStateException if the context is closed
     * @throws IllegalArgumentException if the channel is closed
     */
    FdTable.Node claimFd(SelectableChannel ch, Object owner, Runnable onRead, Runnable onWrite, int watched) {
        checkOpen();
        FdTable.Node node = poller.fdTable().claim(ch, owner, onRead, onWrite, watched);
        VarHandle.fullFence(); // NOTE: as in setFdHandler
        poller.notifyChange();
        return node;
    }

    /**
     * For {@link ChannelWaiters}: changes the directions a registration made by {@link #claimFd}
     * watches (an interest change: the channel stays registered). Any thread; {@code wake}: the
     * caller may be another thread than the loop's, which must then see the change before it
     * blocks. Nothing on a closed context.
     *
     * @return false if the registration is {@code owner}'s no longer (removed, or replaced by
     *     {@link #setFdHandler}), or the context is closed
     */
    boolean watchFd(FdTable.Node node, Object owner, int watched, boolean wake) {
        FdTable table = poller.fds();
        if (closed || table == null || !table.watch(node, owner, watched)) {
            return false;
        }
        if (wake) {
            VarHandle.fullFence(); // NOTE: as in setFdHandler
            poller.notifyChange();
        }
        return true;
    }

    /**
     * For {@link ChannelWaiters}: removes a registration made by {@link #claimFd} if {@code owner}
     * still owns it. Any thread; allowed on a closed channel; nothing on a closed context (its
     * handlers are gone already).
     */
    void releaseFd(FdTable.Node node, Object owner) {
        releaseFd(node, owner, true);
    }

    /** As {@link #releaseFd(FdTable.Node, Object)}; {@code wake}: false from the loop thread before it polls. */
    void releaseFd(FdTable.Node node, Object owner, boolean wake) {
        FdTable table = poller.fds();
        if (table != null && table.release(node, owner) && wake) {
            VarHandle.fullFence(); // NOTE: as in setFdHandler
            poller.notifyChange();
        }
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
        poller.polling().setParams(maxNs, grow, shrink);
    }

    /** Called from any thread (tests): whether a {@link #notifyEvent()} waits to be accepted by a blocking poll. */
    boolean notificationPending() {
        return poller.notificationPending();
    }

    /** Called from the loop thread: the current adaptive poll time (tests, diagnostics). */
    long currentPollNs() {
        return poller.polling().pollNs();
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

    /** Called from any thread: queues a coroutine to be entered here and wakes the loop. */
    void pushScheduled(Coroutine co) {
        scheduledCoroutines.push(co);
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
        Carrier carrier = CoStack.carrier();
        if (carrier.context() != this) {
            coSchedule(co);
            return;
        }
        co.enterFromContext(this, carrier);
    }

    /**
     * Starts a coroutine that computes a value in this context ({@link #coEnter}) and returns a
     * future of it, completed when the body returns or throws. Beyond QEMU. Called from any thread.
     * The future's {@code cancel(true)} cancels the coroutine ({@link Coroutine#cancel()}): its
     * current or next wait throws {@link java.util.concurrent.CancellationException}; {@code
     * cancel(false)} completes the future only.
     *
     * @param body the coroutine's code
     * @param <T> the result type
     * @return the future of the body's result
     */
    public <T> java.util.concurrent.CompletableFuture<T> spawn(CoroutineCallable<T> body) {
        Objects.requireNonNull(body, "body");
        SpawnEntry<T> entry = new SpawnEntry<>(body);
        Coroutine coroutine = Coroutine.create(entry);
        entry.runIn(coroutine);
        entry.spawnedOn(this);
        coEnter(coroutine);
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
     * already running on pool threads finishes, its completion is dropped; a {@code submitCo} of a
     * coroutine of another context is resumed all the same, see {@link ThreadPool#submitCo}).
     * Allowed with work still registered, and from inside one of the context's own callbacks (the
     * poll in progress then returns without running anything more). Idempotent, also when
     * several threads close at once: each returns once the context is closed.
     *
     * <p>A bottom half still scheduled (and not deleted) is dropped and reported by name in one
     * log line (logger {@code io.aioco}, WARNING), as QEMU reports a leaked BH when a context is
     * finalized; QEMU aborts, aioco logs, since closing with work still registered is allowed.
     *
     * <p>Called from any thread that is not racing a poll of another thread: to stop a context
     * that an {@link IOThread} runs, close the IOThread.
     *
     * @throws IllegalStateException if another thread is polling the context right now
     */
    @Override
    public void close() {
        Thread me = Thread.currentThread();
        if ((Thread) POLLING_THREAD.getAcquire(this) == me) {
            closeClaimed(); // from a callback, or the IOThread's own close
            return;
        }
        // NOTE: closers from other threads go one at a time: a second closer that found the claim
        // taken by the first, not yet done, would otherwise take it for a poller and throw.
        synchronized (closeLock) {
            if (closed) {
                return;
            }
            if (!POLLING_THREAD.compareAndSet(this, null, me)) {
                if (closed) {
                    return; // closed meanwhile by the loop itself
                }
                throw new IllegalStateException(me + " may not close " + this + " while "
                        + pollingThread + " polls it; stop that loop first");
            }
            try {
                closeClaimed();
            } finally {
                POLLING_THREAD.setRelease(this, null);
            }
        }
    }

    /** Called by the thread that holds the context's claim (the loop, or a closer that took it). */
    private void closeClaimed() {
        assert inLoopThread() : Thread.currentThread() + " closes " + this + " without its claim";
        if (closed) {
            return;
        }
        closed = true;
        LoopObserve.contextClosed(this);
        CoroutineDump.contextClosed(this);
        // From a callback too: the dispatch in progress sees an empty queue and stops.
        java.util.List<BottomHalf> leaked = bhq.clear();
        if (!leaked.isEmpty()) {
            LoopLog.bottomHalvesLeaked(this, leaked);
        }
        timers.clear();
        synchronized (timers) {
            if (listensToVirtualClock) {
                VirtualClock.removeListener(virtualClockListener);
            }
        }
        FdTable table = poller.fds();
        if (table != null) {
            table.close();
        }
        ThreadPool pool = threadPool;
        if (pool != null) {
            pool.shutdown();
        }
    }

    /** Called from any thread: whether the context has its own time (the test kit's). */
    boolean hasTestTime() {
        return testTime != null;
    }

    /**
     * Waits of coroutines of this context for futures other threads complete (Coroutine.await),
     * counted only for a context with its own time: the test kit's driver blocks rather than
     * reporting a deadlock while one is in flight (it still moves the time to the next deadline:
     * kotlinx-coroutines-test's rule for work outside the test's dispatcher).
     */
    final AtomicInteger foreignWaits = new AtomicInteger();

    /** Called from the loop thread (FutureWait.publish, Coroutine.await's wait), for a context with its own time. */
    void foreignWaitBegan() {
        foreignWaits.incrementAndGet();
    }

    /**
     * Called from any thread once such a wait ended, after its coroutine was woken: the last one
     * wakes the driver, which may block waiting for it.
     */
    void foreignWaitEnded() {
        if (foreignWaits.decrementAndGet() == 0) {
            notifyEvent();
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
