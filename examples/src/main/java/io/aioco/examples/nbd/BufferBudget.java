package io.aioco.examples.nbd;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * <p>No client can stall another through it. A client that stops reading its replies keeps what
 * its requests reserved until it reads or leaves, so:
 * <ul>
 * <li>a connection holds at most its {@link #share()} (a quarter of the limit, at least one maximal
 *     request); beyond it, its reader waits for its own requests to finish, never for the others';
 * <li>a connection that holds nothing may always take one request's worth ({@link
 *     #tryReserveFirst}), beyond the limit if need be, up to a {@link #ceiling()} of twice the
 *     limit: so a second client is served while the first has spent its share, however that one
 *     behaves.
 * </ul>
 * Memory stays bounded: the buffers of all requests in flight, and the buffers the connections'
 * {@link BufferPool}s keep for reuse, never exceed {@link #ceiling()} ({@code 2 x limit}). Kept
 * buffers are reserved here too, and given back when the budget is short: a reader about to wait
 * asks every pool to {@linkplain #askToTrim trim}. Enough clients that stop reading can still hold
 * every byte, but only until their replies' write deadline ({@code --write-timeout}) ends them.
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
    /** What asks each connection to drop its kept buffers (on its own loop thread). */
    private final Set<Runnable> trimmers = ConcurrentHashMap.newKeySet();
    /**
     * Bytes of {@link #reserved} that pools keep for reuse ({@link #kept}, {@link #unkept}). A
     * waiter asks the pools to trim only while this is above 0: a trim that gives bytes back wakes
     * the waiters, and one that still cannot proceed must not ask again for nothing (the trims would
     * wake it again, for ever: a livelock of the loop, found by the re-review of issue 14).
     */
    private final AtomicLong kept = new AtomicLong();
    /** How often the pools were asked to trim (tests check that asks do not repeat for nothing). */
    private final AtomicLong trimAsks = new AtomicLong();

    /**
     * The largest limit: {@link #ceiling()} ({@code 2 x limit}) plus one request must not overflow a
     * long. 2^60 bytes (1048576T), far beyond any memory.
     */
    static final long MAX_LIMIT = 1L << 60;

    /** @param limit bytes that requests in flight may hold at once, at least one maximal payload, at most {@link #MAX_LIMIT} */
    BufferBudget(long limit) {
        if (limit < Nbd.MAX_PAYLOAD || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("limit: " + limit + " (expected: >= " + Nbd.MAX_PAYLOAD
                    + " and <= " + MAX_LIMIT + ")");
        }
        this.limit = limit;
    }

    /** Bytes that requests may reserve at once when each connection holds something already. */
    long limit() {
        return limit;
    }

    /**
     * The most one connection may hold: a quarter of the limit, at least one maximal request. A
     * connection that would exceed it waits for its own requests to finish.
     */
    long share() {
        return Math.max(Nbd.MAX_PAYLOAD, limit / 4);
    }

    /** The most ever reserved, first requests included: twice the limit. */
    long ceiling() {
        return 2 * limit;
    }

    /** Bytes reserved now: 0 when no request is in flight anywhere. */
    long reserved() {
        return reserved.get();
    }

    /**
     * A future completed by the next {@link #release} (of any bytes); any thread. A request whose
     * client left while a worker still reads into its buffer gives its share back only when that
     * worker is done, after its connection has ended: tests wait for it with this.
     */
    CompletableFuture<Void> nextRelease() {
        CompletableFuture<Void> released = new CompletableFuture<>();
        waiters.add(released);
        return released;
    }

    /** The most bytes ever reserved at once. */
    long peak() {
        return peak.get();
    }

    /** Reserves {@code bytes} if they fit in the limit; any thread. */
    boolean tryReserve(long bytes) {
        return tryReserveWithin(bytes, limit);
    }

    /**
     * Reserves the first request of a connection that holds nothing: within the limit if it fits,
     * else beyond it, up to the {@link #ceiling()}. Any thread.
     */
    boolean tryReserveFirst(long bytes) {
        return tryReserveWithin(bytes, ceiling());
    }

    private boolean tryReserveWithin(long bytes, long most) {
        assert bytes >= 0 && bytes <= limit : bytes;
        while (true) {
            long now = reserved.get();
            if (now + bytes > most) {
                return false;
            }
            if (reserved.compareAndSet(now, now + bytes)) {
                peak.accumulateAndGet(now + bytes, Math::max);
                return true;
            }
        }
    }

    /** Registers what makes a connection's pool give its kept buffers back; any thread. */
    void addTrimmer(Runnable trimmer) {
        trimmers.add(trimmer);
    }

    /** Unregisters a trimmer of {@link #addTrimmer}; any thread. */
    void removeTrimmer(Runnable trimmer) {
        trimmers.remove(trimmer);
    }

    /** A pool keeps {@code bytes} it has reserved ({@link #tryReserve}) for reuse; any thread. */
    void kept(long bytes) {
        kept.addAndGet(bytes);
    }

    /** A pool stops keeping {@code bytes} (it releases them next, or hands them to a request). */
    void unkept(long bytes) {
        long left = kept.addAndGet(-bytes);
        assert left >= 0 : left;
    }

    /** Bytes that pools keep for reuse now. */
    long keptBytes() {
        return kept.get();
    }

    /** How many times the pools were asked to trim. */
    long trimAsks() {
        return trimAsks.get();
    }

    /**
     * Asks every connection to give its kept buffers back (they do it on their own threads), if any
     * pool keeps something: with nothing kept, a trim could give nothing back.
     */
    void askToTrim() {
        if (kept.get() == 0) {
            return;
        }
        trimAsks.incrementAndGet();
        for (Runnable trimmer : trimmers) {
            trimmer.run();
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
     * @param first whether the caller holds nothing (may go beyond the limit, see {@link #tryReserveFirst})
     * @param abandon completed when the caller must stop waiting (its connection closes)
     * @return whether {@code bytes} were reserved (false: woken, check again)
     */
    @CoroutineFn
    boolean awaitRelease(long bytes, boolean first, CompletableFuture<Void> abandon) {
        CompletableFuture<Void> released = new CompletableFuture<>();
        waiters.add(released);
        if (first ? tryReserveFirst(bytes) : tryReserve(bytes)) {
            waiters.remove(released);
            return true;
        }
        askToTrim(); // kept buffers of idle connections must not stall a reader (asks only if some are kept)
        try {
            Coroutine.await(CompletableFuture.anyOf(released, abandon));
        } finally {
            waiters.remove(released); // a cancelled reader leaves no registration behind
        }
        return false;
    }

    /**
     * Gives {@code bytes} back and wakes every waiter registered now; any thread.
     *
     * <p>NOTE: a woken waiter may run at once, inside {@code complete} on this thread, and register
     * again when the bytes are still too few. Only the waiters taken out before any is woken are
     * woken: one registered meanwhile waits for a later release. Draining the queue while waking
     * would wake it again and again, for ever (the loop spun and stopped serving, re-review of
     * issue 14).
     */
    void release(long bytes) {
        if (bytes == 0) {
            return;
        }
        long left = reserved.addAndGet(-bytes);
        assert left >= 0 : left;
        if (waiters.isEmpty()) {
            return;
        }
        List<CompletableFuture<Void>> woken = new ArrayList<>();
        CompletableFuture<Void> waiter;
        while ((waiter = waiters.poll()) != null) {
            woken.add(waiter);
        }
        for (CompletableFuture<Void> w : woken) {
            w.complete(null);
        }
    }
}
