package io.aioco.examples.nbd;

import io.aioco.AioContext;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.util.List;

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
 * <p>Threads: everything here runs on the loop thread of the connection's context, except the
 * lambdas passed to {@code submitCo}, which run on workers and touch only the export and buffers
 * that no one else uses meanwhile.
 */
final class Connection {
    /** Bytes of a request header. */
    private static final int REQUEST_HEADER = 28;
    /** Requests served at once per connection; the reader waits beyond that (back-pressure). */
    static final int MAX_IN_FLIGHT = 64;

    private final int id;
    private final String peer;
    private final AioContext ctx;
    private final SocketIo io;
    private final Export export;
    private final ServerLog log;
    private final Runnable onClosed;
    private final CoMutex sendLock = new CoMutex();
    /** The reader waits here for requests to finish: back-pressure, and draining at the end. */
    private final CoQueue requestFinished = new CoQueue();
    private final BufferPool buffers = new BufferPool();
    private Handshake.Result negotiated;
    private int inFlight;
    /** A reply failed half-way, or the client is gone: nothing more may be sent. */
    private boolean broken;
    private long requests;
    private long failedRequests;
    private long bytesRead;
    private long bytesWritten;

    Connection(int id, String peer, AioContext ctx, SocketIo io, Export export, ServerLog log, Runnable onClosed) {
        this.id = id;
        this.peer = peer;
        this.ctx = ctx;
        this.io = io;
        this.export = export;
        this.log = log;
        this.onClosed = onClosed;
    }

    /** Serves the connection to its end, then closes it and logs one line. Runs in its own coroutine. */
    @CoroutineFn
    void serve() {
        long started = System.nanoTime();
        if (log.verbose()) {
            log.line("connection " + id + " from " + peer + " opened on " + Thread.currentThread().getName());
        }
        String reason;
        try {
            Handshake handshake = new Handshake(io, export);
            negotiated = handshake.run();
            reason = negotiated == null ? handshake.endReason() : transmit();
        } catch (ProtocolException e) {
            reason = "dropped: protocol error: " + e.getMessage();
            hangUp();
        } catch (EOFException e) {
            reason = "client vanished mid-message: " + e.getMessage();
        } catch (IOException e) {
            reason = "socket error: " + e;
        } catch (RuntimeException e) {
            reason = "dropped: internal error: " + e;
            e.printStackTrace();
            hangUp();
        }
        while (inFlight > 0) { // what was accepted is served (and its data written) before closing
            requestFinished.await(null);
        }
        io.close();
        onClosed.run();
        long ms = (System.nanoTime() - started) / 1_000_000;
        String how = negotiated == null ? ""
                : ", " + negotiated.enteredWith + (negotiated.structured ? " with structured replies" : "");
        log.line("connection " + id + " from " + peer + " on " + Thread.currentThread().getName() + " closed after "
                + ms + " ms, " + requests + " requests (" + failedRequests + " failed), " + bytesRead
                + " bytes read, " + bytesWritten + " written" + how + ": " + reason);
    }

    /**
     * A hard disconnect: replies still in flight are dropped (a writer waiting for room in the socket
     * fails at once), so a client that stopped reading cannot keep the connection alive.
     */
    private void hangUp() {
        broken = true;
        io.shutdownOutput();
    }

    /** The transmission phase: reads requests until the client leaves; returns why it ended. */
    @CoroutineFn
    private String transmit() throws IOException {
        while (true) {
            if (!io.fill(REQUEST_HEADER)) {
                return "client closed the connection without NBD_CMD_DISC";
            }
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
                return "client disconnected (NBD_CMD_DISC)";
            }
            Request request = new Request(flags, type, cookie, offset, length);
            if (type == Nbd.CMD_WRITE) {
                if (length > Nbd.MAX_PAYLOAD) { // its payload cannot be taken in: the stream is lost
                    throw new ProtocolException("WRITE of " + length + " bytes (at most " + Nbd.MAX_PAYLOAD + ")");
                }
                request.data = buffers.take((int) length);
                io.readFully(request.data);
                request.data.flip();
            }
            while (inFlight >= MAX_IN_FLIGHT) {
                requestFinished.await(null);
            }
            inFlight++;
            requests++;
            ctx.coEnter(Coroutine.create(() -> serveRequest(request)));
        }
    }

    /** Serves one request in its own coroutine: check, do, reply, log. */
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
            reply(request, error);
        } catch (IOException e) {
            // the reply could not be sent: the client is gone; the reader sees it too and ends
        } catch (RuntimeException e) {
            log.line("connection " + id + ": " + request.describe() + ": internal error " + e);
            e.printStackTrace();
            broken = true;
            io.shutdownInput();
        }
        buffers.give(request.data);
        request.data = null;
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
                    ctx.threadPool().submitCo(() -> {
                        export.read(data, offset);
                        return null;
                    });
                    data.flip();
                    bytesRead += r.length;
                }
                case Nbd.CMD_WRITE -> {
                    ByteBuffer data = r.data;
                    ctx.threadPool().submitCo(() -> {
                        export.write(data, offset, fua);
                        return null;
                    });
                    bytesWritten += r.length;
                }
                case Nbd.CMD_WRITE_ZEROES -> {
                    long length = r.length;
                    ctx.threadPool().submitCo(() -> {
                        export.writeZeroes(offset, length, fua);
                        return null;
                    });
                    bytesWritten += r.length;
                }
                case Nbd.CMD_FLUSH -> flush();
                case Nbd.CMD_TRIM -> { // a hint: Java cannot punch holes, so nothing is discarded
                    if (fua) {
                        flush();
                    }
                }
                case Nbd.CMD_BLOCK_STATUS -> blockStatus(r);
                default -> throw new IllegalStateException("unchecked command " + r.type);
            }
            return 0;
        } catch (IOException e) {
            String text = String.valueOf(e.getMessage());
            boolean full = text.contains("No space left") || text.contains("quota") || text.contains("too large");
            return fail(r, full ? Nbd.ENOSPC : Nbd.EIO, e.toString());
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            return fail(r, Nbd.EIO, e.toString());
        }
    }

    @CoroutineFn
    private void flush() throws Exception {
        ctx.threadPool().submitCo(() -> {
            export.flush();
            return null;
        });
    }

    /** NBD_CMD_BLOCK_STATUS for base:allocation: the extents, as one chunk's payload. */
    @CoroutineFn
    private void blockStatus(Request r) throws Exception {
        int length = (int) Math.min(r.length, Export.STATUS_SCAN_LIMIT);
        ByteBuffer scratch = buffers.take(Math.max(length, 1));
        long offset = r.offset;
        boolean onlyOne = (r.flags & Nbd.CMD_FLAG_REQ_ONE) != 0;
        List<int[]> extents;
        try {
            extents = ctx.threadPool().submitCo(() -> export.blockStatus(offset, length, scratch, onlyOne));
        } finally {
            buffers.give(scratch);
        }
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
        IOException failure = null;
        try {
            if (broken) {
                throw new ClosedChannelException();
            }
            io.writeFully(parts);
        } catch (IOException e) {
            broken = true;
            failure = e;
        } catch (RuntimeException e) {
            broken = true;
            failure = new IOException("reply failed", e);
        }
        sendLock.unlock();
        if (failure != null) {
            io.shutdownInput(); // half a reply may be out: the reader must stop too
            throw failure;
        }
    }
}
