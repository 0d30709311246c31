package io.aioco.examples.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers for payloads, by power-of-two size classes, reused within one connection so that
 * the steady state allocates nothing: a 1 MiB read costs one {@code pread} into the buffer and one
 * socket write from it, with no copy through a temporary direct buffer.
 *
 * <p>Kept buffers count against the server's {@link BufferBudget}: a buffer is kept only if the
 * budget has room for it (it is reserved while kept, and given back when a request takes it, which
 * has reserved its own), and {@link #trim()} drops every kept buffer and gives its bytes back, as
 * the connection does when it ends or when the budget is short ({@link BufferBudget#askToTrim}).
 * So the budget bounds requests' buffers and kept ones together.
 *
 * <p>Threads: only the connection's loop thread takes, returns and trims buffers. A worker fills
 * or drains a buffer between the two; the thread pool's hand-offs order its accesses.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12; // 4 KiB
    private static final int MAX_SHIFT = 25; // 32 MiB, Nbd.MAX_PAYLOAD
    /** Bytes kept per size class: enough for a queue of requests in flight, bounded for large ones. */
    private static final long KEPT_BYTES_PER_CLASS = 32L << 20;
    private static final int MAX_KEPT_PER_CLASS = 64;
    /** Bytes kept over all classes, at most: what an idle connection may hold of the budget. */
    private static final long KEPT_BYTES_TOTAL = 32L << 20;

    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] free = new ArrayDeque[MAX_SHIFT - MIN_SHIFT + 1];
    private final BufferBudget budget;
    /** Capacity of the buffers in {@link #free}: what this pool holds of the budget. */
    private long keptBytes;
    /** Set by {@link #close()}: buffers given back are dropped, not kept. */
    private boolean closed;

    /** @param budget where kept buffers are counted */
    BufferPool(BufferBudget budget) {
        this.budget = budget;
        for (int i = 0; i < free.length; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    /**
     * A cleared buffer with exactly {@code size} bytes between position and limit. The caller has
     * reserved its capacity ({@link #capacityFor}) in the budget already; a kept buffer's own
     * reservation is given back.
     */
    ByteBuffer take(int size) {
        if (size > Nbd.MAX_PAYLOAD) {
            throw new IllegalArgumentException("size: " + size + " (expected: <= " + Nbd.MAX_PAYLOAD + ")");
        }
        int sizeClass = sizeClass(size);
        ByteBuffer buffer = free[sizeClass].pollLast();
        if (buffer == null) {
            buffer = ByteBuffer.allocateDirect(1 << (sizeClass + MIN_SHIFT));
        } else {
            keptBytes -= buffer.capacity();
            budget.unkept(buffer.capacity());
            budget.release(buffer.capacity());
        }
        buffer.clear().limit(size);
        return buffer;
    }

    /**
     * Gives a buffer of {@link #take} back (its user's reservation is the caller's to give back);
     * it is kept if the pool has room for it and the budget too. Null is ignored.
     */
    void give(ByteBuffer buffer) {
        if (buffer == null) {
            return;
        }
        int sizeClass = sizeClass(buffer.capacity());
        ArrayDeque<ByteBuffer> list = free[sizeClass];
        long keep = Math.min(MAX_KEPT_PER_CLASS, Math.max(1, KEPT_BYTES_PER_CLASS / buffer.capacity()));
        if (!closed && list.size() < keep && keptBytes + buffer.capacity() <= KEPT_BYTES_TOTAL
                && budget.tryReserve(buffer.capacity())) {
            list.addLast(buffer);
            keptBytes += buffer.capacity();
            budget.kept(buffer.capacity());
        }
    }

    /**
     * Drops every kept buffer and gives their bytes back to the budget; keeps none from now on (the
     * connection ended: a request that finishes after it must not leave its buffer reserved here).
     */
    void close() {
        closed = true;
        trim();
    }

    /** Drops every kept buffer and gives their bytes back to the budget. */
    void trim() {
        if (keptBytes == 0) {
            return;
        }
        for (ArrayDeque<ByteBuffer> list : free) {
            list.clear();
        }
        long bytes = keptBytes;
        keptBytes = 0;
        budget.unkept(bytes);
        budget.release(bytes);
    }

    /** Bytes of the budget held by kept buffers. */
    long keptBytes() {
        return keptBytes;
    }

    /** The capacity of the buffer that {@link #take} hands out for {@code size} bytes: what it costs. */
    static long capacityFor(int size) {
        return 1L << (sizeClass(size) + MIN_SHIFT);
    }

    private static int sizeClass(int size) {
        int shift = size <= 1 << MIN_SHIFT ? MIN_SHIFT : 32 - Integer.numberOfLeadingZeros(size - 1);
        return shift - MIN_SHIFT;
    }
}
