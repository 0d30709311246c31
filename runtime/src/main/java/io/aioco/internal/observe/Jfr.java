package io.aioco.internal.observe;

import jdk.jfr.Category;
import jdk.jfr.Description;
import jdk.jfr.Enabled;
import jdk.jfr.Event;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Label;
import jdk.jfr.Name;
import jdk.jfr.Period;
import jdk.jfr.Recording;
import jdk.jfr.StackTrace;
import jdk.jfr.Threshold;
import jdk.jfr.Timespan;

/**
 * aioco's JDK Flight Recorder events, category "aioco", all disabled by default: enable them in a
 * recording's settings ({@code jfr configure}, a {@code .jfc} file, {@code Recording.enable("aioco.LongCallback")}).
 * QEMU's counterpart is its trace events ({@code trace-events} of {@code util/}).
 *
 * <ul>
 *   <li>{@code aioco.LoopStall}: a stall report of the {@link StallWatcher} (needs the stall
 *       detector on: {@code aioco.stall.thresholdMs});
 *   <li>{@code aioco.LongCallback}: a callback that ran longer than the event's threshold (default
 *       20 ms), with its kind and name;
 *   <li>{@code aioco.LockWait}: a coroutine waited for a contended {@code CoMutex} or {@code CoRwLock}
 *       longer than the threshold (default 10 ms);
 *   <li>{@code aioco.ThreadPoolQueueDelay}: work waited in a thread pool's queue longer than the
 *       threshold (default 10 ms);
 *   <li>{@code aioco.ContextCounts}: every period (default 1 s), one event per live context with
 *       its counts.
 * </ul>
 *
 * <p>The hot paths look at {@link JfrOn} first and call in here only when an event is enabled.
 * Settings take effect when a recording starts or stops, and, for an event enabled or disabled on a
 * recording that is already running ({@code Recording.enable} after {@code start()}, JMC's "change
 * settings"), at the runtime's next {@link #refresh()}: about once a second, on the stall watcher's
 * thread. Threads: any.
 */
public final class Jfr {
    private Jfr() {}

    /**
     * Serializes {@link #install} and {@link #uninstall}, which call JFR holding it (and not {@code
     * Jfr.class}, which JFR's callbacks take). No callback of JFR's takes it.
     */
    private static final Object INSTALLING = new Object();
    /** The installed listener, or null (guarded by {@code Jfr.class}). */
    private static volatile Listener listener;
    /** Whether {@link #PERIODIC} is registered with JFR (guarded by {@code Jfr.class}). */
    private static boolean periodicAdded;
    private static volatile Runnable countsEmitter;
    /** The periodic hook of {@code aioco.ContextCounts}: one instance, so that it can be removed. */
    private static final Runnable PERIODIC = Jfr::emitCounts;

    /**
     * Called by the runtime when a context is created while none was open: listens for recordings
     * (without starting JFR), and emits the context counts through {@code emitter} when JFR asks.
     * Does nothing if already installed. Any thread.
     *
     * @param emitter commits one {@link ContextCountsEvent} per live context
     * @return false if the runtime image has no JFR (or a security manager forbids it)
     */
    public static boolean install(Runnable emitter) {
        synchronized (INSTALLING) {
            Listener l;
            synchronized (Jfr.class) {
                if (listener != null) {
                    return true;
                }
                countsEmitter = emitter;
                l = new Listener();
                listener = l;
            }
            try {
                // NOTE: outside Jfr.class: JFR calls recorderInitialized (which takes Jfr.class) while
                // it holds its own lock, which addListener takes (see uninstall)
                FlightRecorder.addListener(l);
                refresh();
                return true;
            } catch (RuntimeException | LinkageError e) {
                synchronized (Jfr.class) {
                    if (listener == l) {
                        listener = null;
                    }
                }
                return false;
            }
        }
    }

    /**
     * Called by the runtime when its last context closes: removes the listener and the periodic
     * hook, so that JFR's static lists keep nothing of the runtime (its class loader can be
     * collected, on an application server's redeploy), and turns the hot paths' flags off. Any
     * thread.
     */
    public static void uninstall() {
        synchronized (INSTALLING) {
            Listener l;
            boolean periodic;
            synchronized (Jfr.class) {
                l = listener;
                if (l == null) {
                    return;
                }
                listener = null; // NOTE: its recorderInitialized, called from now on, does nothing
                countsEmitter = null;
                periodic = periodicAdded;
                periodicAdded = false;
            }
            // NOTE: the JFR calls are made holding no lock of JFR's callbacks: JFR's first start
            // holds PlatformRecorder's lock while it calls recorderInitialized, which takes
            // Jfr.class; removeListener takes that lock too. Made under Jfr.class, a last close
            // during JFR's first start deadlocked (rv12b). INSTALLING (never taken by a callback)
            // keeps an install from overtaking this removal.
            try {
                FlightRecorder.removeListener(l);
                if (periodic) {
                    FlightRecorder.removePeriodicEvent(PERIODIC);
                }
            } catch (RuntimeException | LinkageError e) {
                // NOTE: as in install: nothing to undo
            }
            JfrOn.set(false, false, false, false);
        }
    }

    private static final class Listener implements FlightRecorderListener {
        @Override
        public void recorderInitialized(FlightRecorder recorder) {
            synchronized (Jfr.class) {
                if (listener != this) {
                    return; // NOTE: uninstalled meanwhile
                }
                if (!periodicAdded) {
                    FlightRecorder.addPeriodicEvent(ContextCountsEvent.class, PERIODIC);
                    periodicAdded = true;
                }
            }
            refresh();
        }

        @Override
        public void recordingStateChanged(Recording recording) {
            refresh();
        }
    }

    private static void emitCounts() {
        Runnable emitter = countsEmitter;
        if (emitter != null) {
            emitter.run();
        }
    }

    /**
     * {@link #refresh()} while the listener is installed: the stall watcher's thread, about once a
     * second, so that an event enabled on a running recording (no state change, so no call of the
     * listener) is seen. Costs four {@code EventType.isEnabled()} reads, off the hot paths.
     */
    public static void refreshIfInstalled() {
        if (listener != null) {
            refresh();
        }
    }

    /** Reads which events the running recordings enable into {@link JfrOn}. Any thread. */
    public static void refresh() {
        JfrOn.set(EventType.getEventType(LongCallbackEvent.class).isEnabled(),
                EventType.getEventType(LockWaitEvent.class).isEnabled(),
                EventType.getEventType(QueueDelayEvent.class).isEnabled(),
                EventType.getEventType(LoopStallEvent.class).isEnabled());
    }

    // ---- long callbacks: the loop thread ----

    /** @return a started {@code aioco.LongCallback} event, for {@link #endCallback} */
    public static Object beginCallback() {
        LongCallbackEvent e = new LongCallbackEvent();
        e.begin();
        return e;
    }

    /** Ends the event of {@link #beginCallback} and commits it if it lasted past its threshold. */
    public static void endCallback(Object event, LoopProbe probe, int kind, Object what) {
        LongCallbackEvent e = (LongCallbackEvent) event;
        e.end();
        if (e.shouldCommit()) {
            e.loop = probe.loop;
            e.kind = LoopProbe.kindName(kind);
            e.callback = describe(what);
            e.commit();
        }
    }

    // ---- lock waits: the waiting coroutine's threads ----

    /** @return a started {@code aioco.LockWait} event, for {@link #endLockWait} */
    public static Object beginLockWait() {
        LockWaitEvent e = new LockWaitEvent();
        e.begin();
        return e;
    }

    /**
     * Ends the event of {@link #beginLockWait} and commits it if it lasted past its threshold: the
     * coroutine got the lock (its thread, as it resumes), or its wait ended without it, cancelled or
     * timed out (the canceller's thread, as it withdraws the wait).
     *
     * @param mode "mutex", "read", "write" or "upgrade"
     * @param acquired whether the wait ended with the lock
     */
    public static void endLockWait(Object event, String mode, Object lock, Object coroutine, boolean acquired) {
        LockWaitEvent e = (LockWaitEvent) event;
        e.end();
        if (e.shouldCommit()) {
            e.mode = mode;
            e.lock = describe(lock);
            e.coroutine = describe(coroutine);
            e.acquired = acquired;
            e.commit();
        }
    }

    // ---- thread-pool queue delays: the submitting thread, then the worker ----

    /** @return a started {@code aioco.ThreadPoolQueueDelay} event, for {@link #endQueueDelay} */
    public static Object beginQueueDelay() {
        QueueDelayEvent e = new QueueDelayEvent();
        e.begin();
        return e;
    }

    /** A worker took the work: ends the event of {@link #beginQueueDelay}, commits it past its threshold. */
    public static void endQueueDelay(Object event, Object context, Object work) {
        QueueDelayEvent e = (QueueDelayEvent) event;
        e.end();
        if (e.shouldCommit()) {
            e.context = describe(context);
            e.work = describe(work);
            e.commit();
        }
    }

    // ---- stalls: the watcher thread ----

    /** Commits an {@code aioco.LoopStall} event for one report of the watcher. */
    public static void stall(StallWatcher.Stall stall) {
        LoopStallEvent e = new LoopStallEvent();
        if (!e.isEnabled()) {
            return;
        }
        e.loop = stall.loop();
        e.loopThread = stall.thread();
        e.kind = stall.kindName();
        e.callback = stall.what();
        e.stalledFor = stall.forNs();
        e.report = stall.report();
        StringBuilder stack = new StringBuilder();
        for (StackTraceElement f : stall.stack()) {
            stack.append("at ").append(StallWatcher.frame(f)).append('\n');
        }
        e.stack = stack.toString();
        e.commit();
    }

    // ---- context counts: JFR's periodic thread ----

    /** Commits one {@code aioco.ContextCounts} event. Called by the runtime's emitter. */
    public static void counts(String loop, Thread thread, int bottomHalves, int timers, int fdHandlers,
                              int scheduledCoroutines) {
        ContextCountsEvent e = new ContextCountsEvent();
        e.loop = loop;
        e.loopThread = thread;
        e.bottomHalvesPending = bottomHalves;
        e.timers = timers;
        e.fdHandlers = fdHandlers;
        e.scheduledCoroutines = scheduledCoroutines;
        e.commit();
    }

    private static String describe(Object o) {
        try {
            return String.valueOf(o);
        } catch (RuntimeException e) {
            return o.getClass().getName();
        }
    }

    /** A loop stall reported by the stall detector. */
    @Name("aioco.LoopStall")
    @Label("Loop Stall")
    @Category("aioco")
    @Description("A callback ran on an event loop's thread longer than aioco.stall.thresholdMs (reported again every"
            + " aioco.stall.repeatMs while it lasts)")
    @Enabled(false)
    @StackTrace(false)
    static final class LoopStallEvent extends Event {
        @Label("Loop")
        String loop;
        @Label("Loop Thread")
        Thread loopThread;
        @Label("Kind")
        String kind;
        @Label("Callback")
        String callback;
        @Label("Stalled For")
        @Timespan(Timespan.NANOSECONDS)
        long stalledFor;
        @Label("Report")
        @Description("1 for the first report of this stall, then 2, 3, ...")
        int report;
        @Label("Loop Thread Stack")
        String stack;
    }

    /** A callback that ran longer than the threshold. */
    @Name("aioco.LongCallback")
    @Label("Long Callback")
    @Category("aioco")
    @Description("A bottom half, fd handler, timer callback or coroutine that ran on an event loop longer than the"
            + " threshold")
    @Enabled(false)
    @Threshold("20 ms")
    @StackTrace(false)
    static final class LongCallbackEvent extends Event {
        @Label("Loop")
        String loop;
        @Label("Kind")
        String kind;
        @Label("Callback")
        String callback;
    }

    /** A contended lock wait. */
    @Name("aioco.LockWait")
    @Label("Coroutine Lock Wait")
    @Category("aioco")
    @Description("A coroutine waited for a contended CoMutex or CoRwLock longer than the threshold, and got it or"
            + " gave up (cancelled or timed out)")
    @Enabled(false)
    @Threshold("10 ms")
    @StackTrace(false)
    static final class LockWaitEvent extends Event {
        @Label("Mode")
        @Description("mutex, read, write or upgrade")
        String mode;
        @Label("Lock")
        String lock;
        @Label("Coroutine")
        String coroutine;
        @Label("Acquired")
        @Description("true: the wait ended with the lock; false: it was cancelled or timed out first")
        boolean acquired;
    }

    /** Thread-pool work that waited in the queue. */
    @Name("aioco.ThreadPoolQueueDelay")
    @Label("Thread Pool Queue Delay")
    @Category("aioco")
    @Description("Work submitted to a context's thread pool waited for a worker longer than the threshold")
    @Enabled(false)
    @Threshold("10 ms")
    @StackTrace(false)
    static final class QueueDelayEvent extends Event {
        @Label("Context")
        String context;
        @Label("Work")
        String work;
    }

    /** The counts of one context, every period. */
    @Name("aioco.ContextCounts")
    @Label("Context Counts")
    @Category("aioco")
    @Description("Per live AioContext: bottom halves pending, timers armed, fd handlers, coroutines scheduled")
    @Enabled(false)
    @Period("1 s")
    @StackTrace(false)
    static final class ContextCountsEvent extends Event {
        @Label("Loop")
        String loop;
        @Label("Loop Thread")
        Thread loopThread;
        @Label("Bottom Halves Pending")
        int bottomHalvesPending;
        @Label("Timers")
        int timers;
        @Label("Fd Handlers")
        int fdHandlers;
        @Label("Scheduled Coroutines")
        int scheduledCoroutines;
    }
}
