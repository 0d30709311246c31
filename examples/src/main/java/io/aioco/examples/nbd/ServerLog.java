package io.aioco.examples.nbd;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where the server's log lines go: one line per connection (when it ends, with what it did and
 * why it ended), one per error, and with {@code --verbose} one per request and one when a
 * connection starts. Lines are handed whole to a sink (standard error for the command, a queue in
 * tests). Called from any thread; the sink must accept that.
 */
public final class ServerLog {
    private final Consumer<String> sink;
    private final boolean verbose;

    /**
     * Creates a log.
     *
     * @param sink receives each line, without a newline
     * @param verbose whether requests are logged too
     */
    public ServerLog(Consumer<String> sink, boolean verbose) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.verbose = verbose;
    }

    /** A log on standard error. */
    public static ServerLog stderr(boolean verbose) {
        return new ServerLog(System.err::println, verbose);
    }

    /** Whether requests are logged. */
    public boolean verbose() {
        return verbose;
    }

    /** Logs one line. */
    public void line(String text) {
        sink.accept("aioco-nbd: " + text);
    }
}
