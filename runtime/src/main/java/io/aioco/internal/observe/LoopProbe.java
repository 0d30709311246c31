package io.aioco.internal.observe;

/**
 * What one event loop (an {@code AioContext}) is dispatching right now, for the stall detector
 * ({@link StallWatcher}) and the JFR long-callback event. The loop thread writes it with plain
 * stores; the watcher thread reads it racily and checks what it read (see {@link
 * StallWatcher#check}).
 *
 * <p>Cost per dispatch ({@link #begin}): two plain stores into this object, which only the loop
 * thread writes: the stamp and the callback. No fence, no clock read, no allocation. The watcher
 * tells a long dispatch from many short ones by the stamp: it changes at every dispatch.
 *
 * <p>Threads: {@link #begin}, {@link #idle} and {@link #polledBy} on the thread polling the context
 * only; the fields may be read from any thread (racy: a reader may see a stamp and the callback of
 * the next dispatch, which {@link StallWatcher#check} guards against).
 */
public final class LoopProbe {
    /** Kind: not in a callback (waiting for events, or between polls). */
    public static final int IDLE = 0;
    /** Kind: a bottom half's callback ({@code aio_bh_call}). */
    public static final int BOTTOM_HALF = 1;
    /** Kind: an fd handler's read callback ({@code io_read}). */
    public static final int FD_READ = 2;
    /** Kind: an fd handler's write callback ({@code io_write}). */
    public static final int FD_WRITE = 3;
    /** Kind: a timer's callback ({@code timerlist_run_timers}). */
    public static final int TIMER = 4;
    /** Kind: a coroutine entered by the context's scheduled-coroutines bottom half ({@code co_schedule_bh_cb}). */
    public static final int COROUTINE = 5;

    private static final String[] KINDS = {"idle", "bottom half", "fd read handler", "fd write handler",
            "timer callback", "coroutine"};
    /** The low bits of {@link #stamp} that hold the kind. */
    static final int KIND_MASK = 7;

    /** The loop's name ({@code AioContext.toString()}), for reports. */
    final String loop;

    /**
     * Bits 0-2: the kind of what runs now ({@link #IDLE} between callbacks); above: a count of
     * dispatches, so that each dispatch has a stamp of its own (wrapping: the watcher compares
     * stamps read a sampling interval apart, far fewer than 2^29 dispatches).
     */
    public int stamp;
    /** The callback (or coroutine) running now; null or stale when the stamp's kind is {@link #IDLE}. */
    public Object what;
    /** The thread of the last poll. */
    public Thread thread;
    /** The JFR long-callback event of the dispatch in progress, or null (JFR off). Loop thread only. */
    public Object event;

    /** @param loop the loop's name for reports */
    public LoopProbe(String loop) {
        this.loop = loop;
    }

    /**
     * Called by the loop thread before it runs a callback: two plain stores.
     *
     * @param kind one of the kinds above, not {@link #IDLE}
     * @param what the callback or coroutine (its {@code toString()} names it in reports)
     */
    public void begin(int kind, Object what) {
        stamp = ((stamp & ~KIND_MASK) + (KIND_MASK + 1)) | kind;
        this.what = what;
    }

    /** Called by the loop thread when a poll ends: no callback runs now. */
    public void idle() {
        stamp = (stamp & ~KIND_MASK) + (KIND_MASK + 1);
        what = null;
    }

    /** Called by the loop thread at each poll: remembers it as the loop's thread. */
    public void polledBy(Thread me) {
        if (thread != me) {
            thread = me;
        }
    }

    /** @return the kind's words for reports: "bottom half", "timer callback", ... */
    public static String kindName(int kind) {
        return kind >= 0 && kind < KINDS.length ? KINDS[kind] : "callback";
    }

    /** @return the kind of what runs now ({@link #IDLE} between callbacks); the loop thread */
    public int kind() {
        return stamp & KIND_MASK;
    }

    /** @return the kind in a stamp */
    static int kindOf(int stamp) {
        return stamp & KIND_MASK;
    }

    @Override
    public String toString() {
        return "LoopProbe[" + loop + "]";
    }
}
