package io.aioco;

import io.aioco.internal.observe.Jfr;
import io.aioco.internal.observe.JfrOn;
import io.aioco.internal.observe.StallWatcher;

/**
 * The runtime's side of the loop stall detector and the JFR events (see {@code
 * io.aioco.internal.observe}): reads the properties {@code aioco.stall.thresholdMs} and {@code
 * aioco.stall.repeatMs}, starts the watcher thread with the first context (and ends it when the last
 * one closes), watches each context's probe until it closes, and reports stalls through {@link
 * LoopLog} (and the JFR event). Any thread.
 */
final class LoopObserve {
    private LoopObserve() {}

    /** The stall threshold's property: milliseconds, {@code 0} or {@code off} to disable. */
    static final String THRESHOLD_PROPERTY = "aioco.stall.thresholdMs";
    /** The property of the interval between reports of a stall that lasts: milliseconds. */
    static final String REPEAT_PROPERTY = "aioco.stall.repeatMs";

    /** Guards the fields below. */
    private static final Object LOCK = new Object();
    /** Contexts created and not closed yet. */
    private static int open;
    /** The process's watcher (configured by the first context; disabled when asked), or null. */
    private static volatile StallWatcher watcher;
    /**
     * The watcher's thread while a context is open (it installs the JFR listener, then runs while the
     * detector is on or JFR is there), or null.
     */
    private static Thread watcherThread;
    /** Whether the runtime image has JFR (found by the first installer). */
    private static boolean jfrPresent;
    /** Counted down once the JFR listener for the contexts open now is installed (or found absent). */
    private static volatile java.util.concurrent.CountDownLatch jfrInstalled;
    /** When the watcher's thread last refreshed the JFR flags ({@link System#nanoTime()}); its thread. */
    private static long lastRefreshNs;
    /** Whether {@link #lastRefreshNs} is set; the watcher's thread. */
    private static boolean refreshed;

    /**
     * Called by each new context (any thread): the first one while none is open starts the watcher
     * thread and installs the JFR listener (again, after the last context of before closed).
     */
    static void contextCreated(AioContext ctx) {
        synchronized (LOCK) {
            StallWatcher w = watcher;
            if (w == null) {
                w = fromProperties();
                watcher = w;
            }
            if (open++ == 0) {
                // NOTE: the JFR listener is installed by the watcher thread as it starts:
                // FlightRecorder.addListener loads JFR's classes (70-80 ms on the machine of the first
                // measurement), which the first context's creation must not wait for (as the MBean's
                // registration, see CoroutineDump.contextCreated); one thread per cycle, not two (rv12)
                java.util.concurrent.CountDownLatch installed = new java.util.concurrent.CountDownLatch(1);
                jfrInstalled = installed;
                StallWatcher started = w;
                watcherThread = w.start(() -> installJfr(installed) || started.enabled(), LoopObserve::tick);
            }
            if (w.enabled()) {
                w.watch(ctx.probe);
            }
        }
    }

    /**
     * The JFR listener's installation, first thing on the watcher thread: nothing if the runtime
     * image has no JFR.
     *
     * @param done counted down once it is done
     * @return whether it is installed (the thread then refreshes the JFR flags in its ticks)
     */
    private static boolean installJfr(java.util.concurrent.CountDownLatch done) {
        try {
            boolean installed;
            try {
                installed = Jfr.install(LoopObserve::emitCounts);
            } catch (LinkageError e) {
                // NOTE: no jdk.jfr module (a custom runtime image): no events, and JfrOn stays false
                installed = false;
            }
            synchronized (LOCK) {
                if (!installed) {
                    return false;
                }
                jfrPresent = true;
                if (open == 0) {
                    Jfr.uninstall(); // NOTE: the contexts closed while this installed: undo it
                }
                return true;
            }
        } finally {
            done.countDown();
        }
    }

    /** The watcher thread, after each check: refreshes the JFR flags about once a second. */
    private static void tick() {
        long now = System.nanoTime();
        if (!refreshed || now - lastRefreshNs >= 900_000_000L) {
            refreshed = true;
            lastRefreshNs = now;
            if (jfrPresent) {
                Jfr.refreshIfInstalled();
            }
        }
    }

    /** Tests: waits until the JFR listener of the contexts open now is installed. */
    static void awaitJfrListener() throws InterruptedException {
        jfrInstalled.await();
    }

    /** Tests: the watcher's thread, or null when none runs. */
    static Thread watcherThreadForTest() {
        synchronized (LOCK) {
            return watcherThread;
        }
    }

    /**
     * Called when a context closes (any thread): the last one open stops the watcher thread and
     * removes the JFR listener, so that nothing of the runtime runs or is referenced by the JDK once
     * no context is left (an application server's redeploy can collect the runtime's class loader).
     */
    static void contextClosed(AioContext ctx) {
        synchronized (LOCK) {
            StallWatcher w = watcher;
            if (w != null && w.enabled()) {
                w.unwatch(ctx.probe);
            }
            if (--open == 0) {
                if (watcherThread != null) {
                    watcherThread.interrupt();
                    watcherThread = null;
                }
                if (jfrPresent) {
                    Jfr.uninstall();
                }
            }
        }
    }

    /** A watcher configured by the system properties (reporting to the log and JFR); disabled if asked. */
    static StallWatcher fromProperties() {
        long threshold = property(THRESHOLD_PROPERTY, StallWatcher.DEFAULT_THRESHOLD_MS, true);
        long repeat = property(REPEAT_PROPERTY, StallWatcher.DEFAULT_REPEAT_MS, false);
        return new StallWatcher(threshold, repeat, LoopObserve::report);
    }

    private static long property(String name, long byDefault, boolean threshold) {
        String value = System.getProperty(name);
        try {
            return threshold ? StallWatcher.thresholdMs(value) : StallWatcher.repeatMs(value);
        } catch (NumberFormatException e) {
            LoopLog.badStallProperty(name, value, byDefault);
            return byDefault;
        }
    }

    /** The sink of the process's watcher: the log line, and the JFR event when enabled. Watcher thread. */
    static void report(StallWatcher.Stall stall) {
        LoopLog.loopStall(stall);
        if (JfrOn.stalls()) {
            Jfr.stall(stall);
        }
    }

    /** JFR's periodic hook: one {@code aioco.ContextCounts} event per live context. JFR's thread. */
    static void emitCounts() {
        for (AioContext ctx : CoroutineDump.contexts()) {
            Jfr.counts(ctx.toString(), ctx.loopThreadForDump(), ctx.pendingBottomHalvesForDump(),
                    ctx.timersForDump(), ctx.handlersForDump(), ctx.scheduledForDump().size());
        }
    }
}
