package io.aioco;

/**
 * One {@link Coroutine#withTimeoutNs} call in progress: its deadline's timer and whether it has
 * passed. Internal. Scopes nest through {@link #parent}; a {@link CoWait} remembers the innermost
 * scope it was made in, so a timer cancels a wait only if the wait lies inside its scope.
 *
 * <p>Threads: created, armed and closed by the coroutine's thread; {@link #expire()} runs on the
 * timer's context thread (or the coroutine's, for a deadline already past).
 */
final class TimeoutScope {
    /** The enclosing scope of the same coroutine, or null. */
    final TimeoutScope parent;
    /**
     * Whether its {@code withTimeoutNs} frame has returned because the body suspended (the frame is
     * saved, not on the thread's stack) and has not been resumed since. A refused suspension closes
     * the innermost scopes that are so ({@code Coroutine.suspensionRefused}): they were opened
     * below the refusing frame and will never be resumed. The coroutine's thread only.
     */
    boolean suspendedOut;
    private final Coroutine coroutine;
    private final String description;
    /** Null until the deadline passed; then what the scope's waits throw. Written once. */
    private volatile CoroutineTimeoutException expired;
    /** The deadline's timer, or null (a deadline past at once). Coroutine thread only. */
    private Timer timer;
    /** The deadline's clock, or null until armed (or a deadline past at once): for the dump. Written once. */
    private volatile ClockType clock;
    /** The deadline on {@link #clock}: written before it (read after it, by the dump). */
    private long deadlineNs;

    TimeoutScope(Coroutine coroutine, TimeoutScope parent, String description) {
        this.coroutine = coroutine;
        this.parent = parent;
        this.description = description;
    }

    /** Arms the deadline on {@code ctx}; a deadline of 0 ns or less expires at once. Coroutine thread. */
    void arm(AioContext ctx, ClockType clock, long ns) {
        if (ns <= 0) {
            expire();
            return;
        }
        long deadline = clock.nowNs() + ns;
        timer = ctx.newTimer(clock, this::expire);
        deadlineNs = deadline < 0 ? Long.MAX_VALUE : deadline; // NOTE: a huge ns saturates
        this.clock = clock;
        timer.modNs(deadlineNs);
    }

    /**
     * For the dump's deadlock report: how long until the deadline of this scope or of the enclosing
     * scope that ends first, as "in 1.9 s on VIRTUAL", or "now" once one has passed (its wait is
     * being cancelled); null when no deadline is armed. Any thread, racy.
     */
    String remainingForDump() {
        long best = Long.MAX_VALUE;
        ClockType bestClock = null;
        for (TimeoutScope scope = this; scope != null; scope = scope.parent) {
            if (scope.expired != null) {
                return "now (its deadline has passed)";
            }
            ClockType armed = scope.clock;
            if (armed != null) {
                long left = scope.deadlineNs == Long.MAX_VALUE ? Long.MAX_VALUE : scope.deadlineNs - armed.nowNs();
                if (bestClock == null || left < best) {
                    best = left;
                    bestClock = armed;
                }
            }
        }
        if (bestClock == null) {
            return null;
        }
        return best <= 0 ? "now (its deadline has passed)" : "in " + CoroutineDump.duration(best) + " on " + bestClock;
    }

    /** Disarms the deadline when the body ends. Coroutine thread. */
    void close() {
        if (timer != null) {
            timer.del();
        }
    }

    /**
     * The deadline passed: marks the scope expired, then cancels the coroutine's current wait if it
     * lies inside this scope. NOTE: the flag is written before the wait's state is read; the
     * publisher CASes the state before reading the flag (CoWait.markPublished): one of them sees
     * the other.
     */
    void expire() {
        CoroutineTimeoutException exception = new CoroutineTimeoutException(description + " timed out in " + coroutine);
        expired = exception;
        CoWait wait = coroutine.currentWait();
        if (wait != null && encloses(wait)) {
            wait.cancel(exception, "Coroutine.withTimeoutNs's deadline");
        }
    }

    /** @return the exception the scope's waits throw once expired, else null */
    CoroutineTimeoutException expired() {
        return expired;
    }

    /** @return whether {@code wait} was made inside this scope (or one nested in it) */
    boolean encloses(CoWait wait) {
        for (TimeoutScope scope = wait.scope; scope != null; scope = scope.parent) {
            if (scope == this) {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return "TimeoutScope[" + description + "]";
    }
}
