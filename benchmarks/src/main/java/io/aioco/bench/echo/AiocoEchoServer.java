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
 * Coroutine#yieldUntilWritable} while the socket's send buffer is full. Connections are accepted by a
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

    AiocoEchoServer(int threads) {
        this.threads = threads;
    }

    @Override
    public void start(InetSocketAddress address) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        listener.bind(address, EchoServer.BACKLOG);
        listener.configureBlocking(false);
        AioContext[] workers = new AioContext[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = IOThread.start("echo-iothread-" + i).context();
        }
        AioContext acceptor = IOThread.start("echo-accept").context();
        acceptor.spawn(() -> {
            acceptLoop(listener, workers);
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
    private static void acceptLoop(ServerSocketChannel listener, AioContext[] workers) throws IOException {
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
                serve(channel);
                return null;
            });
        }
    }

    /** One connection's coroutine, on its IOThread: echoes until the peer closes. */
    @CoroutineFn
    private static void serve(SocketChannel channel) {
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
                buffer.flip();
                while (buffer.hasRemaining()) {
                    if (channel.write(buffer) == 0) {
                        Coroutine.yieldUntilWritable(channel);
                    }
                }
                buffer.clear();
            }
        } catch (IOException e) {
            // the peer reset the connection: it ends here as on a clean close
        } finally {
            EchoServer.closeQuietly(channel);
        }
    }
}
