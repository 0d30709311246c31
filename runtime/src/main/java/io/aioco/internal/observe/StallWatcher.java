package io.aioco.internal.observe;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The loop stall detector: a callback (bottom half, fd handler, timer callback, coroutine) that
 * runs on a loop thread longer than a threshold is reported once, with the loop thread's stack at
 * the moment it was seen, and again every repeat interval while it lasts. As Vert.x's
 * blocked-thread checker: a daemon thread samples each loop's {@link LoopProbe} every {@link
 * #intervalNs()}; a probe whose poll, kind and callback have not changed between samples, and is in
 * a callback, has been in that one callback at least since the first sample that saw them (see
 * {@link LoopProbe} for why, and for the one case it cannot tell apart). So the loop reads no
 * clock: the duration reported is a lower bound, late by at most one sampling interval.
 *
 * <p>Configured by system properties read by the runtime when the first context is created
 * (see {@link #thresholdMs(String)}): {@code aioco.stall.thresholdMs} and {@code
 * aioco.stall.repeatMs}. QEMU has no counterpart.
 *
 * <p>Threads: {@link #watch}, {@link #unwatch} and {@link #check} from any thread ({@link #check}
 * by one thread at a time: the watcher's, or a test's).
 */
public final class StallWatcher {
    /** The default threshold: a callback running this long is reported. */
    public static final long DEFAULT_THRESHOLD_MS = 1000;
    /** The default interval between reports of one stall that lasts. */
    public static final long DEFAULT_REPEAT_MS = 5000;
    /** The watcher thread's name. */
    public static final String THREAD_NAME = "aioco-stall-watcher";

    private static final VarHandle POLLS;

    static {
        try {
            POLLS = MethodHandles.lookup().findVarHandle(LoopProbe.class, "polls", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * One report of a stall.
     *
     * @param loop the loop's name ({@code AioContext.toString()})
     * @param thread the loop thread
     * @param kind the kind of callback ({@link LoopProbe#BOTTOM_HALF}, ...)
     * @param what the callback's or coroutine's {@code toString()}
     * @param forNs how long it has run at least
     * @param stack the loop thread's stack when the watcher saw the stall (empty if the thread is gone)
     * @param report 1 for the first report of this stall, then 2, 3, ... every repeat interval
     */
    public record Stall(String loop, Thread thread, int kind, String what, long forNs, StackTraceElement[] stack,
                        int report) {
        /** @return the kind in words: "bottom half", "fd read handler", ... */
        public String kindName() {
            return LoopProbe.kindName(kind);
        }
    }

    /** What the watcher knows of one probe; watcher thread only (under {@link #watched}'s lock). */
    private static final class Watched {
        final WeakReference<LoopProbe> probe;
        /** The poll of the last sample. */
        int polls;
        /** The kind of the last sample. */
        int kind;
        /**
         * The callback of the last sample, weakly (the watcher must not keep a coroutine that became
         * unreachable, whose loss is reported through a Cleaner); null when idle. Renewed only when
         * the sample changes.
         */
        WeakReference<Object> what;
        /** When the watcher first saw that dispatch. */
        long sinceNs;
        /** When the last report of this dispatch was made. */
        long reportedNs;
        /** Reports of this dispatch so far. */
        int reports;
        /** The probe's {@link LoopProbe#depth} read by the current {@link #check}. */
        int depth;

        Watched(LoopProbe probe, long nowNs) {
            this.probe = new WeakReference<>(probe);
            this.sinceNs = nowNs;
        }

        /** @return whether the sample is the dispatch seen last time */
        boolean same(int polls, int kind, Object what) {
            return what != null && polls == this.polls && kind == this.kind && this.what != null
                    && this.what.get() == what;
        }

        /** Remembers a new dispatch (or idleness) seen at {@code nowNs}. */
        void renew(int polls, int kind, Object what, long nowNs) {
            this.polls = polls;
            this.kind = kind;
            this.what = what == null ? null : new WeakReference<>(what);
            this.sinceNs = nowNs;
            this.reports = 0;
        }
    }

    private final long thresholdNs;
    private final long repeatNs;
    private final Consumer<Stall> sink;
    private final List<Watched> watched = new ArrayList<>();
    /** The last time {@link #check} was given; the start of a new probe's first sample. */
    private long lastNowNs;

    /**
     * @param thresholdMs a callback running at least this long is reported; 0 or less: nothing is
     *     ever reported (disabled)
     * @param repeatMs then again every this long while it lasts (at least 1)
     * @param sink receives each report, on the checking thread
     */
    public StallWatcher(long thresholdMs, long repeatMs, Consumer<Stall> sink) {
        this.thresholdNs = thresholdMs <= 0 ? 0 : thresholdMs * 1_000_000;
        this.repeatNs = Math.max(1, repeatMs) * 1_000_000;
        this.sink = sink;
    }

    /** @return whether this watcher reports anything (its threshold is above 0) */
    public boolean enabled() {
        return thresholdNs > 0;
    }

    /**
     * @return how often the watcher thread samples: half the threshold, within [10 ms, 1 s]; 1 s when
     *     disabled (the thread then only runs the tick of {@link #start(Runnable)})
     */
    public long intervalNs() {
        return enabled() ? Math.max(10_000_000L, Math.min(1_000_000_000L, thresholdNs / 2)) : 1_000_000_000L;
    }

    /** Starts watching {@code probe} (a new context). Any thread. */
    public void watch(LoopProbe probe) {
        synchronized (watched) {
            watched.removeIf(w -> w.probe.get() == null);
            Watched w = new Watched(probe, lastNowNs);
            int polls = (int) POLLS.getAcquire(probe);
            w.renew(polls, probe.kind, probe.what, lastNowNs);
            watched.add(w);
        }
    }

    /** Stops watching {@code probe} (its context closed). Any thread. */
    public void unwatch(LoopProbe probe) {
        synchronized (watched) {
            watched.removeIf(w -> w.probe.get() == null || w.probe.get() == probe);
        }
    }

    /**
     * One sample of every probe watched: reports (to the sink, on this thread) each callback that
     * has run for at least the threshold since the first sample that saw it, once, then again each
     * time the repeat interval has passed since its last report. The watcher thread calls it every
     * {@link #intervalNs()} with {@link System#nanoTime()}; tests call it with times of their own.
     *
     * @param nowNs the time now, on a clock of the caller's (only differences count)
     * @return the reports made
     */
    public int check(long nowNs) {
        if (!enabled()) {
            return 0;
        }
        List<Stall> reports = new ArrayList<>();
        synchronized (watched) {
            lastNowNs = nowNs;
            // NOTE: a callback of one context blocked in a nested poll of another is stalled, and so
            // is the inner callback if it runs long: only the innermost of a thread's (the deepest
            // nested poll, LoopProbe.depth; of equal depths, the one in its callback since the latest
            // time) is sampled for a report. Not by the time alone: both dispatches are usually first
            // seen at the same sample (rv12: the tie went to the context watched last)
            java.util.Map<Thread, Watched> innermost = new java.util.HashMap<>();
            for (int i = 0; i < watched.size(); i++) {
                Watched w = watched.get(i);
                LoopProbe p = w.probe.get();
                if (p == null) {
                    watched.remove(i--);
                    continue;
                }
                int polls = (int) POLLS.getAcquire(p);
                int kind = p.kind;
                Object what = p.what;
                if (!w.same(polls, kind, what)) {
                    w.renew(polls, kind, what, nowNs);
                    continue;
                }
                Thread thread = p.thread;
                if (kind != LoopProbe.IDLE && thread != null) {
                    w.depth = p.depth;
                    Watched inner = innermost.get(thread);
                    if (inner == null || w.depth > inner.depth
                            || w.depth == inner.depth && w.sinceNs >= inner.sinceNs) {
                        innermost.put(thread, w);
                    }
                }
            }
            for (Watched w : watched) {
                LoopProbe p = w.probe.get();
                if (p == null || !innermost.containsValue(w)) {
                    continue;
                }
                Stall stall = sample(w, p, nowNs);
                if (stall != null) {
                    reports.add(stall);
                }
            }
        }
        for (Stall s : reports) {
            sink.accept(s);
        }
        return reports.size();
    }

    /** One probe's sample: the report to make, or null. */
    private Stall sample(Watched w, LoopProbe p, long nowNs) {
        int polls = (int) POLLS.getAcquire(p);
        int kind = p.kind;
        Object what = p.what;
        Thread thread = p.thread;
        if (!w.same(polls, kind, what)) {
            w.renew(polls, kind, what, nowNs);
            return null;
        }
        if (kind == LoopProbe.IDLE || thread == null) {
            return null;
        }
        long forNs = nowNs - w.sinceNs;
        boolean due = w.reports == 0 ? forNs >= thresholdNs : nowNs - w.reportedNs >= repeatNs;
        if (!due) {
            return null;
        }
        StackTraceElement[] stack = thread.getStackTrace();
        if (!w.same((int) POLLS.getAcquire(p), p.kind, p.what)) {
            return null; // NOTE: the callback returned meanwhile: the stack is of something else
        }
        w.reports++;
        w.reportedNs = nowNs;
        String name;
        try {
            name = String.valueOf(what);
        } catch (RuntimeException e) {
            name = what.getClass().getName() + " (its toString() threw " + e + ")";
        }
        return new Stall(p.loop, thread, kind, name, forNs, stack, w.reports);
    }

    /**
     * Starts the daemon thread {@link #THREAD_NAME} that calls {@link #check} and then {@code tick}
     * every {@link #intervalNs()} until it is interrupted (the runtime interrupts it when its last
     * context closes, so that nothing of the runtime's runs, or keeps its class loader, once no
     * context is left).
     *
     * @param tick run on the thread after each check (the runtime refreshes its JFR flags there)
     * @return the thread
     */
    public Thread start(Runnable tick) {
        return start(() -> true, tick);
    }

    /**
     * As {@link #start(Runnable)}, the thread first running {@code first}: it ends at once if that
     * returns false (the runtime installs its JFR listener there, so that a context's first poll
     * starts one thread, not two: rv12).
     *
     * @param first run on the thread before the first check; whether the thread is still needed
     * @param tick run on the thread after each check
     * @return the thread
     */
    public Thread start(java.util.function.BooleanSupplier first, Runnable tick) {
        Thread t = new Thread(() -> {
            if (first.getAsBoolean()) {
                run(tick);
            }
        }, THREAD_NAME);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void run(Runnable tick) {
        long interval = intervalNs();
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(interval / 1_000_000, (int) (interval % 1_000_000));
            } catch (InterruptedException e) {
                return;
            }
            try {
                check(System.nanoTime());
                tick.run();
            } catch (RuntimeException | LinkageError e) {
                // NOTE: a sink that throws (a broken log handler) must not end the watching
            }
        }
    }

    /**
     * A frame as jstack and {@code Throwable} print it, without the class loader's and module's
     * names: {@code pkg.Class.method(File.java:LINE)}.
     *
     * @param f a frame of a stall's stack
     * @return its text
     */
    public static String frame(StackTraceElement f) {
        return f.getClassName() + "." + f.getMethodName() + "(" + (f.isNativeMethod() ? "Native Method"
                : f.getFileName() == null ? "Unknown Source"
                : f.getLineNumber() >= 0 ? f.getFileName() + ":" + f.getLineNumber() : f.getFileName()) + ")";
    }

    /**
     * The threshold a property's value asks for.
     *
     * @param value {@code aioco.stall.thresholdMs}: null for the default, {@code off} or {@code 0} to
     *     disable, else milliseconds
     * @return the threshold in milliseconds, 0 for disabled
     * @throws NumberFormatException if the value is none of these
     */
    public static long thresholdMs(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_THRESHOLD_MS;
        }
        String v = value.strip();
        if (v.equalsIgnoreCase("off") || v.equalsIgnoreCase("false")) {
            return 0;
        }
        long ms = Long.parseLong(v);
        if (ms < 0) {
            throw new NumberFormatException(v);
        }
        return ms;
    }

    /**
     * The repeat interval a property's value asks for.
     *
     * @param value {@code aioco.stall.repeatMs}: null for the default, else milliseconds (at least 1)
     * @return the interval in milliseconds
     * @throws NumberFormatException if the value is not a positive number
     */
    public static long repeatMs(String value) {
        if (value == null || value.isBlank()) {
            return DEFAULT_REPEAT_MS;
        }
        long ms = Long.parseLong(value.strip());
        if (ms < 1) {
            throw new NumberFormatException(value.strip());
        }
        return ms;
    }
}
