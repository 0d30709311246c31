package io.aioco.internal.loop;

/**
 * How long an AioContext busy-polls its {@code ioPoll} functions before blocking, and how that
 * time adapts: QEMU's {@code poll_ns}/{@code poll_max_ns}/{@code poll_grow}/{@code poll_shrink}
 * of {@code aio-posix.c}.
 *
 * <p>After each blocking wait the loop reports how long it spent (polling plus blocking). A wait
 * no longer than the current poll time needs no change; one longer than the maximum means polling
 * would not have caught the event, so the poll time shrinks; one in between means a slightly longer
 * poll would have, so it grows (from 4 µs, by the grow factor, up to the maximum).
 */
public final class AdaptivePolling {
    /** QEMU's first non-zero poll time. */
    static final long INITIAL_POLL_NS = 4_000;
    /** QEMU's grow factor when 0 is configured. */
    static final long DEFAULT_GROW = 2;

    // Parameters: written by setParams on any thread, read by the loop thread.
    private volatile long maxNs;
    private volatile long grow;
    private volatile long shrink;
    private volatile boolean reset;

    /** The current poll time. Loop thread only. */
    private long pollNs;

    /**
     * Called from any thread (aio_context_set_poll_params). The new parameters apply from the
     * loop's next wait, with the poll time restarting from 0.
     *
     * @throws IllegalArgumentException naming the offending argument and what was expected
     */
    public void setParams(long maxNs, long grow, long shrink) {
        if (maxNs < 0) {
            throw new IllegalArgumentException("maxNs: " + maxNs + " (expected: >= 0)");
        }
        if (grow < 0) {
            throw new IllegalArgumentException("grow: " + grow + " (expected: >= 0, 0 for the default of 2)");
        }
        if (shrink < 0) {
            throw new IllegalArgumentException("shrink: " + shrink + " (expected: >= 0, 0 to reset to 0)");
        }
        this.grow = grow;
        this.shrink = shrink;
        this.maxNs = maxNs;
        this.reset = true;
    }

    /** Called from the loop thread: whether polling is on at all. */
    public boolean enabled() {
        return maxNs > 0;
    }

    /** Called from the loop thread: the poll time for this wait, at most {@code timeoutNs} (-1: none). */
    public long budgetNs(long timeoutNs) {
        if (reset) {
            reset = false;
            pollNs = 0;
        }
        return timeoutNs < 0 ? pollNs : Math.min(pollNs, timeoutNs);
    }

    /** Called from the loop thread: the current poll time (tests and diagnostics). */
    public long pollNs() {
        return pollNs;
    }

    /** Called from the loop thread after a blocking wait that took {@code blockNs} in all. */
    public void adjust(long blockNs) {
        long max = maxNs;
        if (max == 0) {
            pollNs = 0;
            return;
        }
        if (blockNs <= pollNs) {
            return; // the sweet spot: polling caught it
        }
        if (blockNs > max) {
            long s = shrink;
            pollNs = s == 0 ? 0 : pollNs / s;
        } else if (pollNs < max) {
            long g = grow == 0 ? DEFAULT_GROW : grow;
            long next = pollNs == 0 ? INITIAL_POLL_NS : pollNs * g;
            pollNs = Math.min(next, max);
        }
    }
}
