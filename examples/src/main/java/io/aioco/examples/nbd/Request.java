package io.aioco.examples.nbd;

import java.nio.ByteBuffer;

/**
 * One transmission request as read from the wire, and what serving it produced. Owned by the
 * coroutine that serves it (after the reader handed it over), on the connection's loop thread.
 */
final class Request {
    /** Command flags (NBD_CMD_FLAG_*). */
    final int flags;
    /** Command (NBD_CMD_*). */
    final int type;
    /** The client's opaque cookie, echoed in the reply. */
    final long cookie;
    /** Offset in the export; an unsigned value on the wire, so negative means huge. */
    final long offset;
    /** Length, unsigned 32-bit. */
    final long length;
    /** A write's payload, or a read's data once read; from the connection's buffer pool. */
    ByteBuffer data;
    /** Bytes of the server's buffer budget this request holds until its reply is out. */
    long reserved;
    /** A block status reply's payload. */
    ByteBuffer status;
    /** Why the request failed, for the error chunk and the log (null on success). */
    String errorMessage;

    Request(int flags, int type, long cookie, long offset, long length) {
        this.flags = flags;
        this.type = type;
        this.cookie = cookie;
        this.offset = offset;
        this.length = length;
    }

    /** Whether the client asked for force unit access. */
    boolean fua() {
        return (flags & Nbd.CMD_FLAG_FUA) != 0;
    }

    /** The request for a log line: command, range, flags. */
    String describe() {
        StringBuilder text = new StringBuilder(Nbd.commandName(type));
        if (type != Nbd.CMD_FLUSH) {
            text.append(" offset ").append(Long.toUnsignedString(offset)).append(" length ").append(length);
        }
        if (flags != 0) {
            text.append(" flags 0x").append(Integer.toHexString(flags));
        }
        return text.toString();
    }
}
