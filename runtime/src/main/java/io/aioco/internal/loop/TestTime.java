package io.aioco.internal.loop;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
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
    /** A real-time test's record of coroutines, on its thread (see {@link #record}); null elsewhere. */
    private static final ThreadLocal<Created> RECORDING = new ThreadLocal<>();
    /**
     * How many bindings are in place, over all threads: while 0, {@link Clocks#nowNs} costs one
     * volatile read more than the plain clock, and no thread-local lookup.
     */
    private static volatile int bindings;
    /** {@link #bindings} read plainly ({@link #noteCreated}). */
    private static final VarHandle BINDINGS;

    static {
        try {
            BINDINGS = MethodHandles.lookup().findStaticVarHandle(TestTime.class, "bindings", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final long hostBaseNs;
    private volatile long elapsedNs;
    /** The coroutines created on threads bound to this time and not terminated, for the test kit's reports. */
    private final Created created = new Created();

    /**
     * The coroutines a test created and that have not terminated, for the test kit's leak and
     * deadlock reports: a coroutine leaves it when it terminates ({@code Coroutine} calls {@link
     * #remove}), so a test that creates many short-lived coroutines keeps none of them reachable;
     * a suspended one stays (strongly: a suspended coroutine nothing else references any more is
     * a lost one, and the kit reports it as a leak). Thread-safe: any thread adds or removes.
     */
    public static final class Created {
        private final java.util.concurrent.ConcurrentHashMap<Object, Long> members =
                new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicLong sequence = new java.util.concurrent.atomic.AtomicLong();

        /** Called when {@code coroutine} is created. Any thread. */
        void add(Object coroutine) {
            members.put(coroutine, sequence.getAndIncrement());
        }

        /** Called by {@code Coroutine} when {@code coroutine} terminates. Any thread. */
        public void remove(Object coroutine) {
            members.remove(coroutine);
        }

        /** @return the coroutines created and not terminated, oldest first. Any thread. */
        public java.util.List<Object> list() {
            java.util.List<java.util.Map.Entry<Object, Long>> entries = new java.util.ArrayList<>(members.entrySet());
            entries.sort(java.util.Map.Entry.comparingByValue());
            java.util.List<Object> out = new java.util.ArrayList<>(entries.size());
            for (java.util.Map.Entry<Object, Long> entry : entries) {
                out.add(entry.getKey());
            }
            return out;
        }
    }

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
     * the thread is bound to a time, or records for a real-time test (one plain read otherwise).
     *
     * @return the record it was added to, which the coroutine leaves when it terminates; or null
     */
    public static Created noteCreated(Object coroutine) {
        // NOTE: a plain read is enough: only the calling thread's own binding or record matters here,
        // and it counted it in bindings itself (bind, record) before; a stale count from other
        // threads only costs the thread-local lookups below, which then find nothing
        if ((int) BINDINGS.get() == 0) {
            return null;
        }
        TestTime t = BOUND.get();
        Created record = t != null ? t.created : RECORDING.get();
        if (record != null) {
            record.add(coroutine);
        }
        return record;
    }

    /** The coroutines created on threads bound to this time and not terminated, oldest first. Any thread. */
    public java.util.List<Object> created() {
        return created.list();
    }

    /** @return the record of the coroutines created on threads bound to this time. Any thread. */
    public Created record() {
        return created;
    }

    /**
     * Records in {@code record} the coroutines the calling thread creates while it is not bound to
     * a time: a real-time test's (the test kit's leak check). The caller undoes it with {@link
     * #endRecord}. Same thread.
     *
     * @return the previous record of the thread, for {@link #endRecord}
     */
    public static Created record(Created record) {
        Created previous = RECORDING.get();
        synchronized (TestTime.class) {
            bindings++;
        }
        RECORDING.set(record);
        return previous;
    }

    /** Undoes the {@link #record} that returned {@code previous}. Same thread. */
    public static void endRecord(Created previous) {
        if (previous == null) {
            RECORDING.remove();
        } else {
            RECORDING.set(previous);
        }
        synchronized (TestTime.class) {
            bindings--;
        }
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
