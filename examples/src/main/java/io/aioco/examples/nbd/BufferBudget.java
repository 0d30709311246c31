package io.aioco.examples.nbd;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The server-wide budget for the payload buffers of requests in flight: a connection reserves a
 * request's buffer here before it reads the request's payload or serves it, and gives it back when
 * the reply is out. When the budget is spent the reader of the connection waits (it stops reading
 * that client's requests), so a burst of large requests slows clients down instead of running the
 * JVM out of direct memory. QEMU has no such budget (each of its clients may hold 16 requests of
 * 32 MiB); it is what a server shared by many clients needs.
 *
 * <p>Threads: any. Connections on different IOThreads reserve and release concurrently; a waiter is
 * woken through a future that the releasing thread completes ({@link Coroutine#await} then resumes
 * the waiter on its own context).
 */
final class BufferBudget {
    private final long limit;
    /** Bytes reserved now. Changed only by compareAndSet in tryReserve and addAndGet in release. */
    private final AtomicLong reserved = new AtomicLong();
    /** The most ever reserved at once (tests check the budget held). */
    private final AtomicLong peak = new AtomicLong();
    /** Readers waiting for bytes to come back; all are completed by the next release. */
    private final ConcurrentLinkedQueue<CompletableFuture<Void>> waiters = new ConcurrentLinkedQueue<>();

    /** @param limit bytes that requests in flight may hold at once, at least one maximal payload */
    BufferBudget(long limit) {
        if (limit < Nbd.MAX_PAYLOAD) {
            throw new IllegalArgumentException("limit: " + limit + " (expected: >= " + Nbd.MAX_PAYLOAD + ")");
        }
        this.limit = limit;
    }

    /** Bytes that may be reserved at once. */
    long limit() {
        return limit;
    }

    /** Bytes reserved now: 0 when no request is in flight anywhere. */
    long reserved() {
        return reserved.get();
    }

    /** The most bytes ever reserved at once. */
    long peak() {
        return peak.get();
    }

    /** Reserves {@code bytes} if they fit; any thread. */
    boolean tryReserve(long bytes) {
        assert bytes >= 0 && bytes <= limit : bytes;
        while (true) {
            long now = reserved.get();
            if (now + bytes > limit) {
                return false;
            }
            if (reserved.compareAndSet(now, now + bytes)) {
                peak.accumulateAndGet(now + bytes, Math::max);
                return true;
            }
        }
    }

    /**
     * Waits until bytes come back, or {@code abandon} is completed, whichever is first. A waiter
     * re-checks with {@link #tryReserve} afterwards; it may be woken with nothing for it (the bytes
     * went to another).
     *
     * <p>NOTE: the waiter registers before it re-checks, so a release between its failed check and
     * its registration is not missed: either the re-check sees the bytes, or the release (which
     * subtracts before it drains the waiters) finds the registration.
     *
     * @param bytes what the caller needs, to re-check after registering
     * @param abandon completed when the caller must stop waiting (its connection closes)
     * @return whether {@code bytes} were reserved (false: woken, check again)
     */
    @CoroutineFn
    boolean awaitRelease(long bytes, CompletableFuture<Void> abandon) {
        CompletableFuture<Void> released = new CompletableFuture<>();
        waiters.add(released);
        if (tryReserve(bytes)) {
            waiters.remove(released);
            return true;
        }
        Coroutine.await(CompletableFuture.anyOf(released, abandon));
        waiters.remove(released);
        return false;
    }

    /** Gives {@code bytes} back and wakes every waiter; any thread. */
    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        long left = reserved.addAndGet(-bytes);
        assert left >= 0 : left;
        CompletableFuture<Void> waiter;
        while ((waiter = waiters.poll()) != null) {
            waiter.complete(null);
        }
    }
}
