package io.aioco;

import io.aioco.internal.observe.Jfr;
import io.aioco.internal.observe.JfrOn;
import io.aioco.internal.observe.StallWatcher;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The runtime's side of the loop stall detector and the JFR events (see {@code
 * io.aioco.internal.observe}): reads the properties {@code aioco.stall.thresholdMs} and {@code
 * aioco.stall.repeatMs}, starts the watcher thread with the first context, watches each context's
 * probe until it closes, and reports stalls through {@link LoopLog} (and the JFR event). Any thread.
 */
final class LoopObserve {
    private LoopObserve() {}

    /** The stall threshold's property: milliseconds, {@code 0} or {@code off} to disable. */
    static final String THRESHOLD_PROPERTY = "aioco.stall.thresholdMs";
    /** The property of the interval between reports of a stall that lasts: milliseconds. */
    static final String REPEAT_PROPERTY = "aioco.stall.repeatMs";

    /** The name of the short-lived thread that installs the JFR listener. */
    static final String JFR_THREAD = "aioco-jfr-listener";

    private static final AtomicBoolean STARTED = new AtomicBoolean();
    /** The thread installing the JFR listener, once the first context exists. */
    private static volatile Thread jfrInstaller;
    /** The process's watcher, or null while no context exists or when the detector is off. */
    private static volatile StallWatcher watcher;

    /** Called by each new context (any thread): the first starts the watcher and the JFR listener. */
    static void contextCreated(AioContext ctx) {
        if (STARTED.compareAndSet(false, true)) {
            StallWatcher w = fromProperties();
            if (w.enabled()) {
                watcher = w;
                w.start();
            }
            // NOTE: on a thread of its own: FlightRecorder.addListener loads JFR's classes (70-80 ms
            // on the machine of the first measurement), which the first context's creation must not
            // wait for (as the MBean's registration, see CoroutineDump.contextCreated)
            Thread installer = new Thread(LoopObserve::installJfr, JFR_THREAD);
            installer.setDaemon(true);
            jfrInstaller = installer;
            installer.start();
        }
        StallWatcher w = watcher;
        if (w != null) {
            w.watch(ctx.probe);
        }
    }

    /** The JFR listener's installation, on its own thread: nothing if the runtime image has no JFR. */
    private static void installJfr() {
        try {
            Jfr.install(LoopObserve::emitCounts);
        } catch (LinkageError e) {
            // NOTE: no jdk.jfr module (a custom runtime image): no events, and JfrOn stays false
        }
    }

    /** Tests: waits until the JFR listener is installed (a context must have been created). */
    static void awaitJfrListener() throws InterruptedException {
        jfrInstaller.join();
    }

    /** Called when a context closes (any thread). */
    static void contextClosed(AioContext ctx) {
        StallWatcher w = watcher;
        if (w != null) {
            w.unwatch(ctx.probe);
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
