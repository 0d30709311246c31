package io.aioco.bench.echo;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThread;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

/**
 * The echo server written the way the README teaches a new user: N IOThreads, one coroutine per
 * connection that reads until the socket has nothing more ({@code read} returns 0), then waits with
 * {@link Coroutine#yieldUntilReadable}, and writes the echo, waiting with {@link
 * Coroutine#yieldUntilWritable} while the socket's send buffer is full.
 *
 * <p><b>Buffers.</b> A connection reads into its IOThread's read buffer, one direct buffer per
 * IOThread, as an NIO selector loop reads into one buffer per selector thread, and as Netty's
 * pooled allocator gives its handlers (each read takes a buffer from the event loop's cache, the
 * write gives it back, the next connection's read reuses the same memory): the memory the kernel
 * copies a message into is the memory it copied the last one into, still in the cache. The buffer
 * is safe to share because the coroutine empties it before it waits: when the socket takes only
 * part of the echo, the rest is copied into a buffer of the connection's own, which it writes from
 * while it waits for room. With {@code perConnectionBuffer} (impl {@code aioco-n-conn}) each
 * connection reads into a 64 KiB direct buffer of its own instead, the other way a user writes it:
 * at 1,000 connections of 16 KiB the kernel then copies each message into memory last touched a
 * thousand messages ago (16 MiB of buffers in turn, past the 2 MiB L2 cache of the machine the
 * figures come from): the kernel's copy ({@code _copy_to_iter}, sampled with perf) took about three
 * times as long per message as into the IOThread's buffer, enough to put the 1,000 x 16 KiB row
 * behind Netty's (issue 21). Connections are accepted by a
 * coroutine on an IOThread of its own (Netty's boss) and spread round robin over the N serving
 * IOThreads (the workers) by the safe path: {@link AioContext#spawn} on the target context, which
 * schedules the new coroutine there from the accepting thread.
 *
 * <p>Nothing here is tuned beyond that: the figures are what a user gets from the public API as
 * documented. Needs the agent (its coroutine functions are woven at load time).
 *
 * <p>Threads: {@link #start} on any thread; everything else runs on the IOThreads.
 */
final class AiocoEchoServer implements EchoServer.Impl {
    /** Bytes read per {@code read}: a 16 KiB message fits, several 64 B ones too. */
    private static final int BUFFER_SIZE = 64 << 10;

    private final int threads;
    private final boolean perConnectionBuffer;
    private final boolean busyPoll;
    private final boolean waitAfterShortRead;

    /**
     * @param threads the serving IOThreads
     * @param perConnectionBuffer each connection reads into a buffer of its own (see the class
     *     comment), not into its IOThread's
     * @param busyPoll the IOThreads keep their default adaptive polling (up to 32 µs of spinning
     *     before they block, QEMU's IOThread default); false turns it off ({@code aioco-n-nopoll}:
     *     on a machine whose cores the client shares, the spinning takes CPU time from it)
     * @param waitAfterShortRead after a read that did not fill the buffer, the coroutine echoes and
     *     then waits for readability at once instead of reading again first, as docs/getting-started.md
     *     teaches: the read that would return 0 is one system call per message saved, as Netty's
     *     read loop stops after a read that leaves room in its buffer; the wait is level-triggered,
     *     so bytes that came in meanwhile end it in the next poll. False: {@code aioco-n-drain},
     *     reading until 0 first (this server until 2026-12-07)
     */
    AiocoEchoServer(int threads, boolean perConnectionBuffer, boolean busyPoll, boolean waitAfterShortRead) {
        this.threads = threads;
        this.perConnectionBuffer = perConnectionBuffer;
        this.busyPoll = busyPoll;
        this.waitAfterShortRead = waitAfterShortRead;
    }

    @Override
    public void start(InetSocketAddress address) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(address, EchoServer.BACKLOG);
        listener.configureBlocking(false);
        AioContext[] workers = new AioContext[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = IOThread.start("echo-iothread-" + i).context();
            if (!busyPoll) {
                workers[i].setPollParams(0, 0, 0);
            }
        }
        AioContext acceptor = IOThread.start("echo-accept").context();
        acceptor.spawn(() -> {
            acceptLoop(listener, workers, perConnectionBuffer, waitAfterShortRead);
            return null;
        }).whenComplete((result, failure) -> {
            if (failure != null) {
                System.err.println("accept loop failed: " + failure);
                failure.printStackTrace();
                System.exit(1);
            }
        });
    }

    /** The accepting coroutine: takes every pending connection, then waits for the next one. */
    @CoroutineFn
    private static void acceptLoop(ServerSocketChannel listener, AioContext[] workers, boolean perConnectionBuffer,
            boolean waitAfterShortRead) throws IOException {
        int next = 0;
        while (true) {
            SocketChannel channel = listener.accept();
            if (channel == null) {
                Coroutine.yieldUntilReadable(listener);
                continue;
            }
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            AioContext target = workers[next];
            next = (next + 1) % workers.length;
            target.spawn(() -> {
                if (perConnectionBuffer) {
                    serveWithOwnBuffer(channel, waitAfterShortRead);
                } else {
                    serve(channel, waitAfterShortRead);
                }
                return null;
            });
        }
    }

    /** Each IOThread's read buffer: only coroutines of that IOThread use it, and empty it before they wait. */
    private static final ThreadLocal<ByteBuffer> READ_BUFFER =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(BUFFER_SIZE));

    /**
     * One connection's coroutine, on its IOThread: echoes until the peer closes, reading into the
     * IOThread's buffer.
     */
    @CoroutineFn
    private static void serve(SocketChannel channel, boolean waitAfterShortRead) {
        try {
            boolean drained = false;
            while (true) {
                if (drained) {
                    drained = false;
                    Coroutine.yieldUntilReadable(channel);
                }
                ByteBuffer buffer = READ_BUFFER.get();
                buffer.clear();
                int read = channel.read(buffer);
                if (read < 0) {
                    return;
                }
                if (read == 0) {
                    Coroutine.yieldUntilReadable(channel);
                    continue;
                }
                drained = waitAfterShortRead && buffer.hasRemaining();
                buffer.flip();
                channel.write(buffer);
                if (buffer.hasRemaining()) {
                    // NOTE: the socket took part of it: the rest goes into a buffer of the connection's
                    // own before the coroutine waits, since other connections read into this one meanwhile
                    writeAll(channel, ByteBuffer.allocate(buffer.remaining()).put(buffer).flip());
                }
            }
        } catch (IOException e) {
            // the peer reset the connection: it ends here as on a clean close
        } finally {
            EchoServer.closeQuietly(channel);
        }
    }

    /** Writes what remains of {@code buffer}, waiting while the socket takes nothing. */
    @CoroutineFn
    private static void writeAll(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.write(buffer) == 0) {
                Coroutine.yieldUntilWritable(channel);
            }
        }
    }

    /** One connection's coroutine, on its IOThread: echoes until the peer closes, with a buffer of its own. */
    @CoroutineFn
    private static void serveWithOwnBuffer(SocketChannel channel, boolean waitAfterShortRead) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(BUFFER_SIZE);
        try {
            while (true) {
                int read = channel.read(buffer);
                if (read < 0) {
                    return;
                }
                if (read == 0) {
                    Coroutine.yieldUntilReadable(channel);
                    continue;
                }
                boolean drained = waitAfterShortRead && buffer.hasRemaining();
                buffer.flip();
                writeAll(channel, buffer);
                buffer.clear();
                if (drained) {
                    Coroutine.yieldUntilReadable(channel);
                }
            }
        } catch (IOException e) {
            // the peer reset the connection: it ends here as on a clean close
        } finally {
            EchoServer.closeQuietly(channel);
        }
    }
}
