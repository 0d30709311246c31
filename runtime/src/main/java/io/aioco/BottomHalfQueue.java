package io.aioco;

/**
 * The state of an {@link AioContext}'s loop-owned bottom-half queue (see AioContext's bottom-half
 * section): a ring of absolute indices {@code head..tail}, masked on access. Loop thread only.
 *
 * <p>It is an object of its own because other threads read and compare-and-set the context's
 * fields at every schedule (closed, pollingThread, the shared list, notifyMe), while this state
 * changes at every dispatch: in one object they shared cache lines, and a stream of schedules from
 * another thread ran about 1.5x slower. The leading longs keep the hot fields off the cache line of
 * whatever was allocated just before (HotSpot lays longs out first).
 */
final class BottomHalfQueue {
    static final int MIN_CAPACITY = 16;

    @SuppressWarnings("unused")
    private long pad0, pad1, pad2, pad3, pad4, pad5, pad6, pad7;

    /** The entries; length a power of two. */
    BottomHalf[] ring = new BottomHalf[MIN_CAPACITY];
    /** Per slot: the entry came from the shared list (its PENDING is still set). */
    boolean[] shared = new boolean[MIN_CAPACITY];
    /** The next entry to dispatch. */
    int head;
    /** Where the next entry goes. */
    int tail;
    /** Local schedules so far (wraps); lets busyPoll notice one made by an ioPoll function. */
    int schedules;
}
