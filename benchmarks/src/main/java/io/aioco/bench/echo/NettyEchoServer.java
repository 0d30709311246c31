package io.aioco.bench.echo;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.InetSocketAddress;

/**
 * The echo server on Netty, as Netty's own echo example writes it: a boss group of one event loop
 * accepts, a worker group of N event loops serves, and the handler writes back each buffer it
 * reads and flushes when the read burst is over ({@code channelReadComplete}). The transport is
 * NIO or the native epoll one ({@code netty-transport-native-epoll}, linux-x86_64); without the
 * native library the server reports itself unavailable.
 *
 * <p>Threads: {@link #start} on any thread; the handler runs on the worker event loops.
 */
final class NettyEchoServer implements EchoServer.Impl {
    private final boolean epoll;
    private final int threads;

    NettyEchoServer(boolean epoll, int threads) {
        this.epoll = epoll;
        this.threads = threads;
    }

    @Override
    public void start(InetSocketAddress address) throws Exception {
        IoHandlerFactory handlers;
        ChannelFactory<? extends ServerChannel> channels;
        if (epoll) {
            if (!Epoll.isAvailable()) {
                throw new EchoServer.UnavailableException("native epoll transport: " + Epoll.unavailabilityCause());
            }
            handlers = EpollIoHandler.newFactory();
            channels = EpollServerSocketChannel::new;
        } else {
            handlers = NioIoHandler.newFactory();
            channels = NioServerSocketChannel::new;
        }
        MultiThreadIoEventLoopGroup boss = new MultiThreadIoEventLoopGroup(1, handlers);
        MultiThreadIoEventLoopGroup workers = new MultiThreadIoEventLoopGroup(threads, handlers);
        new ServerBootstrap()
                .group(boss, workers)
                .channelFactory(channels)
                .option(ChannelOption.SO_BACKLOG, EchoServer.BACKLOG)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new Echo())
                .bind(address)
                .sync();
    }

    /** Writes back what it reads; one instance shared by every connection. */
    @ChannelHandler.Sharable
    private static final class Echo extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ctx.write(msg);
        }

        @Override
        public void channelReadComplete(ChannelHandlerContext ctx) {
            ctx.flush();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // a reset connection ends here
        }
    }
}
