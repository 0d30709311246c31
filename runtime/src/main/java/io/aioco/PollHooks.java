package io.aioco;

/**
 * What the main loop adds around one poll of its main context ({@code main_loop_wait} around
 * {@code aio_poll}, {@code util/main-loop.c}): the iohandler context's channels and timers are
 * waited for by the same wait, and the big lock is released while it blocks. {@link MainLoop}
 * installs it ({@link AioContext#installPollHooks}); a poll uses it only when the main loop asks
 * ({@link AioContext#poll(boolean, boolean)}), never in a nested poll from a callback.
 *
 * <p>Every method is called from the loop thread (the main-loop thread), inside that poll.
 */
interface PollHooks {
    /**
     * Brings the guest's poll set up to date (its pending fd updates, its IOCanReadHandlers). Called
     * after the wait is announced (or before a poll that does not block). Returns whether a channel
     * was added, changed or removed.
     */
    boolean buildPollSet();

    /** The guest's own timeout ({@code aio_compute_timeout}): 0 if it has work, -1 if none. */
    long timeoutNs();

    /** Called around the select: whether the shared selector hands ready keys to the guest. */
    void selecting(boolean on);

    /** Called just before the poll blocks (releases the big lock). */
    void beforeBlock();

    /** Called just after the poll blocked (retakes the big lock). */
    void afterBlock();
}
