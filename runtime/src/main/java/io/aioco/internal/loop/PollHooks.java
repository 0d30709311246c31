package io.aioco.internal.loop;

/**
 * What the main loop adds around one wait of its main context ({@code main_loop_wait} around
 * {@code aio_poll}, {@code util/main-loop.c}): the iohandler context's channels and timers are
 * waited for by the same wait, and the big lock is released while it blocks. The one hook point of
 * the core poll path: every other poll (any other context, a nested poll of the main context from
 * a callback, a poll run by hand) passes {@link #NONE}, whose calls do nothing. {@code MainLoop}
 * implements it and passes it to the poll of {@code MainLoop.waitOnce} only.
 *
 * <p>Every method is called from the loop thread, inside that poll's wait ({@link
 * Poller#waitForEvents}, {@link Poller#pollNow}).
 */
public interface PollHooks {
    /** The hooks of a poll the main loop adds nothing to. */
    PollHooks NONE = new PollHooks() {
        @Override
        public boolean buildPollSet() {
            return false;
        }

        @Override
        public long timeoutNs() {
            return -1;
        }

        @Override
        public void beforeWait(boolean blocks) {}

        @Override
        public void afterWait(boolean blocked) {}
    };

    /**
     * Brings the guest's poll set up to date (its pending fd updates, its IOCanReadHandlers). Called
     * after the wait is announced (or before a poll that does not block). Returns whether a channel
     * was added, changed or removed.
     */
    boolean buildPollSet();

    /** The guest's own timeout ({@code aio_compute_timeout}): 0 if it has work, -1 if none. */
    long timeoutNs();

    /**
     * Called just before the select or the block: the shared selector hands ready keys to the
     * guest from now on; if {@code blocks}, the poll is about to block (the big lock is released).
     */
    void beforeWait(boolean blocks);

    /**
     * Called just after the select or the block, also when it threw: if {@code blocked}, the big
     * lock is retaken; then the shared selector stops handing keys to the guest.
     */
    void afterWait(boolean blocked);
}
