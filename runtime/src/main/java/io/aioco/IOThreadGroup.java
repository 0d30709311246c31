package io.aioco;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A fixed set of {@link IOThread}s that share out work round robin, and serve the connections of
 * server sockets: each connection is accepted on one context, handed to the next IOThread, and
 * served there by a coroutine of its own. Netty's boss and worker event-loop groups; in QEMU, the
 * {@code iothread-vq-mapping} of virtio-blk, which spreads a device's virtqueues over a list of
 * IOThreads round robin (QEMU has no group object: the list is a device property).
 *
 * <pre>{@code
 * try (IOThreadGroup group = IOThreadGroup.start(4)) {
 *     group.serve(listener, MainLoop.context(), channel -> () -> echo(channel));
 *     ...  // run the main loop
 * }
 * }</pre>
 *
 * <p><b>Connections.</b> {@link #serve} makes the listener's accept handler an fd handler of the
 * accepting context ({@code qio_net_listener}'s watch): on that context's thread it accepts every
 * pending connection, makes the channel non-blocking, calls the user's function with it to get the
 * connection's coroutine entry, and starts that coroutine on the {@link #next()} IOThread's context
 * ({@link AioContext#coSchedule}, the path {@link AioContext#spawn} takes from another thread; the
 * accepting thread never enters it). The coroutine lives on that IOThread: it is entered, woken and
 * resumed there only. The channel is the group's: it is closed when the coroutine ends, however it
 * ends, and the group counts it open until then ({@link #openConnections()}).
 *
 * <p><b>Errors.</b> A connection coroutine that throws ends that connection only: its channel is
 * closed and the exception is reported, on the IOThread, to the logger {@code io.aioco} (WARNING,
 * a line naming the group, the coroutine and the exception) and to that thread's
 * uncaught-exception handler (both rate-limited per exception class, as a loop's reports of its
 * callbacks: at the 1st, 10th, 100th... failure) (set it with {@code ioThreads().get(k).thread()
 * .setUncaughtExceptionHandler}), as an IOThread reports a callback that throws; the group goes
 * on serving. So does a failure of the user's function or of setting the channel up (reported on
 * the accepting thread, the channel closed). A failing {@code accept} (out of file descriptors,
 * say) is logged (WARNING, with its stack trace) and accepting pauses for a second on the
 * {@code REALTIME} clock, as Netty's {@code ServerBootstrap} does: the listener stays readable
 * meanwhile, and retrying at once would spin. A listener that was closed by someone else is no
 * longer served (the close cancels its key) and is logged once: NIO reports no close of a
 * registered channel, so the accepting context looks at its listeners at each poll; the close does
 * not wake that loop, the line comes when it next polls (a connection to another listener, a
 * timer, any wake-up).
 *
 * <p><b>Closing</b> ({@link #close()}): stops accepting (no connection is started once close has
 * begun; every listener is closed at once, and its handler is removed on its accepting context when
 * that loop next runs: close does not wait for the accepting loop, which may not be polled any
 * more; the listener's port is free when close returns if nobody polls the accepting context, or
 * once its loop has run once more if someone does), then, on each connection's IOThread, {@link
 * Coroutine#cancel() cancels} its coroutine and closes its channel. Closing a channel alone would
 * not end its coroutine (a coroutine in {@link Coroutine#yieldUntilReadable} is not woken by a
 * close, see docs/API.md): the cancellation is what ends it. Its current wait throws {@link
 * CancellationException} at once, its {@code finally} blocks run, and every later cancellable
 * wait throws too (a coroutine not yet entered starts cancelled, its channel closed). Then close waits until every connection coroutine has ended, and closes the
 * IOThreads. A coroutine that catches the cancellation and waits in something that is not a
 * cancellation point (a plain {@link Coroutine#yield()}) keeps close waiting, as a thread that
 * ignores interrupts keeps {@code StructuredTaskScope.close} waiting. A connection ended by close
 * is not reported for the {@link CancellationException} or {@link ClosedChannelException} it ends
 * with; anything else it throws is.
 *
 * <p><b>Threads.</b> Every method may be called from any thread, except {@link #close()}: not from
 * one of the group's IOThreads (a connection coroutine, a callback of a group's context), which
 * would wait for itself.
 */
public final class IOThreadGroup implements AutoCloseable {
    /** The thread-name prefix of {@link #start(int)}: threads {@code aioco-worker-0}, {@code -1}, ... */
    static final String DEFAULT_PREFIX = "aioco-worker-";
    /** How long accepting pauses after {@code accept} failed (Netty's one second). */
    static final long ACCEPT_PAUSE_NS = 1_000_000_000L;

    /** How a connection is taken from a listener: {@code ServerSocketChannel::accept}; tests inject failures. */
    interface Acceptor {
        /** Accepts the next pending connection, or returns null if there is none. */
        SocketChannel accept(ServerSocketChannel listener) throws IOException;
    }

    private final String prefix;
    private final List<IOThread> threads;
    private final List<AioContext> contexts;
    private final AtomicInteger nextIndex = new AtomicInteger();
    /** Guards {@link #closing}, {@link #connections} and {@link #listeners}. */
    private final Object lock = new Object();
    /** Held by the one thread that closes; {@link #closed} is set, under it, once close has finished. */
    private final Object closeLock = new Object();
    private volatile boolean closing;
    private boolean closed;
    private final Set<Connection> connections = new LinkedHashSet<>();
    private final List<Listener> listeners = new ArrayList<>();

    private IOThreadGroup(String prefix, List<IOThread> threads) {
        this.prefix = prefix;
        this.threads = List.copyOf(threads);
        this.contexts = this.threads.stream().map(IOThread::context).toList();
    }

    /**
     * Starts a group of {@code n} IOThreads named {@code aioco-worker-0} to {@code aioco-worker-(n-1)}.
     * QEMU: {@code -object iothread} given {@code n} times. Any thread.
     *
     * @param n how many IOThreads, at least 1
     * @return the group, its threads running
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static IOThreadGroup start(int n) {
        return start(DEFAULT_PREFIX, n);
    }

    /**
     * Starts a group of {@code n} IOThreads named {@code namePrefix + k} for {@code k} from 0 to
     * {@code n - 1} (each thread's context has its thread's name). QEMU: {@code -object
     * iothread,id=...} given {@code n} times. Any thread.
     *
     * @param namePrefix the start of every thread's name, e.g. {@code "nbd-iothread-"}
     * @param n how many IOThreads, at least 1
     * @return the group, its threads running
     * @throws IllegalArgumentException if {@code n < 1}
     */
    public static IOThreadGroup start(String namePrefix, int n) {
        Objects.requireNonNull(namePrefix, "namePrefix");
        if (n < 1) {
            throw new IllegalArgumentException("IOThreadGroup.start: " + n + " IOThreads asked for, at least 1 needed");
        }
        List<IOThread> started = new ArrayList<>(n);
        try {
            for (int k = 0; k < n; k++) {
                started.add(IOThread.start(namePrefix + k));
            }
        } catch (RuntimeException | Error e) {
            started.forEach(IOThread::close);
            throw e;
        }
        return new IOThreadGroup(namePrefix, started);
    }

    /** How many IOThreads the group has. No QEMU counterpart (the length of the mapping's list). Any thread. */
    public int size() {
        return threads.size();
    }

    /**
     * The group's IOThreads, in the order {@link #next()} hands them out (an unmodifiable list).
     * QEMU: the list of an {@code iothread-vq-mapping}. Any thread. The threads are the group's:
     * close the group, not them (a connection on a thread closed by hand can never end, and a close
     * of the group that has already handed it its cancellation would wait for it for ever).
     */
    public List<IOThread> ioThreads() {
        return threads;
    }

    /**
     * The context of the next IOThread, round robin: the first call returns the first thread's, and
     * the {@code k}-th call the {@code (k mod size())}-th, whichever threads call. QEMU: the
     * round-robin assignment of virtqueues to the IOThreads of an {@code iothread-vq-mapping}
     * (Netty: {@code EventLoopGroup.next()}). Accepted connections take their context from here
     * too. Any thread; also after close (the context is then closed).
     */
    public AioContext next() {
        return contexts.get(Math.floorMod(nextIndex.getAndIncrement(), contexts.size()));
    }

    /**
     * Serves the connections of {@code listener}: accepts them on {@code acceptContext}'s thread and
     * runs each one's coroutine, {@code connection.apply(channel)}, on the {@link #next()}
     * IOThread (see the class comment for errors and closing). QEMU: a {@code qio_net_listener}
     * whose new-client callback moves each client to an IOThread ({@code qio_channel_set_aio_fd_handler}
     * on the IOThread's context), as the NBD server and the vhost-user export do. Netty: a {@code
     * ServerBootstrap} with a boss and this worker group.
     *
     * <p>The group takes the listener over: it makes it non-blocking, and closes it when the group
     * closes. {@code acceptContext} must be polled by someone (the main loop, an IOThread; one of
     * this group's contexts works too). {@code connection} is called on the accepting thread, once
     * per connection, with the accepted channel (non-blocking); the entry it returns runs as a new
     * coroutine on its IOThread, and may use {@link Coroutine#yieldUntilReadable} and {@link
     * Coroutine#yieldUntilWritable} on the channel. Several listeners may be served at once. Any
     * thread.
     *
     * @param listener a bound server socket
     * @param acceptContext the context whose thread accepts
     * @param connection called with each accepted channel; returns the connection's coroutine
     * @throws IllegalStateException if the group is closed, or {@code acceptContext} is
     * @throws IOException if the listener cannot be made non-blocking
     */
    public void serve(ServerSocketChannel listener, AioContext acceptContext,
                      Function<? super SocketChannel, ? extends CoroutineEntry> connection) throws IOException {
        serve(listener, acceptContext, connection, ServerSocketChannel::accept, ClockType.REALTIME);
    }

    /** {@link #serve}, with the accept call and the clock of the accept pause chosen (tests). */
    void serve(ServerSocketChannel listener, AioContext acceptContext,
               Function<? super SocketChannel, ? extends CoroutineEntry> connection, Acceptor acceptor,
               ClockType clock) throws IOException {
        Objects.requireNonNull(listener, "listener");
        Objects.requireNonNull(acceptContext, "acceptContext");
        Objects.requireNonNull(connection, "connection");
        listener.configureBlocking(false);
        prepareForEmfile();
        Listener served = new Listener(listener, acceptContext, connection, acceptor, clock);
        synchronized (lock) {
            if (closing) {
                throw new IllegalStateException("IOThreadGroup.serve: " + this + " is closed");
            }
            served.watch(); // NOTE: first: it throws if the context is closed
            listeners.add(served);
        }
    }

    /**
     * Connections accepted whose coroutine has not ended yet (Netty's channel group size; no QEMU
     * counterpart). Any thread.
     */
    public int openConnections() {
        synchronized (lock) {
            return connections.size();
        }
    }

    /** Whether {@link #close()} was called (it may still be under way). No QEMU counterpart. Any thread. */
    public boolean isClosed() {
        return closing;
    }

    /**
     * Stops accepting, cancels every connection's coroutine and closes its channel (on its
     * IOThread), waits until every connection coroutine has ended, then closes the IOThreads (see
     * the class comment). QEMU: stopping the listeners and {@code iothread} objects' teardown;
     * Netty's {@code shutdownGracefully} of both groups. Idempotent: a second call, also a
     * concurrent one, returns once the first has finished.
     *
     * <p>Called from any thread except the group's IOThreads (a connection coroutine, a callback of
     * one of its contexts). If the calling thread is interrupted while waiting, it goes on waiting
     * and keeps its interrupt status.
     *
     * @throws IllegalStateException if called from one of the group's IOThreads
     */
    @Override
    public void close() {
        Thread me = Thread.currentThread();
        for (IOThread thread : threads) {
            if (thread.thread() == me) {
                throw new IllegalStateException("IOThreadGroup.close() called on " + me.getName() + ", an IOThread of "
                        + this + " that would wait for itself: call it from another thread");
            }
        }
        synchronized (closeLock) { // NOTE: one closer at a time; a second one finds closed set and returns
            if (closed) {
                return;
            }
            List<Listener> stopping;
            List<Connection> ending;
            synchronized (lock) {
                closing = true;
                stopping = List.copyOf(listeners);
                ending = List.copyOf(connections);
            }
            for (Listener listener : stopping) {
                listener.stop();
            }
            List<CompletableFuture<Void>> ends = new ArrayList<>();
            for (Connection connection : ending) {
                try {
                    connection.context.scheduleOneshot(connection::endByClose);
                } catch (IllegalStateException e) { // its IOThread was closed by hand: the coroutine never runs again
                    connection.end(null);
                }
                ends.add(connection.ended);
            }
            boolean interrupted = false;
            for (CompletableFuture<Void> end : ends) {
                while (true) {
                    try {
                        end.get();
                        break;
                    } catch (InterruptedException e) {
                        interrupted = true;
                    } catch (java.util.concurrent.ExecutionException e) {
                        break; // completed normally only
                    }
                }
            }
            threads.forEach(IOThread::close);
            closed = true;
            if (interrupted) {
                me.interrupt();
            }
        }
    }

    @Override
    public String toString() {
        return "IOThreadGroup[" + prefix + "0.." + (threads.size() - 1) + "]";
    }

    /** Called on the accepting thread: starts the coroutine of an accepted channel on the next IOThread. */
    private void startConnection(Listener listener, SocketChannel channel) {
        CoroutineEntry entry;
        try {
            channel.configureBlocking(false);
            entry = listener.connection.apply(channel);
            if (entry == null) {
                throw new NullPointerException("the connection function of IOThreadGroup.serve returned null for " + channel);
            }
        } catch (Throwable e) { // an Error too: it must not reach the accepting loop
            closeQuietly(channel);
            report("set-up", "setting up a connection accepted from " + listener.channel + " failed; its channel is closed", e);
            return;
        }
        SpawnEntry<Void> spawn = SpawnEntry.forEntry(entry);
        Coroutine coroutine = Coroutine.create(spawn);
        spawn.runIn(coroutine);
        synchronized (lock) {
            if (closing) {
                closeQuietly(channel);
                return;
            }
            AioContext ctx = next();
            Connection connection = new Connection(channel, ctx, coroutine);
            connections.add(connection);
            spawn.result().whenComplete((ignored, failure) -> connection.end(failure));
            ctx.coSchedule(coroutine); // NOTE: never entered here, also when ctx is the accepting one
        }
    }

    /** Logs a failure of the group's own work on the calling thread (accepting, setting up). */
    private void report(String kind, String what, Throwable failure) {
        long n = countFailure(kind, failure);
        if (n > 0) {
            try {
                LoopLog.groupFailed(this, what, n, failure, true);
            } catch (RuntimeException | LinkageError e) {
                // NOTE: a report that fails (out of fds, the logging could not open a file) must not
                // stop the accepting loop: the group serves on, as the report would have said
            }
        }
    }

    /** Whether {@link #prepareForEmfile()} ran. */
    private static volatile boolean preparedForEmfile;

    /**
     * Once, when a group starts serving: initialises the JDK classes that the accept path, the
     * connections' first reads and closes, and the group's reports need and whose initialisers open
     * file descriptors (sun.nio.ch.FileDispatcherImpl makes a socket pair; the log formatting reads
     * files). Initialised lazily, they would fail for good under a connection flood that exhausts
     * the fds (EMFILE), and every later connection would fail with NoClassDefFoundError. A pipe's
     * non-blocking read and close take the JDK's own path; best effort.
     */
    private static void prepareForEmfile() {
        if (preparedForEmfile) {
            return;
        }
        preparedForEmfile = true;
        try {
            java.nio.channels.Pipe pipe = java.nio.channels.Pipe.open();
            try {
                pipe.source().configureBlocking(false);
                pipe.source().read(java.nio.ByteBuffer.allocate(1));
            } finally {
                pipe.source().close();
                pipe.sink().close();
            }
        } catch (IOException | RuntimeException e) {
            // out of fds already: nothing to prepare with
        }
        for (String name : new String[] {"sun.nio.ch.FileDispatcherImpl", "sun.nio.ch.UnixFileDispatcherImpl"}) {
            try {
                Class.forName(name, true, null);
            } catch (ClassNotFoundException | LinkageError e) {
                // another JDK: the pipe above took its path
            }
        }
        LoopLog.prepare();
    }

    /** Reports are rate-limited per kind and exception class; beyond this many keys, all count as one. */
    private static final int MAX_FAILURE_KEYS = 256;
    /** Failures so far per kind and exception class (rate limiting, as a loop's callbacks' are). */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.AtomicLong> failures =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Counts a failure of {@code kind}: returns its number among the failures of its kind and
     * exception class if it is to be reported (the 1st, 10th, 100th, ..., as {@link
     * AioContext}'s reports of callbacks), else 0. Any thread.
     */
    long countFailure(String kind, Throwable failure) {
        String key = kind + ' ' + failure.getClass().getName();
        java.util.concurrent.atomic.AtomicLong count = failures.get(key);
        if (count == null) {
            if (failures.size() >= MAX_FAILURE_KEYS) {
                key = "";
            }
            count = failures.computeIfAbsent(key, k -> new java.util.concurrent.atomic.AtomicLong());
        }
        long n = count.incrementAndGet();
        return LoopLog.reportedAt(n) ? n : 0;
    }

    private static void closeQuietly(java.nio.channels.Channel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }

    /** One served connection: its channel, its IOThread's context and its coroutine. */
    private final class Connection {
        final SocketChannel channel;
        final AioContext context;
        final Coroutine coroutine;
        /** The channel's addresses, for the report (a closed channel no longer shows them). */
        final String name;
        /** Completed (normally) once the coroutine has ended and the channel is closed. */
        final CompletableFuture<Void> ended = new CompletableFuture<>();

        Connection(SocketChannel channel, AioContext context, Coroutine coroutine) {
            this.channel = channel;
            this.context = context;
            this.coroutine = coroutine;
            this.name = channel.toString();
        }

        /** On the connection's IOThread, a bottom half of close(): ends the coroutine's waits. */
        void endByClose() {
            coroutine.cancel(); // NOTE: first: on this thread it runs the coroutine up to its next wait or end
            closeQuietly(channel);
        }

        /** On the connection's IOThread, as its coroutine ends (normally when failure is null). */
        void end(Throwable failure) {
            closeQuietly(channel);
            try {
                long n;
                if (failure != null && !(closing && (failure instanceof CancellationException
                        || failure instanceof ClosedChannelException))
                        && (n = countFailure("connection", failure)) > 0) {
                    LoopLog.groupFailed(IOThreadGroup.this, "connection " + coroutine + " (" + name
                            + ") threw; its channel is closed and the group serves on", n, failure, false);
                    Thread self = Thread.currentThread();
                    self.getUncaughtExceptionHandler().uncaughtException(self, failure);
                }
            } finally {
                synchronized (lock) {
                    connections.remove(this); // NOTE: after the report: openConnections() == 0 means every report is made
                }
                ended.complete(null);
            }
        }
    }

    /** One served listener. Its fields are read on its accepting thread. */
    private final class Listener {
        final ServerSocketChannel channel;
        final AioContext acceptContext;
        final Function<? super SocketChannel, ? extends CoroutineEntry> connection;
        final Acceptor acceptor;
        /** Puts the accept handler back after a pause; fires on the accepting thread. */
        final Timer resume;

        Listener(ServerSocketChannel channel, AioContext acceptContext,
                 Function<? super SocketChannel, ? extends CoroutineEntry> connection, Acceptor acceptor, ClockType clock) {
            this.channel = channel;
            this.acceptContext = acceptContext;
            this.connection = connection;
            this.acceptor = acceptor;
            this.resume = acceptContext.newTimer(clock, this::resumeAccepting);
        }

        /** The accept handler, on the accepting thread while the listener is readable. */
        void acceptAll() {
            while (!closing) {
                SocketChannel accepted;
                try {
                    accepted = acceptor.accept(channel);
                } catch (Throwable e) { // NOTE: out of fds the listener stays readable: retrying now would spin
                    if (closing) {
                        return; // close() closed the listener under us
                    }
                    acceptContext.setFdHandler(channel, null, null);
                    if (e instanceof ClosedChannelException) {
                        closedBySomeoneElse(e);
                    } else {
                        resume.modNs(resume.clockType().nowNs() + ACCEPT_PAUSE_NS);
                        report("accept", "accept on " + channel + " failed; accepting again in 1 s", e);
                    }
                    return;
                }
                if (accepted == null) {
                    return;
                }
                startConnection(this, accepted);
            }
        }

        /**
         * Makes {@link #acceptAll} the listener's handler, and {@link #closedBySomeoneElse} its
         * handler for a close nobody reports (NIO drops a closed channel's key silently: the accept
         * handler would never run again to see the close). Any thread.
         */
        void watch() {
            acceptContext.setFdHandlerWatchingClose(channel, this::acceptAll,
                    () -> closedBySomeoneElse(new ClosedChannelException()));
        }

        /**
         * On the accepting thread, once the listener is found closed by someone else (its accept
         * threw, its accepting loop found it closed, or it was closed during an accept pause): the
         * group lets go of it and logs it, once.
         */
        void closedBySomeoneElse(Throwable failure) {
            if (closing) {
                return; // close() closed it
            }
            resume.del();
            boolean served;
            synchronized (lock) {
                served = listeners.remove(this); // NOTE: no longer served: the group lets go of it
            }
            if (served) {
                report("listener closed", "its listener " + channel + " was closed by someone else; it is no longer served", failure);
            }
        }

        /** The pause timer's callback, on the accepting thread. */
        void resumeAccepting() {
            if (closing) {
                return;
            }
            if (channel.isOpen()) {
                watch();
            } else {
                closedBySomeoneElse(new ClosedChannelException());
            }
        }

        /**
         * close(): removes the handler and the timer on the accepting thread (unless the context is
         * closed: nothing runs there any more) and closes the listener now. Not waiting for the
         * accepting thread keeps close from hanging on a loop nobody polls; no connection is started
         * after {@code closing} is set.
         */
        void stop() {
            try {
                acceptContext.scheduleOneshot(() -> {
                    resume.del();
                    acceptContext.setFdHandler(channel, null, null);
                });
            } catch (IllegalStateException e) {
                // the accepting context is closed: no handler is called any more
            }
            closeQuietly(channel);
            // NOTE: the fd (and the port) is freed only when the selector lets the key go: now, if
            // nobody polls the accepting context (a stopped main loop); else at its next select,
            // which the bottom half above wakes
            acceptContext.flushRegistration(channel);
        }
    }
}
