package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * A deliberately small, blocking NBD client for protocol tests: it can do everything by the book,
 * or send whatever bytes a test wants. Replies are parsed as they come (simple or structured), and
 * matched to requests by cookie.
 */
final class NbdTestClient implements AutoCloseable {
    /** An option reply. */
    record OptionReply(int option, int type, byte[] data) {
        String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** A reply to a request: one simple reply, or one structured chunk. */
    record Reply(long cookie, boolean structured, int chunkType, int chunkFlags, int error, byte[] data) {
        boolean done() {
            return !structured || (chunkFlags & Nbd.REPLY_FLAG_DONE) != 0;
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final DataOutputStream out;
    /** Lengths of the reads in flight, to parse simple replies that carry data. */
    private final Map<Long, Integer> pendingReads = new HashMap<>();
    long exportSize;
    int transmissionFlags;
    boolean structured;

    NbdTestClient(InetSocketAddress address) throws IOException {
        this(address, 0);
    }

    /** A client whose socket takes in at most about {@code receiveBuffer} bytes unread (0: the default). */
    NbdTestClient(InetSocketAddress address, int receiveBuffer) throws IOException {
        socket = new Socket();
        if (receiveBuffer > 0) {
            socket.setReceiveBufferSize(receiveBuffer);
        }
        socket.connect(address, 10_000);
        socket.setSoTimeout(30_000); // a hung server fails the test instead of hanging it
        socket.setTcpNoDelay(true);
        in = new DataInputStream(socket.getInputStream());
        out = new DataOutputStream(new java.io.BufferedOutputStream(socket.getOutputStream(), 1 << 16));
    }

    /** Reads the server's greeting and checks it; sends the client flags. */
    void greet(int clientFlags) throws IOException {
        readGreeting();
        out.writeInt(clientFlags);
        out.flush();
    }

    /** Reads the server's greeting and checks it, and says nothing (yet). */
    void readGreeting() throws IOException {
        assertEquals(Nbd.INIT_MAGIC, in.readLong());
        assertEquals(Nbd.OPTION_MAGIC, in.readLong());
        int handshakeFlags = in.readUnsignedShort();
        assertEquals(Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES, handshakeFlags);
    }

    /** The rest of {@link #connect} after {@link #readGreeting}: the client flags, then options and GO. */
    void finishConnect(String name, boolean withStructuredReplies) throws IOException {
        out.writeInt(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
        out.flush();
        negotiate(name, withStructuredReplies);
    }

    void greet() throws IOException {
        greet(Nbd.FLAG_C_FIXED_NEWSTYLE | Nbd.FLAG_C_NO_ZEROES);
    }

    void sendOption(int option, byte[] data) throws IOException {
        out.writeLong(Nbd.OPTION_MAGIC);
        out.writeInt(option);
        out.writeInt(data.length);
        out.write(data);
        out.flush();
    }

    OptionReply readOptionReply() throws IOException {
        assertEquals(Nbd.OPTION_REPLY_MAGIC, in.readLong());
        int option = in.readInt();
        int type = in.readInt();
        byte[] data = new byte[in.readInt()];
        in.readFully(data);
        return new OptionReply(option, type, data);
    }

    /** Reads the reply to NBD_OPT_EXPORT_NAME: size, flags, and the 124 zeroes unless declined. */
    void readExportNameReply(boolean zeroes) throws IOException {
        exportSize = in.readLong();
        transmissionFlags = in.readUnsignedShort();
        if (zeroes) {
            byte[] padding = new byte[124];
            in.readFully(padding);
            assertArrayEquals(new byte[124], padding);
        }
    }

    /** NBD_OPT_INFO or NBD_OPT_GO data: name, then the information items. */
    static byte[] infoRequest(String name, int... items) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        ByteBuffer data = ByteBuffer.allocate(4 + bytes.length + 2 + 2 * items.length);
        data.putInt(bytes.length).put(bytes).putShort((short) items.length);
        for (int item : items) {
            data.putShort((short) item);
        }
        return data.array();
    }

    /** Meta context option data: name, then the queries. */
    static byte[] metaRequest(String name, String... queries) {
        ByteBuffer data = ByteBuffer.allocate(1024);
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        data.putInt(bytes.length).put(bytes).putInt(queries.length);
        for (String query : queries) {
            byte[] q = query.getBytes(StandardCharsets.UTF_8);
            data.putInt(q.length).put(q);
        }
        byte[] result = new byte[data.position()];
        data.flip().get(result);
        return result;
    }

    /** The usual way in: greeting, optionally structured replies and base:allocation, then GO. */
    void connect(String name, boolean withStructuredReplies) throws IOException {
        greet();
        negotiate(name, withStructuredReplies);
    }

    private void negotiate(String name, boolean withStructuredReplies) throws IOException {
        if (withStructuredReplies) {
            sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, readOptionReply().type());
            structured = true;
            sendOption(Nbd.OPT_SET_META_CONTEXT, metaRequest(name, Nbd.BASE_ALLOCATION));
            assertEquals(Nbd.REP_META_CONTEXT, readOptionReply().type());
            assertEquals(Nbd.REP_ACK, readOptionReply().type());
        }
        sendOption(Nbd.OPT_GO, infoRequest(name));
        while (true) {
            OptionReply reply = readOptionReply();
            if (reply.type() == Nbd.REP_ACK) {
                return;
            }
            assertEquals(Nbd.REP_INFO, reply.type(), "GO failed: " + reply.text());
            ByteBuffer info = ByteBuffer.wrap(reply.data());
            if (info.getShort() == Nbd.INFO_EXPORT) {
                exportSize = info.getLong();
                transmissionFlags = Short.toUnsignedInt(info.getShort());
            }
        }
    }

    /** Sends a request header (and payload, if any) without waiting for the reply. */
    void send(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        queue(flags, type, cookie, offset, length, payload);
        out.flush();
    }

    /** Buffers a request without sending it yet (the next {@link #send} or {@link #flush} does). */
    void queue(int flags, int type, long cookie, long offset, int length, byte[] payload) throws IOException {
        out.writeInt(Nbd.REQUEST_MAGIC);
        out.writeShort(flags);
        out.writeShort(type);
        out.writeLong(cookie);
        out.writeLong(offset);
        out.writeInt(length);
        if (payload != null) {
            out.write(payload);
        }
        if (type == Nbd.CMD_READ) {
            pendingReads.put(cookie, length);
        }
    }

    /** Sends what {@link #queue} buffered. */
    void flush() throws IOException {
        out.flush();
    }

    /** Reads the next reply message (a simple reply, or one structured chunk). */
    Reply readReply() throws IOException {
        int magic = in.readInt();
        if (magic == Nbd.SIMPLE_REPLY_MAGIC) {
            int error = in.readInt();
            long cookie = in.readLong();
            Integer readLength = pendingReads.remove(cookie);
            byte[] data = new byte[readLength != null && error == 0 ? readLength : 0];
            in.readFully(data);
            return new Reply(cookie, false, -1, 0, error, data);
        }
        assertEquals(Nbd.STRUCTURED_REPLY_MAGIC, magic, "reply magic");
        int flags = in.readUnsignedShort();
        int type = in.readUnsignedShort();
        long cookie = in.readLong();
        byte[] payload = new byte[in.readInt()];
        in.readFully(payload);
        if ((flags & Nbd.REPLY_FLAG_DONE) != 0) {
            pendingReads.remove(cookie);
        }
        int error = type == Nbd.REPLY_TYPE_ERROR ? ByteBuffer.wrap(payload).getInt() : 0;
        return new Reply(cookie, true, type, flags, error, payload);
    }

    /** Reads the first 4 bytes of the next reply (the magic), to know that replies are coming. */
    void readReplyHeaderOnly() throws IOException {
        in.readInt();
    }

    /** Sends a request and reads its (single-message) reply. */
    Reply call(int flags, int type, long offset, int length, byte[] payload) throws IOException {
        long cookie = System.nanoTime();
        send(flags, type, cookie, offset, length, payload);
        Reply reply = readReply();
        assertEquals(cookie, reply.cookie());
        return reply;
    }

    /** Reads {@code length} bytes; fails unless the read succeeds. */
    byte[] read(long offset, int length) throws IOException {
        Reply reply = call(0, Nbd.CMD_READ, offset, length, null);
        assertEquals(0, reply.error(), "read error");
        return dataOf(reply);
    }

    /** The data of a successful read reply (the payload after the offset in a structured chunk). */
    static byte[] dataOf(Reply reply) {
        if (!reply.structured()) {
            return reply.data();
        }
        assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, reply.chunkType());
        byte[] data = new byte[reply.data().length - 8];
        System.arraycopy(reply.data(), 8, data, 0, data.length);
        return data;
    }

    /** The client's own port, which the server's log lines name. */
    int localPort() {
        return socket.getLocalPort();
    }

    /** Writes raw bytes, for tests that break the protocol. */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    /**
     * Whether the server closed the connection: reads until end of stream (bytes the server sent
     * before closing are skipped) and returns true, or false if the server keeps it open for the
     * socket timeout.
     */
    boolean serverClosed() throws IOException {
        InputStream stream = socket.getInputStream();
        byte[] sink = new byte[4096];
        try {
            while (stream.read(sink) >= 0) {
                // skip
            }
            return true;
        } catch (EOFException | SocketException e) {
            return true; // reset by the server: closed too
        } catch (java.net.SocketTimeoutException e) {
            return false;
        }
    }

    /** Leaves without a word: closes the socket, with a reset (SO_LINGER 0) when asked. */
    void vanish(boolean reset) throws IOException {
        if (reset) {
            socket.setSoLinger(true, 0);
        }
        socket.close();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
