package io.aioco.internal.loop;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state behind {@code ClockType.VIRTUAL}: a clock that runs with {@link System#nanoTime()}
 * until paused, and then only moves when advanced. It starts at 0 when this class loads.
 *
 * <p>Readers never lock: the whole state is one immutable {@link Snapshot} behind a volatile field.
 * Writers serialize on the class monitor, then tell every listener (each AioContext with a VIRTUAL
 * timer) so that a context blocked with a deadline computed on the old time re-reads it.
 */
public final class VirtualClock {
    /** An immutable view of the clock; {@code base} is the frozen time when paused, else the offset. */
    private record Snapshot(boolean paused, long base) {}

    private static volatile Snapshot snapshot = new Snapshot(false, -System.nanoTime());
    private static final Set<Runnable> listeners = ConcurrentHashMap.newKeySet();

    private VirtualClock() {}

    /** Called from any thread. Costs one volatile read and, while running, one nanoTime. */
    public static long nowNs() {
        Snapshot s = snapshot;
        return s.paused ? s.base : System.nanoTime() + s.base;
    }

    /** Called from any thread. */
    public static boolean isPaused() {
        return snapshot.paused;
    }

    /** Called from any thread; idempotent. */
    public static void pause() {
        synchronized (VirtualClock.class) {
            Snapshot s = snapshot;
            if (s.paused) {
                return;
            }
            snapshot = new Snapshot(true, System.nanoTime() + s.base);
        }
        fireChanged();
    }

    /** Called from any thread; idempotent. The clock goes on from where it stood. */
    public static void resume() {
        synchronized (VirtualClock.class) {
            Snapshot s = snapshot;
            if (!s.paused) {
                return;
            }
            snapshot = new Snapshot(false, s.base - System.nanoTime());
        }
        fireChanged();
    }

    /** Called from any thread. */
    public static void advance(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("ns: " + ns + " (expected: >= 0)");
        }
        synchronized (VirtualClock.class) {
            Snapshot s = snapshot;
            snapshot = new Snapshot(s.paused, s.base + ns);
        }
        fireChanged();
    }

    /**
     * Called from any thread. The listener runs on the thread that changed the clock, after the
     * change is visible, so it must be quick and thread-safe (AioContext's only wakes its poller).
     */
    public static void addListener(Runnable listener) {
        listeners.add(listener);
    }

    /** Called from any thread. */
    public static void removeListener(Runnable listener) {
        listeners.remove(listener);
    }

    // NOTE: the snapshot write above happens before this iteration (program order, volatile
    // write); a poller that computed its wait from the old time announced itself blocked before
    // reading the clock, so the listener either sees it blocked and wakes it, or the poller reads
    // the new time. That is the notify_me handshake of AioContext, applied to the clock.
    private static void fireChanged() {
        for (Runnable listener : listeners) {
            listener.run();
        }
    }
}
