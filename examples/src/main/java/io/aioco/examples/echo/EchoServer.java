package io.aioco.examples.echo;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThreadGroup;
import io.aioco.MainLoop;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A TCP echo server: the main loop accepts, an {@link IOThreadGroup} serves, one coroutine per
 * connection written as straight-line code. docs/getting-started.md walks through it.
 */
public final class EchoServer {
    private static final Logger LOG = Logger.getLogger(EchoServer.class.getName());

    private EchoServer() {}

    /**
     * One connection, on its IOThread: sends back every byte it reads until the client's end of
     * stream. A read or write that fails (the client reset the connection, or vanished) ends the
     * connection too: that is the client's doing, not a failure of the server, so it is logged at
     * FINE only (a client could otherwise make the server report every connection it drops).
     */
    @CoroutineFn
    static void echo(SocketChannel channel) {
        try {
            serve(channel);
        } catch (IOException e) {
            LOG.log(Level.FINE, "echo: connection {0} ended: {1}", new Object[] {channel, e});
        }
    }

    /** The echo loop of {@link #echo}: returns at the client's end of stream. */
    @CoroutineFn
    private static void serve(SocketChannel channel) throws IOException {
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true); // an echo's last piece goes out at once
        ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
        while (true) {
            int n = channel.read(buffer);
            if (n < 0) {
                return; // the client is done: the group closes the channel
            }
            if (n == 0) {
                Coroutine.yieldUntilReadable(channel); // nothing yet: the IOThread serves others meanwhile
                continue;
            }
            boolean drained = buffer.hasRemaining(); // the read left room: the socket had no more
            buffer.flip();
            while (buffer.hasRemaining()) {
                if (channel.write(buffer) == 0) {
                    Coroutine.yieldUntilWritable(channel); // the client reads slowly: wait for room
                }
            }
            buffer.clear();
            if (drained) {
                Coroutine.yieldUntilReadable(channel); // no read that would only return 0
            }
        }
    }

    /** Serves {@code listener}'s connections on {@code ioThreads} IOThreads, accepting on {@code acceptContext}. */
    public static IOThreadGroup start(ServerSocketChannel listener, AioContext acceptContext, int ioThreads)
            throws IOException {
        IOThreadGroup group = IOThreadGroup.start("echo-", ioThreads);
        group.serve(listener, acceptContext, channel -> () -> echo(channel));
        return group;
    }

    /** {@code EchoServer [PORT [IOTHREADS]]}: runs until killed. */
    public static void main(String[] args) throws IOException {
        int port = args.length > 0 ? Integer.parseInt(args[0]) : 7007;
        int ioThreads = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        MainLoop.init();
        ServerSocketChannel listener = ServerSocketChannel.open().bind(new InetSocketAddress(port));
        try (IOThreadGroup group = start(listener, MainLoop.context(), ioThreads)) {
            int bound = ((InetSocketAddress) listener.getLocalAddress()).getPort(); // port 0: the one chosen
            System.out.println("echo server on port " + bound + ", " + group.size() + " IOThreads");
            while (true) {
                MainLoop.waitOnce(false); // the main loop accepts; the group's IOThreads serve
            }
        }
    }
}
