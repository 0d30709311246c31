package io.aioco.examples.nbd;

import io.aioco.Coroutine;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One transmission request as read from the wire, and what serving it produced. Owned by the
 * coroutine that serves it (after the reader handed it over), on the connection's loop thread.
 *
 * <p>Its disk work runs on a worker ({@link #runWork}); when the request is cancelled (its client
 * left) the work is either dropped before it starts, or, already running, finishes on its worker
 * while the request's coroutine ends: {@link #abandonWork} tells which, so that the buffer the
 * worker still uses is neither reused nor given back to the budget before the worker is done.
 */
final class Request {
    /** Command flags (NBD_CMD_FLAG_*). */
    final int flags;
    /** Command (NBD_CMD_*). */
    final int type;
    /** The client's opaque cookie, echoed in the reply. */
    final long cookie;
    /** Offset in the export; an unsigned value on the wire, so negative means huge. */
    final long offset;
    /** Length, unsigned 32-bit. */
    final long length;
    /** A write's payload, or a read's data once read; from the connection's buffer pool. */
    ByteBuffer data;
    /** Bytes of the server's buffer budget this request holds until its reply is out. */
    long reserved;
    /** A block status reply's payload. */
    ByteBuffer status;
    /** Why the request failed, for the error chunk and the log (null on success). */
    String errorMessage;
    /** The coroutine serving it, to cancel when the client leaves. */
    Coroutine coroutine;

    private static final int IDLE = 0;
    private static final int RUNNING = 1;
    private static final int DROPPED = 2;
    private static final int ABANDONED = 3;
    /** Where the request's disk work is: IDLE (none on a worker), RUNNING, DROPPED, ABANDONED. */
    private final AtomicInteger work = new AtomicInteger(IDLE);
    /** Called by the worker when abandoned work ends: gives back what the request held. */
    private volatile Runnable afterAbandoned;

    Request(int flags, int type, long cookie, long offset, long length) {
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
    }

    /**
     * Runs disk work on a worker, unless the request was abandoned before it started (then it is
     * dropped: {@link CancellationException}). Called on the worker thread.
     */
    <T> T runWork(java.util.concurrent.Callable<T> body) throws Exception {
        if (!work.compareAndSet(IDLE, RUNNING)) {
            throw new CancellationException("dropped: its client left before it started");
        }
        try {
            return body.call();
        } finally {
            if (!work.compareAndSet(RUNNING, IDLE)) { // abandoned meanwhile: the request is gone
                afterAbandoned.run();
            }
        }
    }

    /**
     * Called on the loop thread when the request's coroutine was cancelled: no more work may start
     * for it; work already running finishes on its worker.
     *
     * @param release what gives back the request's buffer budget, run by the worker once it is done
     * @return true if no work runs (the caller gives everything back now), false if a worker still
     *     uses the request's buffer and runs {@code release} when it is done
     */
    boolean abandonWork(Runnable release) {
        afterAbandoned = release; // NOTE: before the state change that the worker reads after its work
        if (work.compareAndSet(IDLE, DROPPED)) {
            return true;
        }
        if (work.compareAndSet(RUNNING, ABANDONED)) {
            return false;
        }
        return true; // DROPPED already
    }

    /** Whether the client asked for force unit access. */
    boolean fua() {
        return (flags & Nbd.CMD_FLAG_FUA) != 0;
    }

    /** The request for a log line: command, range, flags. */
    String describe() {
        StringBuilder text = new StringBuilder(Nbd.commandName(type));
        if (type != Nbd.CMD_FLUSH) {
            text.append(" offset ").append(Long.toUnsignedString(offset)).append(" length ").append(length);
        }
        if (flags != 0) {
            text.append(" flags 0x").append(Integer.toHexString(flags));
        }
        return text.toString();
    }
}
