package io.aioco.examples.nbd;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.CoroutineTimeoutException;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One client, from the greeting to the last reply, written as QEMU's {@code nbd/server.c} is: one
 * coroutine reads requests, one coroutine per request serves it, and replies go out under a
 * {@link CoMutex} so that two of them never interleave on the socket.
 *
 * <p>The reader spawns a request's coroutine in the connection's context with {@link
 * AioContext#coEnter}; from a running coroutine that queues it to run once the reader yields, so a
 * burst of pipelined requests is read in one go and then served. Disk I/O runs on the context's
 * thread pool ({@code ThreadPool.submitCo}) while the request's coroutine is suspended, so requests
 * overlap and their replies may go out in any order, as the protocol allows.
 *
 * <p>No client can wedge it: the reader stops reading while {@link #MAX_IN_FLIGHT} requests are in
 * flight or the server's {@link BufferBudget} has no room for the next one (back-pressure, never
 * failure); whatever a coroutine of the connection throws, an {@code Error} included, ends this
 * connection (buffers back, socket closed, one log line) and never reaches the loop.
 *
 * <p>Bounded waits (issue 16): a client that leaves without {@code NBD_CMD_DISC} (or that the
 * server ends) has its requests in flight cancelled ({@link Coroutine#cancel()}): their buffers go
 * back to the budget, disk work still queued is dropped, and work already running on a worker
 * finishes there with its result dropped (its buffer goes back when the worker is done). {@code
 * NBD_CMD_DISC} is served as the protocol says: requests in flight are handled first. The handshake
 * must end within {@code --handshake-timeout} (QEMU's limit, 10 s), a connection with no request in
 * flight and none arriving is closed after {@code --idle-timeout}, and a reply the client does not
 * take in within {@code --write-timeout} ends the connection, and so does a WRITE whose whole payload
 * has not arrived within it (its buffer is reserved meanwhile).
 *
 * <p>Threads: everything here runs on the loop thread of the connection's context, except the
 * lambdas passed to {@code submitCo}, which run on workers and touch only the export and buffers
 * that no one else uses meanwhile.
 */
final class Connection {
    /** Bytes of a request header. */
    private static final int REQUEST_HEADER = 28;
    /**
     * Requests served at once per connection, QEMU's {@code MAX_NBD_REQUESTS}: beyond that the
     * reader stops reading the client's requests until a reply is out (back-pressure).
     */
    static final int MAX_IN_FLIGHT = 16;
    /** The reason logged for a connection that {@link #requestClose} ended. */
    static final String CLOSED_BY_SERVER = "closed by the server";
    /** The start of the reason logged for a connection closed by the idle timeout. */
    static final String IDLE = "idle for ";
    /** What {@link #readHeader} returns: a header is buffered, the client left, the idle timeout passed. */
    private static final int HEADER = 1;
    private static final int LEFT = 0;
    private static final int IDLE_EXPIRED = -1;

    private final int id;
    private final String peer;
    private final AioContext ctx;
    private final SocketIo io;
    private final Export export;
    private final BufferBudget budget;
    private final ServerLog log;
    private final Runnable onClosed;
    private final ClockType clock;
    /** {@code --handshake-timeout} and {@code --idle-timeout} in nanoseconds; 0: none. */
    private final long handshakeTimeoutNs;
    private final long idleTimeoutNs;
    /** {@code --write-timeout} in nanoseconds, bounding the read of a WRITE's whole payload; 0: none. */
    private final long payloadTimeoutNs;
    private final CoMutex sendLock = new CoMutex();
    /** The reader waits here for requests to finish: back-pressure, and draining at the end. */
    private final CoQueue requestFinished = new CoQueue();
    private final BufferPool buffers;
    /** Requests in flight (their coroutines are cancelled when the client leaves). */
    private final Set<Request> active = new LinkedHashSet<>();
    /** Set while a trim of the pool is scheduled, so that asks coalesce. */
    private final AtomicBoolean trimAsked = new AtomicBoolean();
    /** Registered with the budget: asks this connection's loop to give its kept buffers back. */
    private final Runnable trimmer = this::askToTrim;
    /** When the last request was read or answered, on {@link #clock}: where the idle time starts. */
    private long lastActivityNs;
    /** The client asked to disconnect (NBD_CMD_DISC): requests in flight are served, not cancelled. */
    private boolean disconnectAsked;
    /** Completed by {@link #requestClose}: the server is closing; a reader waiting for budget stops. */
    private final CompletableFuture<Void> closing = new CompletableFuture<>();
    private Handshake.Result negotiated;
    private int inFlight;
    /** Bytes of the budget that this connection's requests hold now; at most the budget's share. */
    private long held;
    /** A reply failed half-way, or the client is gone: nothing more may be sent. */
    private boolean broken;
    /** Why a request's coroutine ended the connection (an internal error), or null. */
    private String failure;
    private long requests;
    private long failedRequests;
    private long bytesRead;
    private long bytesWritten;

    Connection(int id, String peer, AioContext ctx, SocketChannel channel, Export export, BufferBudget budget,
               ServerLog log, ServerOptions options, ClockType clock, Runnable onClosed) {
        this.id = id;
        this.peer = peer;
        this.ctx = ctx;
        this.clock = clock;
        this.io = new SocketIo(channel, clock, ServerOptions.nanos(options.writeTimeoutSeconds), this::replyWaits);
        this.export = export;
        this.budget = budget;
        this.buffers = new BufferPool(budget);
        this.log = log;
        this.handshakeTimeoutNs = ServerOptions.nanos(options.handshakeTimeoutSeconds);
        this.idleTimeoutNs = ServerOptions.nanos(options.idleTimeoutSeconds);
        this.payloadTimeoutNs = ServerOptions.nanos(options.writeTimeoutSeconds);
        this.onClosed = onClosed;
    }

    /** Called by a reply's write when the client has not taken it in yet and the deadline is armed. */
    private void replyWaits() {
        if (log.verbose()) {
            log.line("connection " + id + ": a reply waits for the client to read (write deadline armed)");
        }
    }

    /** Any thread (the budget's trimmers): schedules a trim of the pool on the connection's loop. */
    private void askToTrim() {
        if (trimAsked.compareAndSet(false, true)) {
            try {
                ctx.scheduleOneshot(() -> {
                    trimAsked.set(false);
                    buffers.trim();
                });
            } catch (IllegalStateException e) { // the context is closed: its connections are gone
                trimAsked.set(false);
            }
        }
    }

    /**
     * Serves the connection to its end, then closes it and logs one line. Runs in its own coroutine.
     * Nothing it or a request's coroutine throws gets out: whatever goes wrong ends this connection
     * (requests in flight finish, their buffers go back, the socket is closed) and is named in its
     * closing line.
     */
    @CoroutineFn
    void serve() {
        long started = System.nanoTime();
        if (log.verbose()) {
            log.line("connection " + id + " from " + peer + " opened on " + Thread.currentThread().getName());
        }
        budget.addTrimmer(trimmer);
        String reason;
        try {
            Handshake handshake = new Handshake(io, export, clock);
            negotiated = handshakeTimeoutNs > 0 ? Coroutine.withTimeoutNs(clock, handshakeTimeoutNs, handshake::run)
                    : handshake.run();
            if (negotiated == null) {
                reason = handshake.endReason();
            } else {
                lastActivityNs = negotiated.enteredAtNs;
                reason = transmit();
            }
        } catch (ProtocolException e) {
            reason = "dropped: protocol error: " + e.getMessage();
            hangUp();
        } catch (SocketIo.WriteTimeoutException | PayloadStalledException e) {
            reason = "dropped: " + e.getMessage();
            hangUp();
        } catch (CoroutineTimeoutException e) {
            reason = "dropped: handshake not finished within " + seconds(handshakeTimeoutNs) + " s (--handshake-timeout)";
            hangUp();
        } catch (EOFException e) {
            reason = "client vanished mid-message: " + e.getMessage();
        } catch (IOException e) {
            reason = "socket error: " + e;
        } catch (Throwable e) { // NOTE: an Error too: it must end this connection, never the loop
            reason = "dropped: internal error: " + describe(e);
            hangUp();
        }
        if (!disconnectAsked) { // the client left (or is dropped): what it asked for is of no use to it
            cancelRequests();
        } else if (inFlight > 0 && log.verbose()) {
            log.line("connection " + id + ": NBD_CMD_DISC with " + inFlight + " requests in flight: serving them first");
        }
        while (inFlight > 0) { // NBD_CMD_DISC: requests in flight are served first, as the protocol says
            requestFinished.await(null);
        }
        assert inFlight == 0 && active.isEmpty();
        io.close();
        budget.removeTrimmer(trimmer);
        buffers.close();
        onClosed.run();
        if (failure != null) {
            reason = failure;
        } else if (closing.isDone()) {
            reason = CLOSED_BY_SERVER;
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        String how = negotiated == null ? ""
                : ", " + negotiated.enteredWith + (negotiated.structured ? " with structured replies" : "");
        log.line("connection " + id + " from " + peer + " on " + Thread.currentThread().getName() + " closed after "
                + ms + " ms, " + requests + " requests (" + failedRequests + " failed), " + bytesRead
                + " bytes read, " + bytesWritten + " written" + how + ": " + reason);
    }

    /**
     * Cancels every request in flight: each one's current wait (disk work, the send lock, room in
     * the socket) throws, its coroutine gives its buffers back and ends.
     */
    private void cancelRequests() {
        if (!active.isEmpty() && log.verbose()) {
            log.line("connection " + id + ": " + active.size() + " requests in flight cancelled");
        }
        for (Request request : new ArrayList<>(active)) {
            request.coroutine.cancel();
        }
    }

    /** A duration of the options for a log line: whole seconds as such ("10"), else with a fraction. */
    static String seconds(long ns) {
        return ns % 1_000_000_000L == 0 ? String.valueOf(ns / 1_000_000_000L) : String.valueOf(ns / 1e9);
    }

    /** The context whose loop thread serves the connection. */
    AioContext context() {
        return ctx;
    }

    /**
     * Closes the socket when the connection's context was closed under it (its coroutines will never
     * run again): the client sees the end of the stream at least. Called from any thread.
     */
    void closeSocketOfDeadContext() {
        try {
            io.channel().close();
        } catch (IOException e) {
            // nothing more to do with it
        }
    }

    /** A throwable with where it was thrown, for a log line. */
    private static String describe(Throwable e) {
        StackTraceElement[] trace = e.getStackTrace();
        return trace.length == 0 ? e.toString() : e + " at " + trace[0];
    }

    /**
     * A hard disconnect: replies still in flight are dropped (a writer waiting for room in the socket
     * fails at once), so a client that stopped reading cannot keep the connection alive.
     */
    private void hangUp() {
        broken = true;
        io.shutdownOutput();
    }

    /**
     * Ends the connection from the server's side ({@link NbdServer#close()}): the reader sees the
     * end of input (or stops waiting for room), replies are dropped, the client sees the end of the
     * stream; requests in flight finish their disk I/O, then {@link #serve()} closes the socket.
     * Called on the connection's loop thread, outside its coroutines; idempotent.
     */
    void requestClose() {
        assert !Coroutine.inCoroutine();
        closing.complete(null);
        broken = true;
        io.shutdownInput();
        io.shutdownOutput();
    }

    /** The name of a request's coroutine, as the coroutine dump shows it (one constant: nothing made per request). */
    private static final String REQUEST_COROUTINE = "nbd-request";

    /** The transmission phase: reads requests until the client leaves; returns why it ended. */
    @CoroutineFn
    private String transmit() throws IOException {
        while (true) {
            if (closing.isDone()) {
                return CLOSED_BY_SERVER;
            }
            int header = readHeader(); // the next request
            if (header == LEFT) {
                return "client closed the connection without NBD_CMD_DISC";
            }
            if (header == IDLE_EXPIRED) {
                return IDLE + seconds(idleTimeoutNs) + " s (--idle-timeout)";
            }
            lastActivityNs = clock.nowNs();
            ByteBuffer in = io.input();
            int magic = in.getInt();
            int flags = Short.toUnsignedInt(in.getShort());
            int type = Short.toUnsignedInt(in.getShort());
            long cookie = in.getLong();
            long offset = in.getLong();
            long length = Integer.toUnsignedLong(in.getInt());
            if (magic != Nbd.REQUEST_MAGIC) {
                throw new ProtocolException("bad request magic 0x" + Integer.toHexString(magic));
            }
            if (type == Nbd.CMD_DISC) {
                disconnectAsked = true;
                return "client disconnected (NBD_CMD_DISC)";
            }
            Request request = new Request(flags, type, cookie, offset, length);
            if (type == Nbd.CMD_WRITE && length > Nbd.MAX_PAYLOAD) { // its payload cannot be taken in
                throw new ProtocolException("WRITE of " + length + " bytes (at most " + Nbd.MAX_PAYLOAD + ")");
            }
            if (!admit(request)) {
                return CLOSED_BY_SERVER;
            }
            if (type == Nbd.CMD_WRITE) {
                try {
                    request.data = buffers.take((int) length);
                    readPayload(request.data);
                } catch (Throwable e) { // the payload never came: give back what it held
                    release(request);
                    throw e;
                }
                request.data.flip();
            }
            inFlight++;
            requests++;
            request.coroutine = Coroutine.create(REQUEST_COROUTINE, () -> serveRequest(request));
            active.add(request);
            ctx.coEnter(request.coroutine);
        }
    }

    /**
     * Waits for the next request header, at most until the connection has been idle (no request in
     * flight, none read or answered) for the idle timeout.
     *
     * @return {@link #HEADER}, {@link #LEFT} (the client closed the connection between requests),
     *     or {@link #IDLE_EXPIRED}
     */
    @CoroutineFn
    private int readHeader() throws IOException {
        if (idleTimeoutNs <= 0) {
            return io.fill(REQUEST_HEADER) ? HEADER : LEFT; // waits here for the next request (dumps show this line)
        }
        while (true) {
            int state = io.fillNow(REQUEST_HEADER);
            if (state != 0) {
                return state > 0 ? HEADER : LEFT;
            }
            long wait = idleTimeoutNs; // NOTE: while requests are in flight: look again after a while
            if (inFlight == 0) {
                wait = lastActivityNs + idleTimeoutNs - clock.nowNs();
                if (wait <= 0) {
                    return IDLE_EXPIRED;
                }
            }
            try {
                Coroutine.withTimeoutNs(clock, wait, () -> {
                    io.awaitReadable();
                    return null;
                });
            } catch (CoroutineTimeoutException e) {
                // its deadline: look at the idle time again
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e); // awaitReadable throws nothing else
            }
        }
    }

    /**
     * Reads a WRITE's payload. The whole payload must arrive within {@code --write-timeout} (its
     * buffer is reserved in the budget meanwhile: a client that announces 32 MiB and sends them a
     * byte a second must not hold the budget back from the others longer than that); with an idle
     * timeout, each wait for more of it is bounded by that too.
     */
    @CoroutineFn
    private void readPayload(ByteBuffer data) throws IOException {
        if (payloadTimeoutNs <= 0 && idleTimeoutNs <= 0) {
            io.readFully(data);
            return;
        }
        long startedNs = clock.nowNs();
        try {
            if (payloadTimeoutNs > 0) {
                Coroutine.withTimeoutNs(clock, payloadTimeoutNs, () -> {
                    io.readFully(data, idleTimeoutNs);
                    return null;
                });
            } else {
                io.readFully(data, idleTimeoutNs);
            }
        } catch (CoroutineTimeoutException e) {
            throw new PayloadStalledException(payloadTimeoutNs > 0 && clock.nowNs() - startedNs >= payloadTimeoutNs
                    ? "a WRITE payload of " + data.limit() + " bytes not received within " + seconds(payloadTimeoutNs)
                            + " s (--write-timeout)"
                    : "a WRITE payload stalled for " + seconds(idleTimeoutNs) + " s (--idle-timeout)");
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Exception e) {
            throw new IOException(e);
        }
    }

    /** A WRITE's payload did not come in time: the connection is dropped, the reason is the message. */
    private static final class PayloadStalledException extends IOException {
        PayloadStalledException(String message) {
            super(message);
        }
    }

    /**
     * Back-pressure before a request is read further: waits while {@link #MAX_IN_FLIGHT} requests
     * are in flight, then while the connection's requests hold its whole {@link BufferBudget#share()}
     * (its own requests must finish first: a client that stops reading stalls only itself), then
     * until the server's budget has room for the request's buffer, and reserves it. A connection that
     * holds nothing always gets one request's worth up to the budget's ceiling, so no other client can
     * stall it. Returns false, holding nothing, if the server closes meanwhile.
     */
    @CoroutineFn
    private boolean admit(Request request) {
        if (inFlight >= MAX_IN_FLIGHT) {
            if (log.verbose()) {
                log.line("connection " + id + ": " + inFlight + " requests in flight, reading paused");
            }
            while (inFlight >= MAX_IN_FLIGHT && !closing.isDone()) {
                requestFinished.await(null);
            }
        }
        long bytes = bufferBytes(request);
        if (held > 0 && held + bytes > budget.share()) {
            if (log.verbose()) {
                log.line("connection " + id + ": its share of the buffer budget spent (" + held + " of "
                        + budget.share() + " bytes in flight), reading paused");
            }
            while (held > 0 && held + bytes > budget.share() && !closing.isDone()) {
                requestFinished.await(null);
            }
        }
        boolean reserved = held == 0 ? budget.tryReserveFirst(bytes) : budget.tryReserve(bytes);
        if (!reserved && buffers.keptBytes() > 0) { // this connection's own kept buffers count too
            buffers.trim();
            reserved = held == 0 ? budget.tryReserveFirst(bytes) : budget.tryReserve(bytes);
        }
        if (!reserved && log.verbose()) {
            log.line("connection " + id + ": buffer budget spent (" + budget.reserved() + " of " + budget.limit()
                    + " bytes in flight), reading paused");
        }
        while (!reserved && !closing.isDone()) {
            reserved = budget.awaitRelease(bytes, held == 0, closing); // NOTE: held only falls meanwhile
        }
        if (closing.isDone()) {
            if (reserved) {
                budget.release(bytes);
            }
            return false;
        }
        request.reserved = bytes;
        held += bytes;
        assert held <= Math.max(budget.share(), bytes) : held;
        return true;
    }

    /** What serving the request takes from the buffer budget: the capacity of the buffer it will use. */
    private static long bufferBytes(Request r) {
        return switch (r.type) {
            case Nbd.CMD_WRITE -> BufferPool.capacityFor((int) r.length);
            case Nbd.CMD_READ -> r.length <= Nbd.MAX_PAYLOAD ? BufferPool.capacityFor((int) r.length) : 0;
            case Nbd.CMD_BLOCK_STATUS -> BufferPool.capacityFor((int) Math.max(1,
                    Math.min(r.length, Export.STATUS_SCAN_LIMIT)));
            default -> 0;
        };
    }

    /**
     * Gives back the request's buffer and its share of the budget. If disk work of a cancelled
     * request still runs on a worker, its buffer is left to the worker (never reused) and the worker
     * gives the request's share of the budget back when it is done.
     */
    private void release(Request request) {
        long bytes = request.reserved;
        held -= bytes;
        assert held >= 0 : held;
        request.reserved = 0;
        if (request.abandonWork(() -> budget.release(bytes))) {
            buffers.give(request.data);
            budget.release(bytes);
        }
        request.data = null;
    }

    /**
     * Serves one request in its own coroutine: check, do, reply, log. Whatever it throws ends the
     * connection (one line, in {@link #serve()}'s closing line); its buffers go back in any case.
     */
    @CoroutineFn
    private void serveRequest(Request request) {
        try {
            int error = check(request);
            if (error == 0) {
                error = execute(request);
            }
            if (error != 0) {
                failedRequests++;
                log.line("connection " + id + ": " + request.describe() + ": " + Nbd.errorName(error) + " ("
                        + request.errorMessage + ")");
            } else if (log.verbose()) {
                log.line("connection " + id + ": " + request.describe() + ": ok");
            }
            lastActivityNs = clock.nowNs(); // NOTE: before the reply: once the client has it, the idle clock runs
            reply(request, error);
        } catch (SocketIo.WriteTimeoutException e) { // the client does not read: it must not hold its buffers
            if (failure == null) {
                failure = "dropped: " + e.getMessage();
            }
            io.shutdownInput(); // the reader sees the end of input and stops (send() made the connection broken)
        } catch (IOException e) {
            // the reply could not be sent: the client is gone; the reader sees it too and ends
        } catch (CancellationException e) {
            // its client left, or the server closes: nothing to reply, nobody to reply to
        } catch (Throwable e) { // NOTE: an Error too (a full direct memory): ends the connection, not the loop
            if (failure == null) {
                failure = "dropped: internal error in " + request.describe() + ": " + describe(e);
            }
            broken = true;
            io.shutdownOutput();
            io.shutdownInput(); // the reader sees the end of input and stops
        }
        active.remove(request);
        release(request);
        inFlight--;
        requestFinished.next();
    }

    /** The protocol's checks before doing anything: 0, or the error to reply with. */
    private int check(Request r) {
        int allowed = Nbd.CMD_FLAG_FUA;
        switch (r.type) {
            case Nbd.CMD_READ -> allowed |= negotiated.structured ? Nbd.CMD_FLAG_DF : 0;
            case Nbd.CMD_WRITE_ZEROES -> allowed |= Nbd.CMD_FLAG_NO_HOLE;
            case Nbd.CMD_BLOCK_STATUS -> allowed |= Nbd.CMD_FLAG_REQ_ONE;
            case Nbd.CMD_WRITE, Nbd.CMD_FLUSH, Nbd.CMD_TRIM -> { }
            default -> {
                return fail(r, Nbd.EINVAL, "unknown or unsupported command");
            }
        }
        if ((r.flags & ~allowed) != 0) {
            return fail(r, Nbd.EINVAL, "flags 0x" + Integer.toHexString(r.flags & ~allowed) + " not valid here");
        }
        boolean writes = r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_WRITE_ZEROES || r.type == Nbd.CMD_TRIM;
        if (writes && export.readOnly()) {
            return fail(r, Nbd.EPERM, "the export is read-only");
        }
        if (r.type == Nbd.CMD_READ && r.length > Nbd.MAX_PAYLOAD) {
            return fail(r, Nbd.EINVAL, "read longer than the maximum payload " + Nbd.MAX_PAYLOAD);
        }
        if (r.type == Nbd.CMD_BLOCK_STATUS && !negotiated.baseAllocation) {
            return fail(r, Nbd.EINVAL, "no metadata context was selected");
        }
        if (r.type == Nbd.CMD_BLOCK_STATUS && r.length == 0) {
            return fail(r, Nbd.EINVAL, "block status of an empty range");
        }
        if (r.type != Nbd.CMD_FLUSH && !export.contains(r.offset, r.length)) {
            // the protocol: ENOSPC for writes past the end, EINVAL for reads, trims and queries
            int error = r.type == Nbd.CMD_WRITE || r.type == Nbd.CMD_WRITE_ZEROES ? Nbd.ENOSPC : Nbd.EINVAL;
            return fail(r, error, "past the end of the " + export.size() + "-byte export");
        }
        return 0;
    }

    private static int fail(Request r, int error, String message) {
        r.errorMessage = message;
        return error;
    }

    /** Does the request's work on the thread pool; returns 0 or the error to reply with. */
    @CoroutineFn
    private int execute(Request r) {
        long offset = r.offset;
        boolean fua = r.fua();
        try {
            switch (r.type) {
                case Nbd.CMD_READ -> {
                    ByteBuffer data = buffers.take((int) r.length);
                    r.data = data;
                    onWorker(r, () -> {
                        export.read(data, offset);
                        return null;
                    });
                    data.flip();
                    bytesRead += r.length;
                }
                case Nbd.CMD_WRITE -> {
                    ByteBuffer data = r.data;
                    onWorker(r, () -> {
                        export.write(data, offset, fua);
                        return null;
                    });
                    bytesWritten += r.length;
                }
                case Nbd.CMD_WRITE_ZEROES -> {
                    long length = r.length;
                    onWorker(r, () -> {
                        export.writeZeroes(offset, length, fua);
                        return null;
                    });
                    bytesWritten += r.length;
                }
                case Nbd.CMD_FLUSH -> flush(r);
                case Nbd.CMD_TRIM -> { // a hint: Java cannot punch holes, so nothing is discarded
                    if (fua) {
                        flush(r);
                    }
                }
                case Nbd.CMD_BLOCK_STATUS -> blockStatus(r);
                default -> throw new IllegalStateException("unchecked command " + r.type);
            }
            return 0;
        } catch (IOException e) {
            return fail(r, Nbd.errorOf(e), e.toString());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            return fail(r, Nbd.EIO, e.toString());
        }
    }

    @CoroutineFn
    private void flush(Request r) throws Exception {
        onWorker(r, () -> {
            export.flush();
            return null;
        });
    }

    /**
     * Runs the request's disk work on the context's thread pool and returns its result. A
     * cancellation point ({@code submitCo}): cancelled while the work is queued, the work is dropped
     * when its turn comes; while it runs, it finishes on its worker and its result is dropped.
     */
    @CoroutineFn
    private <T> T onWorker(Request r, Callable<T> work) throws Exception {
        return ctx.threadPool().submitCo(() -> r.runWork(work));
    }

    /** NBD_CMD_BLOCK_STATUS for base:allocation: the extents, as one chunk's payload. */
    @CoroutineFn
    private void blockStatus(Request r) throws Exception {
        int length = (int) Math.min(r.length, Export.STATUS_SCAN_LIMIT);
        ByteBuffer scratch = buffers.take(Math.max(length, 1));
        r.data = scratch; // NOTE: given back with the request's buffer, never while a worker may use it
        long offset = r.offset;
        boolean onlyOne = (r.flags & Nbd.CMD_FLAG_REQ_ONE) != 0;
        List<int[]> extents = onWorker(r, () -> export.blockStatus(offset, length, scratch, onlyOne));
        ByteBuffer payload = ByteBuffer.allocate(4 + 8 * extents.size()).putInt(Handshake.BASE_ALLOCATION_ID);
        for (int[] extent : extents) {
            payload.putInt(extent[0]).putInt(extent[1]);
        }
        r.status = payload.flip();
    }

    /** Sends the reply: simple, or structured chunks where negotiated and needed. */
    @CoroutineFn
    private void reply(Request r, int error) throws IOException {
        boolean structured = negotiated.structured;
        if (structured && error != 0) {
            byte[] message = r.errorMessage.getBytes(StandardCharsets.UTF_8);
            int messageLength = Math.min(message.length, Nbd.MAX_STRING);
            ByteBuffer chunk = chunkHeader(r, Nbd.REPLY_TYPE_ERROR, 6 + messageLength, 6 + messageLength)
                    .putInt(error).putShort((short) messageLength).put(message, 0, messageLength).flip();
            send(chunk);
        } else if (structured && r.type == Nbd.CMD_READ) {
            if (r.length == 0) {
                send(chunkHeader(r, Nbd.REPLY_TYPE_NONE, 0, 0).flip());
            } else {
                ByteBuffer header = chunkHeader(r, Nbd.REPLY_TYPE_OFFSET_DATA, 8 + (int) r.length, 8).putLong(r.offset);
                send(header.flip(), r.data);
            }
        } else if (structured && r.type == Nbd.CMD_BLOCK_STATUS) {
            send(chunkHeader(r, Nbd.REPLY_TYPE_BLOCK_STATUS, r.status.remaining(), 0).flip(), r.status);
        } else {
            ByteBuffer header = ByteBuffer.allocate(16).putInt(Nbd.SIMPLE_REPLY_MAGIC).putInt(error).putLong(r.cookie);
            if (r.type == Nbd.CMD_READ && error == 0) {
                send(header.flip(), r.data);
            } else {
                send(header.flip());
            }
        }
    }

    /**
     * A structured chunk header flagged DONE (every reply here is one chunk), with room for {@code
     * inline} more bytes of the payload in the same buffer.
     */
    private static ByteBuffer chunkHeader(Request r, int type, int payloadLength, int inline) {
        return ByteBuffer.allocate(20 + inline)
                .putInt(Nbd.STRUCTURED_REPLY_MAGIC).putShort((short) Nbd.REPLY_FLAG_DONE).putShort((short) type)
                .putLong(r.cookie).putInt(payloadLength);
    }

    /** Writes one whole reply under the send lock; a failure marks the connection broken. */
    @CoroutineFn
    private void send(ByteBuffer... parts) throws IOException {
        sendLock.lock();
        Throwable failure = null;
        try {
            if (broken) {
                throw new ClosedChannelException();
            }
            io.writeFully(parts);
        } catch (Throwable e) { // NOTE: an Error too (no direct memory for a copy): the lock must be let go
            broken = true;
            failure = e;
        }
        sendLock.unlock();
        if (failure != null) {
            io.shutdownInput(); // half a reply may be out: the reader must stop too
            if (failure instanceof IOException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e; // serveRequest ends the connection with it
            }
            if (failure instanceof RuntimeException e) {
                throw e; // a cancellation: the client left
            }
            throw new IOException("reply failed", failure);
        }
    }
}
