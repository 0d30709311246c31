package io.aioco.examples.nbd;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;

/**
 * Direct buffers for payloads, by power-of-two size classes, reused within one connection so that
 * the steady state allocates nothing: a 1 MiB read costs one {@code pread} into the buffer and one
 * socket write from it, with no copy through a temporary direct buffer.
 *
 * <p>Threads: only the connection's loop thread takes and returns buffers. A worker fills or drains
 * a buffer between the two; the thread pool's hand-offs order its accesses.
 */
final class BufferPool {
    private static final int MIN_SHIFT = 12; // 4 KiB
    private static final int MAX_SHIFT = 25; // 32 MiB, Nbd.MAX_PAYLOAD
    /** Bytes kept per size class: enough for a queue of requests in flight, bounded for large ones. */
    private static final long KEPT_BYTES_PER_CLASS = 32L << 20;
    private static final int MAX_KEPT_PER_CLASS = 64;
    /** Bytes kept over all classes: the most an idle connection holds beyond the server's budget. */
    private static final long KEPT_BYTES_TOTAL = 32L << 20;

    @SuppressWarnings("unchecked")
    private final ArrayDeque<ByteBuffer>[] free = new ArrayDeque[MAX_SHIFT - MIN_SHIFT + 1];
    /** Capacity of the buffers in {@link #free}. */
    private long keptBytes;

    BufferPool() {
        for (int i = 0; i < free.length; i++) {
            free[i] = new ArrayDeque<>();
        }
    }

    /** A cleared buffer with exactly {@code size} bytes between position and limit. */
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
        }
        buffer.clear().limit(size);
        return buffer;
    }

    /** Gives a buffer of {@link #take} back; null is ignored. */
    void give(ByteBuffer buffer) {
        if (buffer == null) {
            return;
        }
        int sizeClass = sizeClass(buffer.capacity());
        ArrayDeque<ByteBuffer> list = free[sizeClass];
        long keep = Math.min(MAX_KEPT_PER_CLASS, Math.max(1, KEPT_BYTES_PER_CLASS / buffer.capacity()));
        if (list.size() < keep && keptBytes + buffer.capacity() <= KEPT_BYTES_TOTAL) {
            list.addLast(buffer);
            keptBytes += buffer.capacity();
        }
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
