package io.aioco.examples.nbd;

import io.aioco.AioContext;
import io.aioco.IOThread;
import io.aioco.MainLoop;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * aioco's showcase: a Network Block Device server whose per-connection logic is straight-line
 * coroutine code, as QEMU's {@code qemu-nbd} is. It speaks the fixed newstyle handshake, structured
 * replies and {@code base:allocation}, serves several clients at once and several requests in
 * flight per client, and runs disk I/O on the thread pool of the context that owns the connection.
 *
 * <p>Run it with {@code bin/aioco-nbd} (see README.md), or embed it: {@link #start} listens and
 * accepts on a given context (the main loop's, or an IOThread's in tests).
 *
 * <p>Threads: connections are accepted on the listening context's loop thread and served on an
 * IOThread of the server's own (round robin) or on the listening context. {@link #address()},
 * {@link #activeConnections()} and {@link #close()} may be called from any thread.
 */
public final class NbdServer implements AutoCloseable {
    private final ServerOptions options;
    private final Export export;
    private final AioContext acceptContext;
    private final ServerSocketChannel listener;
    private final List<IOThread> ioThreads = new ArrayList<>();
    private final ServerLog log;
    private final AtomicInteger nextConnectionId = new AtomicInteger();
    private final AtomicInteger activeConnections = new AtomicInteger();

    private NbdServer(ServerOptions options, Export export, AioContext acceptContext, ServerSocketChannel listener,
                      ServerLog log) {
        this.options = options;
        this.export = export;
        this.acceptContext = acceptContext;
        this.listener = listener;
        this.log = log;
    }

    /**
     * Listens on {@code options.bind}:{@code options.port} and starts accepting on {@code
     * acceptContext}, which must be polled by someone (the main loop, an IOThread). Called from any
     * thread. The export stays the caller's to close.
     *
     * @param options where to listen, how many IOThreads
     * @param export what to serve
     * @param acceptContext the context whose loop accepts connections (and serves them without IOThreads)
     * @param log where log lines go
     * @return the server, listening
     * @throws IOException if the address cannot be bound
     */
    public static NbdServer start(ServerOptions options, Export export, AioContext acceptContext, ServerLog log)
            throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            listener.bind(new InetSocketAddress(options.bind, options.port), 128);
            listener.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
        NbdServer server = new NbdServer(options, export, acceptContext, listener, log);
        for (int i = 0; i < options.ioThreads; i++) {
            server.ioThreads.add(IOThread.start("nbd-iothread-" + i));
        }
        acceptContext.setFdHandler(listener, server::acceptAll, null);
        return server;
    }

    /** The address it listens on (with the real port when 0 was asked for). */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    /** The NBD URI of the export, e.g. {@code nbd://127.0.0.1:10809/}. */
    public String uri() {
        InetSocketAddress address = address();
        String host = address.getAddress() instanceof Inet6Address
                ? "[" + address.getAddress().getHostAddress() + "]" : address.getAddress().getHostAddress();
        return "nbd://" + host + ":" + address.getPort() + "/" + export.name();
    }

    /** Connections accepted and not yet closed. */
    public int activeConnections() {
        return activeConnections.get();
    }

    /** Called from the accept context's loop thread while the listener is readable. */
    private void acceptAll() {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
                if (channel == null) {
                    return;
                }
            } catch (IOException e) {
                log.line("accept failed: " + e);
                return;
            }
            int id = nextConnectionId.incrementAndGet();
            String peer;
            AioContext ctx = ioThreads.isEmpty() ? acceptContext : ioThreads.get((id - 1) % ioThreads.size()).context();
            try {
                channel.configureBlocking(false);
                channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
                InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
                peer = remote.getAddress().getHostAddress() + ":" + remote.getPort();
            } catch (IOException e) {
                log.line("connection " + id + " lost while being accepted: " + e);
                close(channel);
                continue;
            }
            activeConnections.incrementAndGet();
            Connection connection = new Connection(id, peer, ctx, new SocketIo(ctx, channel), export, log,
                    activeConnections::decrementAndGet);
            ctx.spawn(() -> {
                connection.serve();
                return null;
            }).whenComplete((result, failure) -> {
                if (failure != null) {
                    log.line("connection " + id + " failed: " + failure);
                }
            });
        }
    }

    private static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }

    /**
     * Stops listening and stops the IOThreads (dropping the connections they serve). Called from any
     * thread but the IOThreads'.
     */
    @Override
    public void close() {
        try {
            acceptContext.setFdHandler(listener, null, null);
        } catch (RuntimeException e) {
            // the context is already closed
        }
        try {
            listener.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
        ioThreads.forEach(IOThread::close);
    }

    /**
     * The {@code aioco-nbd} command: parses the options, opens or creates the image, listens, prints
     * where and how to try it, and runs the main loop until killed (Ctrl-C).
     *
     * @param args {@code [options] [FILE]}, see {@link ServerOptions#USAGE}
     * @throws IOException if the image cannot be opened or created
     */
    public static void main(String[] args) throws IOException {
        ServerOptions options;
        try {
            options = ServerOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("aioco-nbd: " + e.getMessage());
            System.err.println(ServerOptions.USAGE);
            System.exit(2);
            return;
        }
        if (options.help) {
            System.out.println(ServerOptions.USAGE);
            return;
        }
        Export export = options.file == null
                ? Export.createTemporary(options.size, options.exportName, options.readOnly)
                : Export.open(options.file, options.exportName, options.readOnly);
        Runtime.getRuntime().addShutdownHook(new Thread(export::close, "aioco-nbd-cleanup"));
        MainLoop.init();
        NbdServer server;
        try {
            server = start(options, export, MainLoop.context(), ServerLog.stderr(options.verbose));
        } catch (IOException e) {
            System.err.println("aioco-nbd: cannot listen on " + options.bind + ":" + options.port + ": " + e);
            System.exit(1);
            return;
        }
        server.printBanner();
        while (true) {
            MainLoop.waitOnce(false);
        }
    }

    /** Prints where the server listens and how to try it. */
    private void printBanner() {
        InetSocketAddress address = address();
        String uri = uri();
        String image = export.temporary() ? "a fresh sparse image " + export.path() : export.path().toString();
        System.out.println("aioco-nbd: serving " + image + " (" + export.size() + " bytes, "
                + (export.readOnly() ? "read-only" : "read-write") + ") as export '" + export.name() + "'");
        System.out.println("aioco-nbd: listening on " + address.getAddress().getHostAddress() + ":" + address.getPort()
                + ", " + (ioThreads.isEmpty() ? "connections served on the main loop"
                : "connections spread over " + ioThreads.size() + " IOThreads"));
        System.out.println("Try it from another terminal:");
        System.out.println("  nbdinfo " + uri);
        System.out.println(export.readOnly()
                ? "  qemu-io -r -f raw -c 'read -v 0 512' " + uri
                : "  qemu-io -f raw -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k' " + uri);
        System.out.println("Stop it with Ctrl-C.");
    }
}
