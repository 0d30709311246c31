package io.aioco.examples.nbd;

import io.aioco.ClockType;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.CoroutineTimeoutException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A non-blocking socket read and written by coroutines of one context: reads wait for the channel
 * to become readable and writes for it to become writable ({@link Coroutine#yieldUntilReadable},
 * {@link Coroutine#yieldUntilWritable}: QEMU's {@code qio_channel_yield}), each suspending only the
 * coroutine that waits, so the connection's reader and the request writing its reply wait at once.
 * Every wait is a cancellation point: a cancelled coroutine, or one whose {@link
 * Coroutine#withTimeoutNs} deadline passed, stops waiting and gets the exception.
 *
 * <p>Writes have a deadline ({@code --write-timeout}): a reply that the client has not taken in
 * whole when it passes fails with {@link WriteTimeoutException}, so that a client that never reads
 * cannot hold the reply's buffers for ever. The deadline timer is armed only when a write has to
 * wait: a reply that fits in the socket costs nothing more.
 *
 * <p>Threads: everything runs on the loop thread of the connection's context (its coroutines);
 * nothing here is shared with other threads, except that {@link #shutdownInput}, {@link
 * #shutdownOutput} and {@link #close} may run outside coroutines on that same thread.
 */
final class SocketIo {
    /** Input buffer size: several requests, or a good part of a write payload, per system call. */
    private static final int INPUT_CAPACITY = 256 << 10;

    /** A reply was not taken in by the client before the write deadline. */
    static final class WriteTimeoutException extends IOException {
        WriteTimeoutException(String message) {
            super(message);
        }
    }

    private final SocketChannel channel;
    private final ClockType clock;
    /** How long a write may wait for the client to take its bytes; 0: for ever. */
    private final long writeTimeoutNs;
    /** Called when a write starts to wait for room, its deadline armed (verbose logging; tests). */
    private final Runnable onWriteWait;
    /** Received bytes not consumed yet, kept in read mode (position..limit), also while waiting. */
    private final ByteBuffer input = ByteBuffer.allocateDirect(INPUT_CAPACITY).flip();

    SocketIo(SocketChannel channel, ClockType clock, long writeTimeoutNs, Runnable onWriteWait) {
        this.channel = channel;
        this.clock = clock;
        this.writeTimeoutNs = writeTimeoutNs;
        this.onWriteWait = onWriteWait;
    }

    /** The channel. */
    SocketChannel channel() {
        return channel;
    }

    /**
     * The buffered input, in read mode; after {@link #fill(int)} returned true, at least that many
     * bytes are between its position and limit. Consume them with relative gets.
     */
    ByteBuffer input() {
        return input;
    }

    /**
     * Waits until at least {@code count} bytes are buffered (reading as many as are available). A
     * cancellation point (through the wait); the bytes read so far stay buffered.
     *
     * @param count bytes needed, at most 256 KiB
     * @return false if the peer closed the connection with nothing buffered (a clean end between
     *     messages)
     * @throws EOFException if the peer closed the connection in the middle of a message
     */
    @CoroutineFn
    boolean fill(int count) throws IOException {
        while (true) {
            int state = fillNow(count);
            if (state != 0) {
                return state > 0;
            }
            awaitReadable();
        }
    }

    /**
     * Reads what the socket has without waiting, until {@code count} bytes are buffered.
     *
     * @return 1 if {@code count} bytes are buffered, 0 if more must be waited for, -1 if the peer
     *     closed the connection with nothing buffered
     * @throws EOFException if the peer closed the connection in the middle of a message
     */
    int fillNow(int count) throws IOException {
        while (input.remaining() < count) {
            input.compact();
            int read;
            try {
                read = channel.read(input);
            } finally {
                input.flip(); // NOTE: read mode again before anything can wait or throw
            }
            if (read < 0) {
                if (!input.hasRemaining()) {
                    return -1;
                }
                throw new EOFException("peer closed the connection " + input.remaining() + " bytes into a " + count
                        + "-byte message");
            }
            if (read == 0) {
                return 0;
            }
        }
        return 1;
    }

    /** Waits until the socket is readable: a cancellation point. */
    @CoroutineFn
    void awaitReadable() {
        Coroutine.yieldUntilReadable(channel);
    }

    /**
     * Fills {@code dst} completely: first from the buffered input, then straight from the socket.
     * A cancellation point.
     *
     * @throws EOFException if the peer closes the connection before
     */
    @CoroutineFn
    void readFully(ByteBuffer dst) throws IOException {
        try {
            readFully(dst, 0);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e); // without a timeout nothing else is thrown
        }
    }

    /**
     * {@link #readFully(ByteBuffer)}, with each wait for more bytes bounded: if none come for
     * {@code waitTimeoutNs} (0: no bound) it throws {@link CoroutineTimeoutException}.
     */
    @CoroutineFn
    void readFully(ByteBuffer dst, long waitTimeoutNs) throws Exception {
        int buffered = Math.min(input.remaining(), dst.remaining());
        if (buffered > 0) {
            int limit = input.limit();
            input.limit(input.position() + buffered);
            dst.put(input);
            input.limit(limit);
        }
        while (dst.hasRemaining()) {
            int read = channel.read(dst);
            if (read < 0) {
                throw new EOFException("peer closed the connection with " + dst.remaining() + " bytes of a payload unsent");
            }
            if (read == 0) {
                if (waitTimeoutNs > 0) {
                    Coroutine.withTimeoutNs(clock, waitTimeoutNs, () -> {
                        awaitReadable();
                        return null;
                    });
                } else {
                    awaitReadable();
                }
            }
        }
    }

    /** Discards {@code count} bytes of input (buffered first). */
    @CoroutineFn
    void skip(long count) throws IOException {
        ByteBuffer scratch = ByteBuffer.allocate((int) Math.min(count, 64 << 10));
        long left = count;
        while (left > 0) {
            scratch.clear().limit((int) Math.min(left, scratch.capacity()));
            readFully(scratch);
            left -= scratch.limit();
        }
    }

    /**
     * Writes every byte of {@code buffers}, waiting for room in the socket as needed, at most the
     * write timeout in all once it has to wait. The caller must be the only writer (it holds the
     * connection's send lock, or negotiates alone). A cancellation point.
     *
     * @throws WriteTimeoutException if the client did not take the bytes in before the deadline
     */
    @CoroutineFn
    void writeFully(ByteBuffer... buffers) throws IOException {
        channel.write(buffers);
        if (remaining(buffers) == 0) {
            return;
        }
        if (writeTimeoutNs <= 0) {
            writeRest(buffers);
            return;
        }
        long deadline = clock.nowNs() + writeTimeoutNs;
        try {
            Coroutine.withTimeoutNs(clock, writeTimeoutNs, () -> {
                writeRest(buffers);
                return null;
            });
        } catch (CoroutineTimeoutException e) {
            if (clock.nowNs() - deadline < 0) {
                throw e; // an enclosing deadline (the handshake's), not this one
            }
            throw new WriteTimeoutException("the client took in no whole reply within "
                    + Connection.seconds(writeTimeoutNs) + " s (--write-timeout): " + remaining(buffers)
                    + " bytes left unsent");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e); // writeRest throws nothing else
        }
    }

    /** The rest of {@link #writeFully}: waits for room, writes, until everything is out. */
    @CoroutineFn
    private void writeRest(ByteBuffer[] buffers) throws IOException {
        if (onWriteWait != null) {
            onWriteWait.run();
        }
        while (remaining(buffers) > 0) {
            Coroutine.yieldUntilWritable(channel);
            channel.write(buffers);
        }
    }

    private static long remaining(ByteBuffer[] buffers) {
        long total = 0;
        for (ByteBuffer b : buffers) {
            total += b.remaining();
        }
        return total;
    }

    /** Closes the socket; nobody waits on it by then (a waiter's handler goes with its wait). */
    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }

    /** Ends output: a writer waiting for room fails, the peer sees the end of the stream. */
    void shutdownOutput() {
        try {
            channel.shutdownOutput();
        } catch (IOException e) {
            // already gone
        }
    }

    /** Makes a reader waiting on this socket see the end of input (used after a failed reply). */
    void shutdownInput() {
        try {
            channel.shutdownInput();
        } catch (IOException e) {
            // already gone
        }
    }
}
