package io.aioco.examples.nbd;

import java.nio.file.Path;
import java.util.Locale;

/**
 * The command line of {@code bin/aioco-nbd}: {@code [options] [FILE]}. Options take their value as
 * the next argument or after {@code =}.
 */
public final class ServerOptions {
    /** The usage text. */
    public static final String USAGE = String.join("\n",
            "usage: aioco-nbd [options] [FILE]",
            "Serves FILE (or, without FILE, a fresh sparse image in a temporary folder) over NBD.",
            "  --port N          TCP port (default 10809; 0 picks a free one)",
            "  --bind ADDR       address to listen on (default 127.0.0.1)",
            "  --read-only       refuse writes",
            "  --export-name N   the export's name (default: empty, the default export)",
            "  --iothreads N     serve connections on N IOThreads, round robin (default 0: the main loop)",
            "  --size SIZE       size of the temporary image, e.g. 64M, 1G (default 64M; no FILE only)",
            "  --buffer-budget SIZE  payload buffers all requests in flight may hold at once; beyond it",
            "                    clients' requests wait (default 256M, at least 32M, at most 1048576T)",
            "  --handshake-timeout SECONDS  drop a client that has not finished the handshake in time",
            "                    (default 10, as qemu-nbd; 0: no limit)",
            "  --idle-timeout SECONDS  close a connection with no request in flight and none arriving",
            "                    for that long (default 0: never)",
            "  --write-timeout SECONDS  end a connection whose client has not taken in a whole reply",
            "                    in time, or has not sent a whole WRITE payload in time, so that it",
            "                    cannot hold its buffers for ever (default 60; 0: no limit)",
            "  --verbose         log every request",
            "  --help            this text");

    /** The TCP port; 0 for any free one. */
    public int port = 10809;
    /** The address to listen on. */
    public String bind = "127.0.0.1";
    /** Whether writes are refused. */
    public boolean readOnly;
    /** The export's name. */
    public String exportName = "";
    /** How many IOThreads serve connections (0: the main loop does). */
    public int ioThreads;
    /** Size of the temporary image when no file is given. */
    public long size = 64L << 20;
    /**
     * Bytes of payload buffers that all requests in flight, over every client, may hold at once;
     * a client's next request waits for room (default 256 MiB, at least {@link Nbd#MAX_PAYLOAD}).
     */
    public long bufferBudget = 256L << 20;
    /**
     * Seconds a client has to finish the handshake before it is dropped (QEMU's {@code
     * NBD_DEFAULT_HANDSHAKE_MAX_SECS}, qemu-nbd's {@code --handshake-limit}: default 10); 0: no limit.
     */
    public long handshakeTimeoutSeconds = 10;
    /**
     * Seconds a connection may stay with no request in flight and none arriving before it is
     * closed; 0 (the default): never.
     */
    public long idleTimeoutSeconds;
    /**
     * Seconds a reply may take to be taken in whole by the client before the connection ends (its
     * buffers go back to the budget); 0: no limit. Default 60.
     */
    public long writeTimeoutSeconds = 60;
    /** Whether requests are logged. */
    public boolean verbose;
    /** The image to serve, or null for a temporary one. */
    public Path file;
    /** {@code --help} was given. */
    public boolean help;

    /**
     * Parses a command line.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    public static ServerOptions parse(String... args) {
        ServerOptions options = new ServerOptions();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int equals = arg.indexOf('=');
            if (arg.startsWith("--") && equals > 0) {
                value = arg.substring(equals + 1);
                arg = arg.substring(0, equals);
            }
            switch (arg) {
                case "--read-only" -> options.readOnly = true;
                case "--verbose" -> options.verbose = true;
                case "--help", "-h" -> options.help = true;
                case "--port", "--bind", "--export-name", "--iothreads", "--size", "--buffer-budget",
                        "--handshake-timeout", "--idle-timeout", "--write-timeout" -> {
                    if (value == null) {
                        if (i + 1 >= args.length) {
                            throw new IllegalArgumentException(arg + " needs a value");
                        }
                        value = args[++i];
                    }
                    options.set(arg, value);
                }
                default -> {
                    if (arg.startsWith("-")) {
                        throw new IllegalArgumentException("unknown option " + arg);
                    }
                    if (options.file != null) {
                        throw new IllegalArgumentException("only one FILE may be served (got " + options.file
                                + " and " + arg + ")");
                    }
                    options.file = Path.of(arg);
                }
            }
        }
        return options;
    }

    private void set(String option, String value) {
        switch (option) {
            case "--port" -> port = integer(option, value, 0, 65535);
            case "--bind" -> bind = value;
            case "--export-name" -> exportName = value;
            case "--iothreads" -> ioThreads = integer(option, value, 0, 256);
            case "--size" -> size = size(option, value);
            case "--buffer-budget" -> {
                bufferBudget = size(option, value);
                if (bufferBudget < Nbd.MAX_PAYLOAD) {
                    throw new IllegalArgumentException(option + ": " + value + " (expected: at least 32M, one "
                            + "maximal request)");
                }
                if (bufferBudget > BufferBudget.MAX_LIMIT) { // NOTE: the budget's ceiling is twice it, plus a request
                    throw new IllegalArgumentException(option + ": " + value + " (expected: at most "
                            + (BufferBudget.MAX_LIMIT >> 40) + "T)");
                }
            }
            case "--handshake-timeout" -> handshakeTimeoutSeconds = seconds(option, value);
            case "--idle-timeout" -> idleTimeoutSeconds = seconds(option, value);
            case "--write-timeout" -> writeTimeoutSeconds = seconds(option, value);
            default -> throw new IllegalStateException(option);
        }
    }

    private static int integer(String option, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + ": " + value + " (expected: an integer in " + min + ".." + max + ")");
    }

    /** A number of seconds, 0 for none, at most a year (so that nanoseconds never overflow). */
    private static long seconds(String option, String value) {
        return integer(option, value, 0, 366 * 24 * 3600);
    }

    /** Nanoseconds of a number of seconds of these options (0 stays 0: no limit). */
    static long nanos(long seconds) {
        return seconds * 1_000_000_000L;
    }

    /** Parses {@code 123}, {@code 64k}, {@code 64M}, {@code 1G}, {@code 2T} (powers of 1024). */
    static long size(String option, String value) {
        String text = value.trim().toUpperCase(Locale.ROOT);
        int shift = 0;
        if (!text.isEmpty()) {
            switch (text.charAt(text.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> { }
            }
        }
        try {
            long n = Long.parseLong(shift == 0 ? text : text.substring(0, text.length() - 1));
            if (n >= 0 && n <= Long.MAX_VALUE >> shift) {
                return n << shift;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(option + ": " + value + " (expected: bytes, or a number with K, M, G or T)");
    }
}
