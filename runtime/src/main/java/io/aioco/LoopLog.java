package io.aioco;

/**
 * The event loop's log lines, in one place: logger {@code io.aioco} ({@link System.Logger}, so
 * {@code java.util.logging} unless the application routes it elsewhere). Called from any thread.
 */
final class LoopLog {
    private static final System.Logger LOG = System.getLogger("io.aioco");

    private LoopLog() {}

    /** Whether {@link #prepare()} ran. */
    private static volatile boolean prepared;

    /**
     * Loads and initialises, once, what a report needs: the logger, and the formatting of its
     * handlers (java.util.logging's SimpleFormatter reads the time-zone database and prints a stack
     * trace), so that a report made when the process is out of file descriptors (an accept failing
     * with EMFILE, in {@link IOThreadGroup}) does not fail itself: the first use of these classes
     * opens files, and a class whose initialiser failed stays unusable. Best effort; nothing is
     * printed. Called by {@link IOThreadGroup#serve}; any thread.
     */
    static void prepare() {
        if (prepared) {
            return;
        }
        prepared = true;
        try {
            LOG.isLoggable(System.Logger.Level.WARNING);
            JulWarmUp.formatOnce();
        } catch (RuntimeException | LinkageError e) {
            // NOTE: no java.util.logging (a custom runtime image), or a handler that cannot format:
            // the report will fail or not as it would have
        }
    }

    /** Formats one record with the handlers of the logger {@code io.aioco} and its parents, printing nothing. */
    private static final class JulWarmUp {
        static void formatOnce() {
            java.util.logging.LogRecord record = new java.util.logging.LogRecord(java.util.logging.Level.WARNING,
                    "aioco: warming up the log formatting");
            record.setLoggerName("io.aioco");
            record.setThrown(new java.io.IOException("warm-up"));
            for (java.util.logging.Logger l = java.util.logging.Logger.getLogger("io.aioco"); l != null;
                 l = l.getUseParentHandlers() ? l.getParent() : null) {
                for (java.util.logging.Handler h : l.getHandlers()) {
                    java.util.logging.Formatter f = h.getFormatter();
                    if (f != null) {
                        f.format(record);
                    }
                }
            }
        }
    }

    /**
     * A suspended coroutine became unreachable: nothing can wake it (its Cleaner saw it; {@code
     * report} names it and its suspended stack). Under the probes only. The Cleaner's thread.
     */
    static void coroutineLostWhileSuspended(String report) {
        LOG.log(System.Logger.Level.WARNING, report);
    }

    /**
     * Per suspended stack (its frames' text), reports of coroutines lost while suspended there so
     * far; cleared when it holds too many stacks (the counts start again).
     */
    private static final java.util.Map<String, java.util.concurrent.atomic.AtomicLong> LOST_SUSPENDED = new java.util.HashMap<>();
    /** The most stacks {@link #LOST_SUSPENDED} counts. */
    private static final int LOST_STACKS = 4096;

    /**
     * Per closed context, reports of its coroutines lost so far; weak keys: a context's count goes
     * with it.
     */
    private static final java.util.Map<AioContext, java.util.concurrent.atomic.AtomicLong> LOST_CLOSED =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    /**
     * Counts one more coroutine lost while suspended at {@code stack}: the suffix of its report when
     * it is to be logged, or null when it is not. Of the coroutines lost at one same stack, the
     * first 10 are logged, then the 100th, 1000th, ... (10,000 dropped at once give 13 records, not
     * 10,000); each report logged is complete (its stack), and one logged after a gap counts the
     * ones left out. The Cleaner's thread.
     */
    static String lostWhileSuspendedCounted(String stack) {
        java.util.concurrent.atomic.AtomicLong count;
        synchronized (LOST_SUSPENDED) {
            if (LOST_SUSPENDED.size() >= LOST_STACKS && !LOST_SUSPENDED.containsKey(stack)) {
                LOST_SUSPENDED.clear();
            }
            count = LOST_SUSPENDED.computeIfAbsent(stack, k -> new java.util.concurrent.atomic.AtomicLong());
        }
        return counted(count.incrementAndGet(), "coroutines lost while suspended at this stack");
    }

    /** Counts one more coroutine of {@code ctx} lost; its report's suffix, or null when not logged. */
    private static String lostToClosedCounted(AioContext ctx) {
        long n = LOST_CLOSED.computeIfAbsent(ctx, c -> new java.util.concurrent.atomic.AtomicLong()).incrementAndGet();
        return counted(n, "coroutines of this context lost");
    }

    /** The suffix of the {@code n}-th report of a kind (the first 10, then the 100th, 1000th, ...), or null. */
    private static String counted(long n, String kind) {
        if (n <= 10) {
            return "";
        }
        if (!reportedAt(n)) {
            return null;
        }
        return " (report " + n + " of " + kind + "; the " + (n - n / 10 - 1) + " since report " + n / 10
                + " were not logged: the first 10 are, then the 100th, 1000th, ...)";
    }

    /** A loop thread cleared an interrupt status that a callback (most likely) left on it. */
    static void strayInterrupt(Object loop) {
        LOG.log(System.Logger.Level.WARNING, "aioco: " + loop + " on thread " + Thread.currentThread().getName()
                + " cleared an interrupt status left by a callback; loop threads ignore interrupts (QEMU has"
                + " none), and a status left set would make every wait return at once. Logged once per loop.");
    }

    /**
     * A coroutine was handed {@code what} (a lock) while its context {@code ctx} is closed: it can
     * never run, and what it was handed went to the next waiter. QEMU never gets here (a context
     * outlives its coroutines).
     */
    static void coroutineLost(Coroutine co, AioContext ctx, String what) {
        CoroutineDump.reportedLost(co); // NOTE: once: not again as "lost while suspended" when collected
        String count = lostToClosedCounted(ctx);
        if (count == null) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "aioco: " + co + " lost: it waited for " + what + " in " + ctx
                + ", which is closed, so it can never run; dropped (its finally blocks never run) and what it"
                + " was handed went to the next waiter" + count);
    }

    /**
     * {@code where} (a class and method: {@code CoQueue.next()}, {@code Coroutine.cancel()}) ended the
     * wait of {@code co} for {@code what}, but its context {@code ctx} is closed: it can never run and
     * is dropped (its finally blocks never run); the caller was not thrown the closed context's
     * exception and went on (a queue woke its next waiter).
     */
    static void coroutineLost(Coroutine co, AioContext ctx, String what, String where) {
        CoroutineDump.reportedLost(co); // NOTE: once: not again as "lost while suspended" when collected
        String count = lostToClosedCounted(ctx);
        if (count == null) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "aioco: " + co + " lost: " + where + " ended its wait for " + what
                + " but its context " + ctx + " is closed, so it can never run; dropped (its finally blocks never"
                + " run)" + count);
    }

    /**
     * A callback of {@code ctx} ({@code what}: a bottom half, an fd handler and its channel, a timer)
     * threw; {@code count} failures of callbacks of its class so far (logged at 1, 10, 100, ...).
     * With {@code trace}, the exception's stack trace goes with the line (a loop of aioco's passes it
     * to the thread's uncaught-exception handler instead).
     */
    static void callbackFailed(AioContext ctx, String what, long count, Throwable failure, boolean trace) {
        String line = "aioco: " + what + " in " + ctx + " on thread " + Thread.currentThread().getName()
                + " threw " + failure + (count == 1 ? "" : " (failure " + count + " of callbacks of this class;"
                + " reported at 1, 10, 100, ...)") + "; the loop went on with the other callbacks";
        if (trace) {
            LOG.log(System.Logger.Level.WARNING, line, failure);
        } else {
            LOG.log(System.Logger.Level.WARNING, line);
        }
    }

    /**
     * {@link Coroutine#wake()} found the coroutine's context {@code ctx} closed: it can never run
     * again, so the wake-up is dropped (as a lock hand-off to it is, see coroutineLost).
     */
    static void wakeLost(Coroutine co, AioContext ctx) {
        CoroutineDump.reportedLost(co); // NOTE: once: not again as "lost while suspended" when collected
        String count = lostToClosedCounted(ctx);
        if (count == null) {
            return;
        }
        LOG.log(System.Logger.Level.WARNING, "aioco: wake-up of " + co + " lost: its context " + ctx
                + " is closed, so it can never run; dropped (its finally blocks never run)" + count);
    }

    /** Whether the {@code n}-th failure of a kind is reported: the 1st, 10th, 100th, ... (rate limiting). */
    static boolean reportedAt(long n) {
        if (n <= 0) {
            return false;
        }
        while (n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }

    /** At most this many leaked bottom halves are named in the line; the rest are counted. */
    static final int LEAKS_NAMED = 10;

    /**
     * Bottom halves were still scheduled when {@code ctx} closed (QEMU's "BH leaked", which aborts):
     * one line naming the first few.
     */
    static void bottomHalvesLeaked(AioContext ctx, java.util.List<BottomHalf> leaked) {
        StringBuilder line = new StringBuilder("aioco: ").append(ctx).append(" closed with ")
                .append(leaked.size()).append(" bottom half(s) still scheduled, dropped without running (BH leaked): ");
        for (int i = 0; i < Math.min(leaked.size(), LEAKS_NAMED); i++) {
            line.append(i == 0 ? "" : ", ").append(leaked.get(i));
        }
        if (leaked.size() > LEAKS_NAMED) {
            line.append(", and ").append(leaked.size() - LEAKS_NAMED).append(" more");
        }
        LOG.log(System.Logger.Level.WARNING, line.toString());
    }

    /**
     * Work of {@code group} failed ({@code what}: a connection coroutine that threw, an accept, a
     * connection's set-up); the group serves on. {@code count}: the failures of this kind and
     * exception class so far (logged at 1, 10, 100, ...). With {@code trace}, the stack trace goes with the
     * line (a connection's failure goes to the thread's uncaught-exception handler instead).
     */
    static void groupFailed(IOThreadGroup group, String what, long count, Throwable failure, boolean trace) {
        String line = "aioco: " + group + " on thread " + Thread.currentThread().getName() + ": " + what + ": " + failure
                + (count == 1 ? "" : " (failure " + count + " of this kind; reported at 1, 10, 100, ...)");
        if (trace) {
            LOG.log(System.Logger.Level.WARNING, line, failure);
        } else {
            LOG.log(System.Logger.Level.WARNING, line);
        }
    }

    /**
     * The stall detector saw a callback run on a loop thread for at least its threshold (see
     * LoopObserve): what runs, for how long, and the loop thread's stack when it was seen, one
     * {@code \tat} line per frame as jstack prints them. Called by the watcher thread.
     */
    static void loopStall(io.aioco.internal.observe.StallWatcher.Stall stall) {
        LOG.log(System.Logger.Level.WARNING, stallText(stall));
    }

    /** The text of {@link #loopStall}'s line. */
    static String stallText(io.aioco.internal.observe.StallWatcher.Stall stall) {
        // NOTE: the names quoted, the callback's text escaped: a name cannot forge a frame line of the report
        StringBuilder line = new StringBuilder("aioco: loop stall: ").append(stall.kindName()).append(' ')
                .append(CoroutineDump.escapeControls(stall.what())).append(" has been running for at least ")
                .append(stall.forNs() / 1_000_000).append(" ms on thread ")
                .append(CoroutineDump.quote(stall.thread().getName())).append(" of ")
                .append(CoroutineDump.quote(stall.loop()))
                .append(stall.report() == 1 ? "" : " (still running: report " + stall.report() + ")")
                .append("; nothing else runs on this loop meanwhile (-Daioco.stall.thresholdMs=off disables this"
                        + " report). Stack of the loop thread when seen:");
        for (StackTraceElement f : stall.stack()) {
            line.append("\n\tat ").append(io.aioco.internal.observe.StallWatcher.frame(f));
        }
        return line.toString();
    }

    /** A property of the stall detector has a value it cannot read: the default is used. */
    static void badStallProperty(String name, String value, long byDefault) {
        LOG.log(System.Logger.Level.WARNING, "aioco: cannot read -D" + name + "=" + value
                + " (a number of milliseconds, or off); using " + byDefault);
    }
}
