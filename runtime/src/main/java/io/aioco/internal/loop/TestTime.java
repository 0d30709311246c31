package io.aioco.internal.loop;

import java.time.Instant;

/**
 * A per-context virtual time: every clock (REALTIME, VIRTUAL, HOST) of an AioContext created with
 * one reads it instead of the machine's clocks, and moves only when {@link #advanceNs} is called.
 * The test kit (module {@code aioco-test}) gives each test one, so that tests running in parallel
 * have independent times; QEMU's qtest drives {@code QEMU_CLOCK_VIRTUAL} with {@code clock_step}
 * for the same purpose.
 *
 * <p>REALTIME and VIRTUAL start at 0; HOST starts at the wall-clock time the time source was
 * created, and all three move together.
 *
 * <p>A thread reads this time through {@link Clocks#nowNs} while it is bound to it ({@link
 * #bind}): the context binds its polling thread for the length of each poll, so every callback and
 * coroutine of the context sees it. Threads: any thread may read or advance it.
 */
public final class TestTime {
    private static final ThreadLocal<TestTime> BOUND = new ThreadLocal<>();
    /**
     * How many bindings are in place, over all threads: while 0, {@link Clocks#nowNs} costs one
     * volatile read more than the plain clock, and no thread-local lookup.
     */
    private static volatile int bindings;

    private final long hostBaseNs;
    private volatile long elapsedNs;
    /** The coroutines created on threads bound to this time, for the test kit's reports. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Object> created =
            new java.util.concurrent.ConcurrentLinkedQueue<>();

    /** Creates a time source at 0 (HOST at the current wall time). Any thread. */
    public TestTime() {
        Instant now = Instant.now();
        this.hostBaseNs = now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The time of clock {@code clock} ({@link Clocks} index), in ns. Any thread. */
    public long nowNs(int clock) {
        long t = elapsedNs;
        return clock == Clocks.HOST ? hostBaseNs + t : t;
    }

    /** How far this time has moved since it was created, in ns. Any thread. */
    public long elapsedNs() {
        return elapsedNs;
    }

    /**
     * Moves every clock of this time forward by {@code ns}. Any thread; a context polled by another
     * thread finds the timers due at its next poll (the caller wakes it if needed).
     *
     * @throws IllegalArgumentException if {@code ns} is negative
     */
    public synchronized void advanceNs(long ns) {
        if (ns < 0) {
            throw new IllegalArgumentException("ns: " + ns + " (expected: >= 0)");
        }
        elapsedNs += ns;
    }

    /**
     * Called by {@code Coroutine.create} on the creating thread: remembers {@code coroutine} if
     * the thread is bound to a time (one volatile read otherwise).
     */
    public static void noteCreated(Object coroutine) {
        TestTime t = bound();
        if (t != null) {
            t.created.add(coroutine);
        }
    }

    /** The coroutines created on threads bound to this time, oldest first. Any thread. */
    public java.util.List<Object> created() {
        return new java.util.ArrayList<>(created);
    }

    /** The time the calling thread is bound to, or null (it reads the machine's clocks). */
    static TestTime bound() {
        return bindings == 0 ? null : BOUND.get();
    }

    /** Whether any thread is bound to a time right now (one volatile read). Any thread. */
    public static boolean anyBound() {
        return bindings != 0;
    }

    /**
     * Binds the calling thread to {@code time} (null: to none) and returns the previous binding,
     * which the caller restores with {@link #restore} (bindings nest).
     */
    public static TestTime bind(TestTime time) {
        TestTime previous = BOUND.get();
        if (time != null) {
            synchronized (TestTime.class) {
                bindings++;
            }
        }
        BOUND.set(time);
        return previous;
    }

    /** Undoes the {@link #bind} of {@code time} that returned {@code previous}. Same thread. */
    public static void restore(TestTime time, TestTime previous) {
        if (previous == null) {
            BOUND.remove();
        } else {
            BOUND.set(previous);
        }
        if (time != null) {
            synchronized (TestTime.class) {
                bindings--;
            }
        }
    }
}
