package io.aioco.bench.echo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.Locale;

/**
 * The server side of the echo benchmark (issue 21): a TCP echo server in one of six ways, so that
 * {@link EchoClient} in another JVM measures them the same way. Every server sends back each byte it
 * receives, as soon as it has it, on the connection it came from; nothing frames the messages.
 *
 * <pre>
 * java [-javaagent:agent/target/aioco-agent.jar] -cp benchmarks/target/aioco-benchmarks-jmh.jar \
 *     io.aioco.bench.echo.EchoServer --impl IMPL --port P [--threads N] [--bind ADDR]
 * </pre>
 *
 * <ul>
 *   <li>{@code aioco}: one IOThread serves every connection, one coroutine per connection ({@link
 *       AiocoEchoServer}); needs the agent (the coroutines are woven at load time).
 *   <li>{@code aioco-n}: the same over N IOThreads, connections spread round robin.
 *   <li>{@code aioco-n-conn}: {@code aioco-n} with a read buffer per connection instead of one per
 *       IOThread (a comparison row: see {@link AiocoEchoServer}).
 *   <li>{@code aioco-n-nopoll}: {@code aioco-n} with the IOThreads' adaptive polling off (they block
 *       at once when idle instead of spinning up to 32 µs first).
 *   <li>{@code aioco-n-drain}: {@code aioco-n} whose coroutines read until {@code read} returns 0
 *       before they wait, instead of waiting right after a read that left room in the buffer as
 *       docs/getting-started.md teaches (the servers before 2026-12-07 19:30 UTC: one system call
 *       per message more).
 *   <li>{@code vthreads}: a virtual thread per connection on blocking sockets, N carriers (JDK 21
 *       or later; {@link BlockingEchoServer}).
 *   <li>{@code threads}: a platform thread per connection on blocking sockets.
 *   <li>{@code netty-nio}, {@code netty-epoll}: Netty's echo handler on N event loops, with the NIO
 *       or the native epoll transport ({@link NettyEchoServer}).
 * </ul>
 *
 * <p>N ({@code --threads}) defaults to the number of processors; {@code aioco} and {@code threads}
 * ignore it. Prints {@code listening on PORT} once it accepts connections and runs until killed.
 * Exits with status 2 when the implementation cannot run here (no virtual threads on this JDK, no
 * native epoll), with a line saying why, so that a driver can skip the row.
 */
public final class EchoServer {
    private EchoServer() {
    }

    /** A server implementation: started on the main thread, serving until the JVM exits. */
    interface Impl {
        /** Binds {@code address}, starts serving in the background and returns. */
        void start(InetSocketAddress address) throws Exception;
    }

    /** Thrown by an implementation that cannot run on this JVM or machine (exit status 2). */
    static final class UnavailableException extends Exception {
        UnavailableException(String message) {
            super(message);
        }
    }

    /** The listen backlog of every implementation: the 1,000-connection rows connect at once. */
    static final int BACKLOG = 4096;

    /**
     * Parses the options, starts the server and parks the main thread for ever.
     *
     * @param args {@code --impl IMPL --port P [--threads N] [--bind ADDR]}
     * @throws Exception if the server cannot start
     */
    public static void main(String[] args) throws Exception {
        String impl = null;
        int port = -1;
        int threads = Runtime.getRuntime().availableProcessors();
        String bind = "127.0.0.1";
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            switch (args[i]) {
                case "--impl" -> impl = value;
                case "--port" -> port = Integer.parseInt(value);
                case "--threads" -> threads = Integer.parseInt(value);
                case "--bind" -> bind = value;
                default -> usage("unknown option " + args[i]);
            }
            i++;
        }
        if (impl == null || port < 0 || threads < 1) {
            usage("--impl and --port are required, --threads must be at least 1");
        }
        Impl server = switch (impl.toLowerCase(Locale.ROOT)) {
            case "aioco" -> new AiocoEchoServer(1, false, true, true);
            case "aioco-n" -> new AiocoEchoServer(threads, false, true, true);
            case "aioco-n-conn" -> new AiocoEchoServer(threads, true, true, true);
            case "aioco-n-nopoll" -> new AiocoEchoServer(threads, false, false, true);
            case "aioco-n-drain" -> new AiocoEchoServer(threads, false, true, false);
            case "vthreads" -> BlockingEchoServer.virtual(threads);
            case "threads" -> BlockingEchoServer.platform();
            case "netty-nio" -> new NettyEchoServer(false, threads);
            case "netty-epoll" -> new NettyEchoServer(true, threads);
            default -> {
                usage("unknown --impl " + impl);
                yield null;
            }
        };
        try {
            server.start(new InetSocketAddress(bind, port));
        } catch (UnavailableException e) {
            System.out.println("unavailable: " + impl + ": " + e.getMessage());
            System.exit(2);
        }
        System.out.println("listening on " + port + " (" + impl + ", " + Runtime.version() + ")");
        System.out.flush();
        Thread.currentThread().join(); // serve until killed
    }

    private static void usage(String problem) {
        System.err.println("EchoServer: " + problem);
        System.err.println("usage: EchoServer --impl aioco|aioco-n|aioco-n-conn|aioco-n-nopoll|aioco-n-drain|vthreads|threads|netty-nio|netty-epoll"
                + " --port P [--threads N] [--bind ADDR]");
        System.exit(64);
    }

    /** Closes a socket whose connection ended, ignoring a failure to close. */
    static void closeQuietly(java.io.Closeable socket) {
        try {
            socket.close();
        } catch (IOException e) {
            // the connection is gone either way
        }
    }
}
