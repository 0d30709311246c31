package io.aioco.examples.nbd;

/**
 * The numbers of the NBD protocol that this server speaks (the NBD project's {@code doc/proto.md}):
 * magics, handshake and transmission flags, options and their replies, commands, reply chunk types
 * and error values. All multi-byte fields go over the wire in network byte order.
 */
public final class Nbd {
    private Nbd() {}

    // ---- magics ----

    /** {@code NBDMAGIC}, the first eight bytes the server sends. */
    public static final long INIT_MAGIC = 0x4e42444d41474943L;
    /** {@code IHAVEOPT}: the server's newstyle magic, and the magic of every option the client sends. */
    public static final long OPTION_MAGIC = 0x49484156454F5054L;
    /** Magic of the server's option replies (fixed newstyle). */
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    /** Magic of a transmission request. */
    public static final int REQUEST_MAGIC = 0x25609513;
    /** Magic of a simple reply. */
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    /** Magic of a structured reply chunk. */
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // ---- handshake flags (server, 16 bits) and client flags (32 bits) ----

    /** The server speaks fixed newstyle. */
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    /** The server can omit the 124 zero bytes after {@code NBD_OPT_EXPORT_NAME}. */
    public static final int FLAG_NO_ZEROES = 1 << 1;
    /** The client speaks fixed newstyle. */
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    /** The client asks to omit the 124 zero bytes. */
    public static final int FLAG_C_NO_ZEROES = 1 << 1;

    // ---- transmission flags (16 bits) ----

    /** Always set. */
    public static final int FLAG_HAS_FLAGS = 1;
    /** The export is read-only. */
    public static final int FLAG_READ_ONLY = 1 << 1;
    /** {@code NBD_CMD_FLUSH} is supported. */
    public static final int FLAG_SEND_FLUSH = 1 << 2;
    /** {@code NBD_CMD_FLAG_FUA} is supported. */
    public static final int FLAG_SEND_FUA = 1 << 3;
    /** {@code NBD_CMD_TRIM} is supported. */
    public static final int FLAG_SEND_TRIM = 1 << 5;
    /** {@code NBD_CMD_WRITE_ZEROES} is supported. */
    public static final int FLAG_SEND_WRITE_ZEROES = 1 << 6;
    /** {@code NBD_CMD_FLAG_DF} is supported (structured replies only). */
    public static final int FLAG_SEND_DF = 1 << 7;
    /** Flushes are visible across connections: clients may use several. */
    public static final int FLAG_CAN_MULTI_CONN = 1 << 8;

    // ---- options ----

    /** Choose the export and enter transmission, old way (no error reply possible). */
    public static final int OPT_EXPORT_NAME = 1;
    /** End the negotiation. */
    public static final int OPT_ABORT = 2;
    /** List the exports. */
    public static final int OPT_LIST = 3;
    /** Start TLS (not supported here). */
    public static final int OPT_STARTTLS = 5;
    /** Describe an export. */
    public static final int OPT_INFO = 6;
    /** Describe an export and enter transmission. */
    public static final int OPT_GO = 7;
    /** Use structured replies. */
    public static final int OPT_STRUCTURED_REPLY = 8;
    /** List metadata contexts. */
    public static final int OPT_LIST_META_CONTEXT = 9;
    /** Select metadata contexts. */
    public static final int OPT_SET_META_CONTEXT = 10;

    // ---- option replies ----

    /** The option succeeded, or a list ended. */
    public static final int REP_ACK = 1;
    /** One export of a list. */
    public static final int REP_SERVER = 2;
    /** One piece of information about an export. */
    public static final int REP_INFO = 3;
    /** One metadata context. */
    public static final int REP_META_CONTEXT = 4;
    /** Error: unknown option. */
    public static final int REP_ERR_UNSUP = 0x80000001;
    /** Error: refused by policy. */
    public static final int REP_ERR_POLICY = 0x80000002;
    /** Error: malformed or out-of-place option. */
    public static final int REP_ERR_INVALID = 0x80000003;
    /** Error: no such export. */
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    /** Error: the request or the reply is too large. */
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    // ---- information types (NBD_OPT_INFO, NBD_OPT_GO) ----

    /** Size and transmission flags. */
    public static final int INFO_EXPORT = 0;
    /** The export's canonical name. */
    public static final int INFO_NAME = 1;
    /** A human-readable description. */
    public static final int INFO_DESCRIPTION = 2;
    /** Minimum, preferred and maximum block sizes. */
    public static final int INFO_BLOCK_SIZE = 3;

    // ---- commands ----

    /** Read. */
    public static final int CMD_READ = 0;
    /** Write (payload follows the request). */
    public static final int CMD_WRITE = 1;
    /** Disconnect after the requests in flight. */
    public static final int CMD_DISC = 2;
    /** Make every acknowledged write durable. */
    public static final int CMD_FLUSH = 3;
    /** Discard a range (a hint). */
    public static final int CMD_TRIM = 4;
    /** Prefetch a range (not advertised). */
    public static final int CMD_CACHE = 5;
    /** Write zeroes without a payload. */
    public static final int CMD_WRITE_ZEROES = 6;
    /** Query metadata ({@code base:allocation}). */
    public static final int CMD_BLOCK_STATUS = 7;

    // ---- command flags ----

    /** Force unit access: reply only once the data is durable. */
    public static final int CMD_FLAG_FUA = 1;
    /** Write zeroes must not leave a hole. */
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    /** Don't fragment the read reply. */
    public static final int CMD_FLAG_DF = 1 << 2;
    /** One extent per context in a block status reply. */
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    /** Fail write zeroes fast unless it is cheap (not advertised). */
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;

    // ---- structured reply chunks ----

    /** Last chunk of a reply. */
    public static final int REPLY_FLAG_DONE = 1;
    /** No payload (a final chunk). */
    public static final int REPLY_TYPE_NONE = 0;
    /** Data at an offset. */
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    /** Extents of one metadata context. */
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    /** An error with a message. */
    public static final int REPLY_TYPE_ERROR = 0x8001;

    // ---- base:allocation ----

    /** Name of the one metadata context served. */
    public static final String BASE_ALLOCATION = "base:allocation";
    /** The extent is a hole. */
    public static final int STATE_HOLE = 1;
    /** The extent reads as zeroes. */
    public static final int STATE_ZERO = 1 << 1;

    // ---- errors ----

    /** Operation not permitted (write to a read-only export). */
    public static final int EPERM = 1;
    /** Input/output error. */
    public static final int EIO = 5;
    /** Out of memory. */
    public static final int ENOMEM = 12;
    /** Invalid argument (bad flags, a read or trim past the end, unknown command). */
    public static final int EINVAL = 22;
    /** No space left (a write past the end). */
    public static final int ENOSPC = 28;
    /** Value too large. */
    public static final int EOVERFLOW = 75;
    /** Not supported. */
    public static final int ENOTSUP = 95;
    /** The server is shutting down. */
    public static final int ESHUTDOWN = 108;

    // ---- limits ----

    /** Largest payload of a read or write this server accepts: the protocol's recommended 32 MiB. */
    public static final int MAX_PAYLOAD = 32 << 20;
    /** Largest string (export name, query) the protocol allows. */
    public static final int MAX_STRING = 4096;

    /** The name of a command, for logs. */
    public static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case CMD_CACHE -> "CACHE";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "command " + type;
        };
    }

    /**
     * The NBD error to reply with for a failed disk operation, as QEMU's {@code
     * system_errno_to_nbd_errno} maps errno values: EPERM and EROFS to {@link #EPERM}, EIO to
     * {@link #EIO}, ENOMEM to {@link #ENOMEM}, ENOSPC, EDQUOT and EFBIG to {@link #ENOSPC},
     * EOVERFLOW to {@link #EOVERFLOW}, ENOTSUP to {@link #ENOTSUP}, ESHUTDOWN to {@link
     * #ESHUTDOWN}, EINVAL to {@link #EINVAL}. Java hands over no errno, only the system's message
     * for it ({@code strerror}), so the message is matched; a failure with any other message is an
     * I/O error ({@link #EIO}) here, where QEMU, knowing the errno, would send EINVAL. Any thread.
     *
     * @param failure what the disk operation threw
     * @return the NBD error value
     */
    public static int errorOf(java.io.IOException failure) {
        String text = String.valueOf(failure.getMessage());
        if (text.contains("No space left") || text.contains("quota") || text.contains("File too large")) {
            return ENOSPC;
        }
        if (text.contains("Operation not permitted") || text.contains("Read-only file system")) {
            return EPERM;
        }
        if (text.contains("Cannot allocate memory")) {
            return ENOMEM;
        }
        if (text.contains("Value too large")) {
            return EOVERFLOW;
        }
        if (text.contains("Operation not supported")) {
            return ENOTSUP;
        }
        if (text.contains("transport endpoint shutdown")) {
            return ESHUTDOWN;
        }
        if (text.contains("Invalid argument")) {
            return EINVAL;
        }
        return EIO;
    }

    /** The name of an error value, for logs. */
    public static String errorName(int error) {
        return switch (error) {
            case 0 -> "ok";
            case EPERM -> "EPERM";
            case EIO -> "EIO";
            case ENOMEM -> "ENOMEM";
            case EINVAL -> "EINVAL";
            case ENOSPC -> "ENOSPC";
            case EOVERFLOW -> "EOVERFLOW";
            case ENOTSUP -> "ENOTSUP";
            case ESHUTDOWN -> "ESHUTDOWN";
            default -> "error " + error;
        };
    }

    /** The name of an option, for logs. */
    public static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "EXPORT_NAME";
            case OPT_ABORT -> "ABORT";
            case OPT_LIST -> "LIST";
            case OPT_STARTTLS -> "STARTTLS";
            case OPT_INFO -> "INFO";
            case OPT_GO -> "GO";
            case OPT_STRUCTURED_REPLY -> "STRUCTURED_REPLY";
            case OPT_LIST_META_CONTEXT -> "LIST_META_CONTEXT";
            case OPT_SET_META_CONTEXT -> "SET_META_CONTEXT";
            default -> "option " + option;
        };
    }
}
