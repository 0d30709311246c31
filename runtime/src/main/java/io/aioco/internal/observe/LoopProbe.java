package io.aioco.internal.observe;

/**
 * What one event loop (an {@code AioContext}) is dispatching right now, for the stall detector
 * ({@link StallWatcher}) and the JFR long-callback event. The loop thread writes it with plain
 * stores; the watcher thread reads it racily and checks what it read (see {@link
 * StallWatcher#check}).
 *
 * <p>Cost per dispatch ({@link #begin}): one plain store, of the callback ({@link #what}), into this
 * object, which only the loop thread writes. No fence, no clock read, no allocation, no counter
 * read-modify-write. The kind ({@link #kind}) is stored only when it differs from the previous
 * dispatch's (a compare of a field the loop thread just wrote, in the same cache line): consecutive
 * dispatches of one kind (the bottom halves of a poll, its read handlers, its timers) store nothing
 * more; a change of kind (bottom halves to coroutines and back, read to write handlers, fd handlers
 * to timers) costs a second store for that dispatch only. The context's guard reads the JFR flag
 * ({@link JfrOn#callbacks()}, a plain load of a static field) before and after each callback.
 *
 * <p>Per poll ({@link #pollStarted}, {@link #pollEnded}): the poll counter ({@link #polls}), then,
 * when the poll ends, {@link #what} cleared (one store each: the kind stays, and the thread is
 * stored by the context only when another thread polls it, {@link #polledBy}). The watcher tells
 * one long dispatch from many short ones by the triple (poll, kind, callback) it samples: a
 * dispatch it sees twice, a sampling interval apart, with the same triple has been running all
 * along. Why this is enough, and where it is not:
 * <ul>
 *   <li>A callback never runs twice with the same kind in one poll through the runtime's own
 *       scheduling: a bottom half scheduled again from its callback runs in the next poll (the ring
 *       is dispatched up to the tail it had when the poll began), a timer re-armed during a pass
 *       waits for the next pass, a coroutine scheduled again during {@code co_schedule_bh} runs at the
 *       next run of that bottom half, an fd handler runs once per readiness per poll. So a bottom
 *       half that reschedules itself at every poll, however often, changes the poll counter between
 *       two samples and is never reported.
 *   <li>A nested poll of the same context from a callback counts a new poll: the rest of the outer
 *       callback counts afresh from there (as before this scheme: a callback that polls its loop
 *       lets the loop run).
 *   <li>Not told apart: one object dispatched twice with the same kind in one poll, when the
 *       application makes it so: one {@code Runnable} given to two bottom halves or two timers that
 *       are due in the same poll. If the watcher's samples, a threshold apart, fall on the first and
 *       the second of those dispatches, the report says that callback ran for the whole time. The
 *       loop was then inside one poll for at least the threshold (it served no new event), so the
 *       report is of a real stall of the loop; only its attribution to that callback may be too
 *       long. Telling them apart needs a per-dispatch count, a second store at every dispatch.
 *   <li>An fd handler object registered for both read and write is dispatched with two kinds
 *       ({@link #FD_READ} then {@link #FD_WRITE}), so those two dispatches are told apart.
 * </ul>
 *
 * <p>Threads: {@link #begin}, {@link #idle}, {@link #pollStarted}, {@link #pollEnded} and {@link
 * #polledBy} on the thread polling the context only; the fields may be read from any thread (racy:
 * a reader may see the callback of one dispatch with the kind of the next, which {@link
 * StallWatcher#check} guards against by sampling twice).
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

    /** The loop's name ({@code AioContext.toString()}), for reports. */
    final String loop;

    /**
     * Polls of this loop so far (wrapping): with {@link #kind} and {@link #what}, tells a dispatch
     * from a later dispatch of the same callback (see the class comment). Written once per poll.
     */
    public int polls;
    /**
     * The kind of the dispatch in progress, or of the last one (of this poll, or of an earlier one:
     * a poll's end leaves it); {@link #IDLE} before the first dispatch and in a nested poll until its
     * first. Meaningful only while {@link #what} is not null: between polls, {@code what} is null.
     */
    public int kind;
    /** The callback (or coroutine) running now, or the last one of this poll; null between polls. */
    public Object what;
    /** The thread of the last poll (stored when another thread than the last one polls). */
    public Thread thread;
    /**
     * How many polls of other contexts (or of this one) the thread of the poll in progress is inside
     * of: 0 for an outermost poll, 1 for a poll made by a callback of an outermost poll, ... Written
     * once per poll, only when it changes (a nested poll is not the hot path); the watcher reports the
     * deepest of a thread's stalled probes (the innermost callback, rv12).
     */
    public int depth;
    /** The JFR long-callback event of the dispatch in progress, or null (JFR off). Loop thread only. */
    public Object event;

    /** @param loop the loop's name for reports */
    public LoopProbe(String loop) {
        this.loop = loop;
    }

    /**
     * Called by the loop thread before it runs a callback: one plain store (two when the kind
     * changes from the previous dispatch's).
     *
     * @param kind one of the kinds above, not {@link #IDLE}
     * @param what the callback or coroutine (its {@code toString()} names it in reports)
     */
    public void begin(int kind, Object what) {
        if (this.kind != kind) {
            this.kind = kind;
        }
        this.what = what;
    }

    /** Called by the loop thread as a poll starts (before it may block): a new poll. */
    public void pollStarted() {
        polls++;
    }

    /**
     * Called by the loop thread when a poll ends: no callback runs now ({@link #what} null). One
     * store: the {@link #kind} of the poll's last dispatch stays, so that the next poll's first
     * dispatch of the same kind stores nothing more than its callback; an event left behind (JFR
     * turned off during a callback) is dropped.
     */
    public void pollEnded() {
        what = null;
        if (event != null) {
            event = null;
        }
    }

    /** Called by the loop thread when a nested poll starts or ends: no callback runs now. */
    public void idle() {
        what = null;
        kind = IDLE;
    }

    /** Called by the loop thread when it polls the context and the last poll was another thread's: remembers it as the loop's thread. */
    public void polledBy(Thread me) {
        if (thread != me) {
            thread = me;
        }
    }

    /** @return the kind's words for reports: "bottom half", "timer callback", ... */
    public static String kindName(int kind) {
        return kind >= 0 && kind < KINDS.length ? KINDS[kind] : "callback";
    }

    /** @return the kind of what runs now ({@link #IDLE} between polls); the loop thread */
    public int kind() {
        return kind;
    }

    @Override
    public String toString() {
        return "LoopProbe[" + loop + "]";
    }
}
