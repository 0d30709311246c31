package io.aioco.examples.nbd;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * A non-blocking socket read and written by coroutines of one {@link AioContext}: reads wait for
 * the channel to become readable and writes for it to become writable, each suspending only the
 * coroutine that waits.
 *
 * <p>Why not {@link Coroutine#yieldUntilReadable}: it replaces every handler of the channel, and a
 * connection needs a reader waiting for requests while a request coroutine waits to write its
 * reply. Here one read waiter and one write waiter share the channel's handlers in the context.
 *
 * <p>Threads: everything runs on the loop thread of the context (the connection's coroutines and
 * the fd handlers); nothing here is shared with other threads.
 */
final class SocketIo {
    /** Input buffer size: several requests, or a good part of a write payload, per system call. */
    private static final int INPUT_CAPACITY = 256 << 10;

    private final AioContext ctx;
    private final SocketChannel channel;
    /** Received bytes not consumed yet, kept in read mode (position..limit). */
    private final ByteBuffer input = ByteBuffer.allocateDirect(INPUT_CAPACITY).flip();
    /** The coroutine waiting for input, or null. */
    private Coroutine readWaiter;
    /** The coroutine waiting for room to write, or null (only the holder of the send lock). */
    private Coroutine writeWaiter;
    private final Runnable onReadable = this::readable;
    private final Runnable onWritable = this::writable;

    SocketIo(AioContext ctx, SocketChannel channel) {
        this.ctx = ctx;
        this.channel = channel;
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
     * Waits until at least {@code count} bytes are buffered (reading as many as are available).
     *
     * @param count bytes needed, at most 256 KiB
     * @return false if the peer closed the connection with nothing buffered (a clean end between
     *     messages)
     * @throws EOFException if the peer closed the connection in the middle of a message
     */
    @CoroutineFn
    boolean fill(int count) throws IOException {
        if (input.remaining() >= count) {
            return true;
        }
        input.compact(); // write mode until the flip below
        while (input.position() < count) {
            int read = channel.read(input);
            if (read < 0) {
                int had = input.position();
                input.flip();
                if (had == 0) {
                    return false;
                }
                throw new EOFException("peer closed the connection " + had + " bytes into a " + count + "-byte message");
            }
            if (read == 0) {
                awaitReadable();
            }
        }
        input.flip();
        return true;
    }

    /**
     * Fills {@code dst} completely: first from the buffered input, then straight from the socket.
     *
     * @throws EOFException if the peer closes the connection before
     */
    @CoroutineFn
    void readFully(ByteBuffer dst) throws IOException {
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
                awaitReadable();
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
     * Writes every byte of {@code buffers}, waiting for room in the socket as needed. The caller
     * must be the only writer (it holds the connection's send lock, or negotiates alone).
     */
    @CoroutineFn
    void writeFully(ByteBuffer... buffers) throws IOException {
        while (remaining(buffers) > 0) {
            long written = channel.write(buffers);
            if (written == 0) {
                awaitWritable();
            }
        }
    }

    private static long remaining(ByteBuffer[] buffers) {
        long total = 0;
        for (ByteBuffer b : buffers) {
            total += b.remaining();
        }
        return total;
    }

    @CoroutineFn
    private void awaitReadable() {
        readWaiter = Coroutine.self();
        updateHandlers();
        Coroutine.yield(); // NOTE: the handler cannot run before this: it runs on this very thread
    }

    @CoroutineFn
    private void awaitWritable() {
        writeWaiter = Coroutine.self();
        updateHandlers();
        Coroutine.yield();
    }

    /** Called from the loop thread by the fd handler: hands the readiness to the waiter. */
    private void readable() {
        Coroutine waiter = readWaiter;
        readWaiter = null;
        updateHandlers();
        if (waiter != null) {
            waiter.wake(); // outside coroutines, on its own context: entered right here
        }
    }

    /** Called from the loop thread by the fd handler. */
    private void writable() {
        Coroutine waiter = writeWaiter;
        writeWaiter = null;
        updateHandlers();
        if (waiter != null) {
            waiter.wake();
        }
    }

    /** Level-triggered handlers only for what somebody waits for, so an idle socket costs nothing. */
    private void updateHandlers() {
        if (channel.isOpen()) {
            ctx.setFdHandler(channel, readWaiter != null ? onReadable : null, writeWaiter != null ? onWritable : null);
        }
    }

    /** Removes the handlers and closes the socket; waiters are not woken (there are none by then). */
    void close() {
        readWaiter = null;
        writeWaiter = null;
        try {
            if (channel.isOpen()) {
                ctx.setFdHandler(channel, null, null);
            }
        } catch (RuntimeException e) {
            // the context is closing: nothing left to remove
        }
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
