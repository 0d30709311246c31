package io.aioco.internal.observe;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Which of aioco's JFR events that are timed on the hot paths are enabled in a running recording:
 * read at each dispatch, contended lock wait and thread-pool submission before anything else is
 * done for JFR, so that with the events disabled (the default) they cost one read of a static field
 * and no allocation. Refreshed by {@link Jfr} when a recording starts or stops (a {@code
 * FlightRecorderListener}), and about once a second by the stall watcher's thread ({@link
 * Jfr#refreshIfInstalled()}: a recording's settings changed while it runs). This class names no
 * {@code jdk.jfr} type, so that reading it loads nothing of JFR (and works in a runtime image without the {@code jdk.jfr} module).
 *
 * <p>Opaque reads and writes (VarHandle): a reader sees a change eventually (a loop thread at its
 * next dispatch, in practice), and the read orders nothing else: a plain load, which leaves the
 * dispatch loop's other loads free to be kept in registers or scheduled (a volatile read is an
 * acquire: the loads after it could not move above it). Any thread.
 */
public final class JfrOn {
    private JfrOn() {}

    private static boolean callbacks;
    private static boolean lockWaits;
    private static boolean queueDelays;
    private static boolean stalls;

    private static final VarHandle CALLBACKS;
    private static final VarHandle LOCK_WAITS;
    private static final VarHandle QUEUE_DELAYS;
    private static final VarHandle STALLS;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            CALLBACKS = l.findStaticVarHandle(JfrOn.class, "callbacks", boolean.class);
            LOCK_WAITS = l.findStaticVarHandle(JfrOn.class, "lockWaits", boolean.class);
            QUEUE_DELAYS = l.findStaticVarHandle(JfrOn.class, "queueDelays", boolean.class);
            STALLS = l.findStaticVarHandle(JfrOn.class, "stalls", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** @return whether {@code aioco.LongCallback} is enabled */
    public static boolean callbacks() {
        return (boolean) CALLBACKS.getOpaque();
    }

    /** @return whether {@code aioco.LockWait} is enabled */
    public static boolean lockWaits() {
        return (boolean) LOCK_WAITS.getOpaque();
    }

    /** @return whether {@code aioco.ThreadPoolQueueDelay} is enabled */
    public static boolean queueDelays() {
        return (boolean) QUEUE_DELAYS.getOpaque();
    }

    /** @return whether {@code aioco.LoopStall} is enabled */
    public static boolean stalls() {
        return (boolean) STALLS.getOpaque();
    }

    /** Sets the four flags (JFR's listener thread). */
    static void set(boolean callbacks, boolean lockWaits, boolean queueDelays, boolean stalls) {
        CALLBACKS.setOpaque(callbacks);
        LOCK_WAITS.setOpaque(lockWaits);
        QUEUE_DELAYS.setOpaque(queueDelays);
        STALLS.setOpaque(stalls);
    }
}
