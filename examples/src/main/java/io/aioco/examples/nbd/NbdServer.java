package io.aioco.examples.nbd;

import io.aioco.AioContext;
import io.aioco.BottomHalf;
import io.aioco.ClockType;
import io.aioco.Coroutine;
import io.aioco.IOThread;
import io.aioco.IOThreadGroup;
import io.aioco.MainLoop;
import io.aioco.Timer;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.net.StandardSocketOptions;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

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
 * IOThread of the server's own {@link IOThreadGroup} ({@code --iothreads N}: {@link
 * IOThreadGroup#next()}, round robin) or, with none, on the listening context. The server keeps its
 * own accept handler rather than {@link IOThreadGroup#serve}: it also serves without IOThreads, logs
 * to its own log, and ends its clients gracefully (each sees the end of the stream, its requests
 * are cancelled) within a deadline before the group closes its threads. {@link #address()} and
 * {@link #activeConnections()} may be called from any thread, {@link #close()} from any thread that
 * does not serve connections.
 *
 * <p>No client can wedge it: each may have {@value Connection#MAX_IN_FLIGHT} requests in flight
 * (QEMU's limit), all of them together hold at most {@code --buffer-budget} bytes of payload
 * buffers (a client's next request waits for room), anything thrown while serving a connection
 * ends that connection only, and a failing {@code accept} pauses accepting for a second. Its waits
 * are bounded: a client that leaves has its requests cancelled, the handshake, idle connections
 * and reply writes have timeouts ({@link ServerOptions}), and {@code SIGTERM} or {@code SIGINT} of
 * the command closes every client before the process exits.
 */
public final class NbdServer implements AutoCloseable {
    /**
     * How long accepting pauses after {@code accept} failed (out of file descriptors, say), as
     * Netty's {@code ServerBootstrap} pauses for a second: the listener stays readable meanwhile,
     * and retrying at once would spin a core and flood the log.
     */
    static final long ACCEPT_PAUSE_NS = 1_000_000_000L;
    /** How long the command's shutdown (SIGTERM, SIGINT) waits for its clients' coroutines to end. */
    static final long SHUTDOWN_WAIT_NS = 5_000_000_000L;

    /** How a connection is taken from the listener: {@code ServerSocketChannel::accept}; tests inject failures. */
    interface Acceptor {
        /** Accepts the next pending connection, or returns null if there is none. */
        SocketChannel accept(ServerSocketChannel listener) throws IOException;
    }

    private final ServerOptions options;
    private final Export export;
    private final AioContext acceptContext;
    private final ServerSocketChannel listener;
    private final Acceptor acceptor;
    /** The IOThreads that serve connections ({@code --iothreads N}), or null for none (N = 0). */
    private final IOThreadGroup ioThreads;
    private final ServerLog log;
    private final BufferBudget budget;
    private final AtomicInteger nextConnectionId = new AtomicInteger();
    private final AtomicInteger activeConnections = new AtomicInteger();
    /** Every connection whose coroutine has not ended, with the future completed when it has. */
    private final Map<Connection, CompletableFuture<Void>> connections = new ConcurrentHashMap<>();
    /** Restores the listener's handler after an accept failure; accept loop thread only. */
    private final Timer acceptResume;
    /** The clock of the accept back-off and of the connections' timeouts (VIRTUAL in tests). */
    private final ClockType clock;
    /** Set on the accept loop's thread when close() stops accepting; read there by acceptAll. */
    private volatile boolean closed;

    private NbdServer(ServerOptions options, Export export, AioContext acceptContext, ServerSocketChannel listener,
                      ServerLog log, Acceptor acceptor, ClockType clock, IOThreadGroup ioThreads) {
        this.options = options;
        this.ioThreads = ioThreads;
        this.export = export;
        this.acceptContext = acceptContext;
        this.listener = listener;
        this.log = log;
        this.acceptor = acceptor;
        this.budget = new BufferBudget(options.bufferBudget);
        this.clock = clock;
        this.acceptResume = acceptContext.newTimer(clock, this::resumeAccepting);
    }

    /**
     * Listens on {@code options.bind}:{@code options.port} and starts accepting on {@code
     * acceptContext}, which must be polled by someone (the main loop, an IOThread). Called from any
     * thread. The export stays the caller's to close.
     *
     * @param options where to listen, how many IOThreads, the buffer budget
     * @param export what to serve
     * @param acceptContext the context whose loop accepts connections (and serves them without IOThreads)
     * @param log where log lines go
     * @return the server, listening
     * @throws IOException if the address cannot be bound ({@link UnknownHostException} if {@code --bind} names no host)
     */
    public static NbdServer start(ServerOptions options, Export export, AioContext acceptContext, ServerLog log)
            throws IOException {
        return start(options, export, acceptContext, log, ServerSocketChannel::accept, ClockType.REALTIME);
    }

    /** {@link #start}, with the accept call and the clock of the accept back-off and timeouts chosen (tests). */
    static NbdServer start(ServerOptions options, Export export, AioContext acceptContext, ServerLog log,
                           Acceptor acceptor, ClockType clock) throws IOException {
        ServerSocketChannel listener = ServerSocketChannel.open();
        try {
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            InetSocketAddress address = new InetSocketAddress(options.bind, options.port);
            if (address.isUnresolved()) { // NOTE: bind would throw UnresolvedAddressException, unchecked
                throw new UnknownHostException(options.bind + " (--bind): no such host");
            }
            listener.bind(address, 128);
            listener.configureBlocking(false);
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
        IOThreadGroup ioThreads = options.ioThreads > 0 ? IOThreadGroup.start("nbd-iothread-", options.ioThreads) : null;
        NbdServer server = new NbdServer(options, export, acceptContext, listener, log, acceptor, clock, ioThreads);
        acceptContext.setFdHandler(listener, server::acceptAll, null);
        return server;
    }

    /** The address it listens on (with the real port when 0 was asked for). Any thread. */
    public InetSocketAddress address() {
        try {
            return (InetSocketAddress) listener.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    /** The NBD URI of the export, e.g. {@code nbd://127.0.0.1:10809/}. Any thread. */
    public String uri() {
        InetSocketAddress address = address();
        String host = address.getAddress() instanceof Inet6Address
                ? "[" + address.getAddress().getHostAddress() + "]" : address.getAddress().getHostAddress();
        return "nbd://" + host + ":" + address.getPort() + "/" + export.name();
    }

    /** Connections accepted and not yet closed. Any thread. */
    public int activeConnections() {
        return activeConnections.get();
    }

    /** Connections whose coroutine has not ended yet (tests check that none is left). Any thread. */
    int openConnections() {
        return connections.size();
    }

    /** The contexts of the connections whose coroutine has not ended, one per connection (tests). Any thread. */
    List<AioContext> connectionContexts() {
        return connections.keySet().stream().map(Connection::context).toList();
    }

    /** The buffer budget shared by every connection (tests read what it holds). */
    BufferBudget budget() {
        return budget;
    }

    /** The contexts whose loops serve connections (tests pass through them to settle closes). */
    List<AioContext> servingContexts() {
        return ioThreads == null ? List.of(acceptContext) : ioThreads.ioThreads().stream().map(IOThread::context).toList();
    }

    /** Called from the accept context's loop thread while the listener is readable. */
    private void acceptAll() {
        while (!closed) {
            SocketChannel channel;
            try {
                channel = acceptor.accept(listener);
                if (channel == null) {
                    return;
                }
            } catch (Throwable e) { // NOTE: out of fds the listener stays readable: retrying now would spin
                pauseAccepting(e);
                return;
            }
            try {
                serve(channel);
            } catch (Throwable e) { // an Error too: it must not reach the loop
                log.line("connection from a new client refused: internal error: " + e);
                close(channel);
            }
        }
    }

    /** Accept loop thread: stops accepting for {@link #ACCEPT_PAUSE_NS}, with one log line. */
    private void pauseAccepting(Throwable failure) {
        acceptContext.setFdHandler(listener, null, null);
        acceptResume.modNs(acceptResume.clockType().nowNs() + ACCEPT_PAUSE_NS);
        log.line("accept failed: " + failure + "; accepting again in 1 s");
    }

    /** Accept loop thread, the back-off timer's callback. */
    private void resumeAccepting() {
        if (!closed) {
            acceptContext.setFdHandler(listener, this::acceptAll, null);
        }
    }

    /** Accept loop thread: sets a new connection up and starts its coroutine on its context. */
    private void serve(SocketChannel channel) {
        int id = nextConnectionId.incrementAndGet();
        String peer;
        AioContext ctx = ioThreads == null ? acceptContext : ioThreads.next();
        try {
            channel.configureBlocking(false);
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            InetSocketAddress remote = (InetSocketAddress) channel.getRemoteAddress();
            peer = remote.getAddress().getHostAddress() + ":" + remote.getPort();
        } catch (IOException e) {
            log.line("connection " + id + " lost while being accepted: " + e);
            close(channel);
            return;
        }
        activeConnections.incrementAndGet();
        Connection connection = new Connection(id, peer, ctx, channel, export, budget, log, options, clock,
                activeConnections::decrementAndGet);
        CompletableFuture<Void> ended = new CompletableFuture<>();
        connections.put(connection, ended);
        // named for the coroutine dump (java -jar aioco-agent.jar dump PID): "nbd-conn /127.0.0.1:40000"
        ctx.coEnter(Coroutine.create("nbd-conn /" + peer, () -> {
            try {
                connection.serve();
            } catch (Throwable failure) { // serve() catches everything: a bug in it
                log.line("connection " + id + " failed: " + failure);
            } finally {
                connections.remove(connection);
                ended.complete(null);
            }
        }));
    }

    private static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }

    /**
     * Stops listening, ends every connection (each client sees the end of the stream; requests in
     * flight are cancelled: queued disk work is dropped, running work finishes on its worker and its
     * result is dropped), waits until every connection's coroutines have ended and their sockets are
     * closed, then stops the IOThreads. Like QEMU's {@code nbd_server_free} with its clients closed
     * and drained. Idempotent.
     *
     * <p>Called from any thread but the server's IOThreads and, when the server has no IOThreads,
     * the accept context's loop thread (which would have to serve the connections it waits for).
     *
     * @throws IllegalStateException if called from one of those threads
     */
    @Override
    public void close() {
        closeWithin(Long.MAX_VALUE);
    }

    /**
     * {@link #close()}, waiting at most {@code timeoutNs} for the connections' coroutines to end
     * (their loops could be stuck in a callback); if they have not, the IOThreads are left running
     * (the process is about to exit) and it returns false. Same threads as {@link #close()}.
     *
     * @return true if every connection ended
     */
    synchronized boolean closeWithin(long timeoutNs) {
        Thread me = Thread.currentThread();
        for (IOThread thread : ioThreads == null ? List.<IOThread>of() : ioThreads.ioThreads()) {
            if (thread.thread() == me) {
                throw new IllegalStateException("NbdServer.close() called on " + me.getName()
                        + ", which serves its connections: call it from another thread");
            }
        }
        if (ioThreads == null && !connections.isEmpty() && AioContext.current() == acceptContext) {
            throw new IllegalStateException("NbdServer.close() called on " + me.getName() + ", the loop thread of "
                    + acceptContext + " that serves its connections: call it from another thread");
        }
        long start = System.nanoTime(); // NOTE: one deadline bounds every wait below (the shutdown hook's bound)
        long deadline = timeoutNs >= Long.MAX_VALUE - start ? Long.MAX_VALUE : start + timeoutNs;
        stopAccepting(deadline);
        List<CompletableFuture<Void>> waits = new ArrayList<>();
        // NOTE: bottom halves, not one-shots: a connection that ends on its own meanwhile leaves its
        // request unrun, and a context closed after this returns would drop it as leaked
        List<BottomHalf> requests = new ArrayList<>();
        for (Map.Entry<Connection, CompletableFuture<Void>> entry : connections.entrySet()) {
            Connection connection = entry.getKey();
            try {
                BottomHalf request = connection.context().newBottomHalf(connection::requestClose);
                requests.add(request);
                request.schedule();
                waits.add(entry.getValue());
            } catch (IllegalStateException e) { // its context is closed: its coroutine will never run again
                connection.closeSocketOfDeadContext();
            }
        }
        CompletableFuture<Void> all = CompletableFuture.allOf(waits.toArray(new CompletableFuture<?>[0]));
        try {
            all.get(deadline == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, deadline - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
            for (BottomHalf request : requests) {
                request.delete(); // every connection has ended: a request not run yet has nothing to do
            }
        } catch (TimeoutException e) {
            log.line("close: " + connections.size() + " connections still open after " + timeoutNs / 1_000_000
                    + " ms; giving up on them");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            throw new IllegalStateException("a connection's end failed", e.getCause()); // completed normally only
        }
        if (ioThreads != null) {
            ioThreads.close(); // no connection of the group's own: it only stops and joins its threads
        }
        return true;
    }

    /**
     * Removes the listener's handler and closes it, on the accept loop's thread when it still runs.
     * Waits for that loop until {@code deadline} ({@link System#nanoTime()}; {@link Long#MAX_VALUE}:
     * no limit); past it (the loop is stuck in a callback, or busy), marks the server closed (the
     * loop accepts nobody when it comes back), closes the listener from the calling thread (the
     * socket itself goes when the loop's selector lets go of it) and logs it.
     */
    private void stopAccepting(long deadline) {
        CompletableFuture<Void> stopped = new CompletableFuture<>();
        Runnable stop = () -> {
            closed = true;
            acceptResume.del();
            try {
                acceptContext.setFdHandler(listener, null, null);
            } catch (RuntimeException e) {
                // the context is closed: no handler left
            }
            try {
                listener.close();
            } catch (IOException e) {
                // nothing more to do with it
            }
            stopped.complete(null);
        };
        if (AioContext.current() == acceptContext) {
            stop.run();
            return;
        }
        try {
            acceptContext.scheduleOneshot(stop); // NOTE: serialized with acceptAll: nothing is accepted after
        } catch (IllegalStateException e) { // the context is closed: nobody accepts any more
            stop.run();
        }
        try {
            if (deadline == Long.MAX_VALUE) {
                stopped.join();
            } else {
                stopped.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (TimeoutException | InterruptedException | ExecutionException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            closed = true; // NOTE: acceptAll checks it: the loop accepts nobody when it comes back
            try {
                listener.close();
            } catch (IOException ignored) {
                // nothing more to do with it
            }
            log.line("close: the accept loop did not stop listening in time (" + acceptContext
                    + " busy or stuck); listener closed from " + Thread.currentThread().getName());
        }
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
        ServerLog log = ServerLog.stderr(options.verbose);
        AtomicReference<NbdServer> running = new AtomicReference<>();
        // NOTE: one hook, not two: hooks run concurrently, and the export must outlive the clients
        Runtime.getRuntime().addShutdownHook(new Thread(() -> shutDown(running.get(), export, log), "aioco-nbd-shutdown"));
        MainLoop.init();
        NbdServer server;
        try {
            server = start(options, export, MainLoop.context(), log);
            running.set(server);
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

    /**
     * The command's shutdown hook (SIGTERM, SIGINT, or the JVM exiting): closes the server (every
     * client sees the end of the stream), waiting at most {@link #SHUTDOWN_WAIT_NS}, then the export
     * (a temporary image is deleted). Runs on the hook's thread while the main loop goes on serving
     * the connections' ends.
     */
    private static void shutDown(NbdServer server, Export export, ServerLog log) {
        try {
            if (server != null) {
                int open = server.activeConnections();
                log.line("shutting down: closing " + open + (open == 1 ? " connection" : " connections"));
                server.closeWithin(SHUTDOWN_WAIT_NS);
            }
        } catch (RuntimeException | Error e) {
            log.line("shutdown: closing the server failed: " + e);
        } finally {
            export.close();
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
                + ", " + (ioThreads == null ? "connections served on the main loop"
                : "connections spread over " + ioThreads.size() + " IOThreads"));
        System.out.println("Try it from another terminal:");
        System.out.println("  nbdinfo " + uri);
        System.out.println(export.readOnly()
                ? "  qemu-io -r -f raw -c 'read -v 0 512' " + uri
                : "  qemu-io -f raw -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k' " + uri);
        System.out.println("Stop it with Ctrl-C.");
    }
}
