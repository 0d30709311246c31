package io.aioco.internal.loop;

/**
 * What the loop does around each callback it runs (a bottom half, an fd handler, a timer): the
 * dispatchers of this package ({@link FdTable#dispatch}, {@link TimerGroup#runDue}) and the
 * context's bottom-half queue call {@link #ran()} after each callback that returned and {@link
 * #failed} for each one that threw, then go on with the next one, so that one callback's exception
 * never keeps the loop from the others (QEMU's callbacks cannot throw; a handler that fails every
 * time is still called every time, as QEMU would). The context implements it: it reports the
 * failure (rate-limited) or keeps it to rethrow when the poll ends, and clears an interrupt status a
 * callback left behind. Loop thread only.
 */
public interface CallbackGuard {
    /**
     * Called from the loop thread before a callback runs (the stall detector and JFR; see {@code
     * io.aioco.internal.observe.LoopProbe}). Default: nothing.
     *
     * @param kind the callback's kind, a constant of {@code LoopProbe}
     * @param callback the callback (its {@code toString()} names it)
     */
    default void begin(int kind, Object callback) {}

    /** Called from the loop thread after a callback returned normally. */
    void ran();

    /**
     * Called from the loop thread after a callback threw {@code failure}.
     *
     * @param callback the callback's object (its class identifies the call site for rate limiting)
     * @param what the callback described for a log line: its kind and what it serves (channel, timer)
     */
    void failed(Object callback, String what, Throwable failure);
}
