package io.aioco.internal.observe;

/**
 * Which of aioco's JFR events that are timed on the hot paths are enabled in a running recording:
 * read at each dispatch, contended lock wait and thread-pool submission before anything else is
 * done for JFR, so that with the events disabled (the default) they cost one read of a static field
 * and no allocation. Refreshed by {@link Jfr} when a recording starts or stops (a
 * {@code FlightRecorderListener}). This class names no {@code jdk.jfr} type, so that reading it
 * loads nothing of JFR (and works in a runtime image without the {@code jdk.jfr} module).
 *
 * <p>Volatile: written by JFR's threads, read by loop threads and coroutines; on x86 a volatile
 * read is a plain load.
 */
public final class JfrOn {
    private JfrOn() {}

    /** {@code aioco.LongCallback} is enabled. */
    public static volatile boolean callbacks;
    /** {@code aioco.LockWait} is enabled. */
    public static volatile boolean lockWaits;
    /** {@code aioco.ThreadPoolQueueDelay} is enabled. */
    public static volatile boolean queueDelays;
    /** {@code aioco.LoopStall} is enabled. */
    public static volatile boolean stalls;
}
