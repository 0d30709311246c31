package io.aioco.examples.nbd;

import io.aioco.ClockType;
import io.aioco.CoroutineFn;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The handshake phase of one connection: the fixed newstyle greeting, then option haggling until
 * the client enters transmission ({@code NBD_OPT_EXPORT_NAME}, a successful {@code NBD_OPT_GO}),
 * aborts, or leaves. Options served: EXPORT_NAME, ABORT, LIST, INFO, GO, STRUCTURED_REPLY,
 * LIST_META_CONTEXT and SET_META_CONTEXT ({@code base:allocation}); any other gets
 * {@code NBD_REP_ERR_UNSUP}.
 *
 * <p>Threads: runs in the connection's coroutine, on its context's loop thread.
 */
final class Handshake {
    /** Largest option payload accepted; a longer one is treated as abuse and ends the connection. */
    static final int MAX_OPTION_LENGTH = 64 << 10;
    /** The id of {@code base:allocation} in block status replies. */
    static final int BASE_ALLOCATION_ID = 1;

    /** What the negotiation settled, once the client entered transmission. */
    static final class Result {
        /** Structured replies were negotiated. */
        boolean structured;
        /** {@code base:allocation} was selected. */
        boolean baseAllocation;
        /** The option that entered transmission, for the log. */
        String enteredWith;
        /**
         * When (on the server's clock) transmission was entered: taken before the last handshake
         * reply goes out, so a client that has that reply knows the idle clock runs from here.
         */
        long enteredAtNs;
    }

    private final SocketIo io;
    private final Export export;
    private final ClockType clock;
    private final Result result = new Result();
    /** Why the negotiation ended without entering transmission, for the log. */
    private String endReason = "client closed the connection during the handshake";
    private boolean noZeroes;

    Handshake(SocketIo io, Export export, ClockType clock) {
        this.io = io;
        this.export = export;
        this.clock = clock;
    }

    /** Why {@link #run()} returned null. */
    String endReason() {
        return endReason;
    }

    /**
     * Greets the client and serves its options.
     *
     * @return what was negotiated, or null if the client aborted or left before transmission
     * @throws ProtocolException on a malformed handshake (the connection must be dropped)
     */
    @CoroutineFn
    Result run() throws IOException {
        ByteBuffer greeting = ByteBuffer.allocate(18);
        greeting.putLong(Nbd.INIT_MAGIC).putLong(Nbd.OPTION_MAGIC)
                .putShort((short) (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES)).flip();
        io.writeFully(greeting);
        if (!io.fill(4)) {
            return null;
        }
        int clientFlags = io.input().getInt();
        if ((clientFlags & ~(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES)) != 0) {
            throw new ProtocolException("unknown client flags 0x" + Integer.toHexString(clientFlags));
        }
        noZeroes = (clientFlags & Nbd.FLAG_C_NO_ZEROES) != 0;
        while (true) {
            if (!io.fill(16)) {
                return null;
            }
            ByteBuffer in = io.input();
            long magic = in.getLong();
            int option = in.getInt();
            long length = Integer.toUnsignedLong(in.getInt());
            if (magic != Nbd.OPTION_MAGIC) {
                throw new ProtocolException("bad option magic 0x" + Long.toHexString(magic));
            }
            if (length > MAX_OPTION_LENGTH) {
                throw new ProtocolException(Nbd.optionName(option) + " with " + length + " bytes of data (at most "
                        + MAX_OPTION_LENGTH + " accepted)");
            }
            ByteBuffer data = ByteBuffer.allocate((int) length);
            io.readFully(data);
            data.flip();
            if (serve(option, data)) {
                return option == Nbd.OPT_ABORT ? null : result;
            }
        }
    }

    /** Serves one option; returns true if the handshake is over (transmission, or abort). */
    @CoroutineFn
    private boolean serve(int option, ByteBuffer data) throws IOException {
        switch (option) {
            case Nbd.OPT_EXPORT_NAME -> {
                String name = StandardCharsets.UTF_8.decode(data).toString();
                if (!servesName(name)) { // no error reply exists for this option: the protocol says to hang up
                    throw new ProtocolException("NBD_OPT_EXPORT_NAME for unknown export '" + name + "'");
                }
                ByteBuffer reply = ByteBuffer.allocate(noZeroes ? 10 : 134);
                reply.putLong(export.size()).putShort((short) transmissionFlags()).position(reply.limit()).flip();
                result.enteredAtNs = clock.nowNs();
                io.writeFully(reply);
                result.enteredWith = "NBD_OPT_EXPORT_NAME";
                return true;
            }
            case Nbd.OPT_ABORT -> {
                reply(option, Nbd.REP_ACK, null);
                endReason = "client aborted the handshake (NBD_OPT_ABORT)";
                return true;
            }
            case Nbd.OPT_LIST -> {
                if (data.hasRemaining()) {
                    return error(option, Nbd.REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
                }
                byte[] name = export.name().getBytes(StandardCharsets.UTF_8);
                reply(option, Nbd.REP_SERVER, ByteBuffer.allocate(4 + name.length).putInt(name.length).put(name).flip());
                reply(option, Nbd.REP_ACK, null);
                return false;
            }
            case Nbd.OPT_INFO, Nbd.OPT_GO -> {
                return info(option, data);
            }
            case Nbd.OPT_STRUCTURED_REPLY -> {
                if (data.hasRemaining()) {
                    return error(option, Nbd.REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
                }
                if (result.structured) {
                    return error(option, Nbd.REP_ERR_INVALID, "structured replies are already negotiated");
                }
                result.structured = true;
                reply(option, Nbd.REP_ACK, null);
                return false;
            }
            case Nbd.OPT_LIST_META_CONTEXT, Nbd.OPT_SET_META_CONTEXT -> {
                return metaContext(option, data);
            }
            default -> {
                return error(option, Nbd.REP_ERR_UNSUP, Nbd.optionName(option) + " is not supported");
            }
        }
    }

    /** NBD_OPT_INFO and NBD_OPT_GO: name, then the information items asked for. */
    @CoroutineFn
    private boolean info(int option, ByteBuffer data) throws IOException {
        String name;
        short[] requests;
        try {
            name = string(data, data.getInt());
            requests = new short[Short.toUnsignedInt(data.getShort())];
            for (int i = 0; i < requests.length; i++) {
                requests[i] = data.getShort();
            }
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return error(option, Nbd.REP_ERR_INVALID, "malformed " + Nbd.optionName(option) + " data");
        }
        if (data.hasRemaining()) {
            return error(option, Nbd.REP_ERR_INVALID, "trailing bytes after " + Nbd.optionName(option) + " data");
        }
        if (!servesName(name)) {
            return error(option, Nbd.REP_ERR_UNKNOWN, "no export named '" + name + "'");
        }
        ByteBuffer exportInfo = ByteBuffer.allocate(12).putShort((short) Nbd.INFO_EXPORT).putLong(export.size())
                .putShort((short) transmissionFlags()).flip();
        reply(option, Nbd.REP_INFO, exportInfo);
        for (short request : requests) {
            ByteBuffer item = switch (request) {
                case Nbd.INFO_NAME -> infoString(Nbd.INFO_NAME, export.name());
                case Nbd.INFO_DESCRIPTION -> infoString(Nbd.INFO_DESCRIPTION, "aioco NBD server, " + export.path());
                case Nbd.INFO_BLOCK_SIZE -> ByteBuffer.allocate(14).putShort((short) Nbd.INFO_BLOCK_SIZE).putInt(1)
                        .putInt(4096).putInt(Nbd.MAX_PAYLOAD).flip();
                default -> null; // the protocol says to ignore what we do not know
            };
            if (item != null) {
                reply(option, Nbd.REP_INFO, item);
            }
        }
        if (option == Nbd.OPT_GO) {
            result.enteredAtNs = clock.nowNs();
        }
        reply(option, Nbd.REP_ACK, null);
        if (option == Nbd.OPT_GO) {
            result.enteredWith = "NBD_OPT_GO";
            return true;
        }
        return false;
    }

    private static ByteBuffer infoString(int type, String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        int length = Math.min(bytes.length, Nbd.MAX_STRING);
        return ByteBuffer.allocate(2 + length).putShort((short) type).put(bytes, 0, length).flip();
    }

    /** NBD_OPT_LIST_META_CONTEXT and NBD_OPT_SET_META_CONTEXT: only {@code base:allocation} exists. */
    @CoroutineFn
    private boolean metaContext(int option, ByteBuffer data) throws IOException {
        boolean set = option == Nbd.OPT_SET_META_CONTEXT;
        if (set) {
            result.baseAllocation = false; // a SET replaces the selection, even when it fails
        }
        if (!result.structured) {
            return error(option, Nbd.REP_ERR_INVALID, "negotiate structured replies first");
        }
        String name;
        boolean matches = false;
        try {
            name = string(data, data.getInt());
            int queries = data.getInt();
            if (queries == 0 && !set) {
                matches = true; // list everything
            }
            for (int i = 0; i < queries; i++) {
                String query = string(data, data.getInt());
                matches |= query.equals(Nbd.BASE_ALLOCATION) || (!set && query.equals("base:"));
            }
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return error(option, Nbd.REP_ERR_INVALID, "malformed " + Nbd.optionName(option) + " data");
        }
        if (data.hasRemaining()) {
            return error(option, Nbd.REP_ERR_INVALID, "trailing bytes after " + Nbd.optionName(option) + " data");
        }
        if (!servesName(name)) {
            return error(option, Nbd.REP_ERR_UNKNOWN, "no export named '" + name + "'");
        }
        if (matches) {
            byte[] context = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            reply(option, Nbd.REP_META_CONTEXT, ByteBuffer.allocate(4 + context.length)
                    .putInt(set ? BASE_ALLOCATION_ID : 0).put(context).flip());
            result.baseAllocation = set;
        }
        reply(option, Nbd.REP_ACK, null);
        return false;
    }

    /** Reads a string of {@code length} bytes; throws IllegalArgumentException if it cannot be one. */
    private static String string(ByteBuffer data, int length) {
        if (length < 0 || length > Nbd.MAX_STRING || length > data.remaining()) {
            throw new IllegalArgumentException("string of " + Integer.toUnsignedString(length) + " bytes");
        }
        byte[] bytes = new byte[length];
        data.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The empty name is the default export (the protocol reserves it for that). */
    private boolean servesName(String name) {
        return name.isEmpty() || name.equals(export.name());
    }

    /** The transmission flags of this export for this client. */
    int transmissionFlags() {
        int flags = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA | Nbd.FLAG_CAN_MULTI_CONN;
        if (export.readOnly()) {
            flags |= Nbd.FLAG_READ_ONLY;
        } else {
            flags |= Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES;
        }
        if (result.structured) {
            flags |= Nbd.FLAG_SEND_DF; // reads are always answered with one data chunk
        }
        return flags;
    }

    @CoroutineFn
    private boolean error(int option, int type, String message) throws IOException {
        reply(option, type, StandardCharsets.UTF_8.encode(message));
        return false;
    }

    @CoroutineFn
    private void reply(int option, int type, ByteBuffer data) throws IOException {
        int length = data == null ? 0 : data.remaining();
        ByteBuffer header = ByteBuffer.allocate(20).putLong(Nbd.OPTION_REPLY_MAGIC).putInt(option).putInt(type)
                .putInt(length).flip();
        if (data == null) {
            io.writeFully(header);
        } else {
            io.writeFully(header, data);
        }
    }
}
