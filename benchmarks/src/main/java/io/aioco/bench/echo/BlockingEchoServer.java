package io.aioco.bench.echo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The echo server on blocking sockets, a thread per connection: virtual threads (Loom, JDK 21 or
 * later) or platform threads. The accepting thread is a platform thread in both; each connection's
 * thread reads into a buffer and writes what it read, blocking in both.
 *
 * <p>The module is built with {@code --release 17}, so the virtual-thread executor is looked up
 * reflectively ({@code Executors.newVirtualThreadPerTaskExecutor}); on JDK 17 it is missing and the
 * server reports itself unavailable. Its carrier count is set with the JDK's own property, {@code
 * jdk.virtualThreadScheduler.parallelism}, before the first virtual thread starts.
 *
 * <p>Threads: {@link #start} on the main thread; the rest on the threads it starts.
 */
final class BlockingEchoServer implements EchoServer.Impl {
    /** Bytes read per {@code read}. */
    private static final int BUFFER_SIZE = 64 << 10;

    private final boolean virtual;
    private final int carriers;

    private BlockingEchoServer(boolean virtual, int carriers) {
        this.virtual = virtual;
        this.carriers = carriers;
    }

    /** A virtual thread per connection, on {@code carriers} carrier threads. */
    static BlockingEchoServer virtual(int carriers) {
        return new BlockingEchoServer(true, carriers);
    }

    /** A platform thread per connection. */
    static BlockingEchoServer platform() {
        return new BlockingEchoServer(false, 0);
    }

    @Override
    public void start(InetSocketAddress address) throws Exception {
        ExecutorService perConnection;
        if (virtual) {
            if (Runtime.version().feature() < 21) {
                throw new EchoServer.UnavailableException("virtual threads need JDK 21 or later, this is "
                        + Runtime.version());
            }
            System.setProperty("jdk.virtualThreadScheduler.parallelism", Integer.toString(carriers));
            System.setProperty("jdk.virtualThreadScheduler.maxPoolSize", Integer.toString(Math.max(256, carriers)));
            perConnection = (ExecutorService) Executors.class.getMethod("newVirtualThreadPerTaskExecutor")
                    .invoke(null);
        } else {
            perConnection = Executors.newCachedThreadPool(task -> {
                Thread thread = new Thread(task, "echo-connection");
                thread.setDaemon(true);
                return thread;
            });
        }
        ServerSocket listener = new ServerSocket();
        listener.bind(address, EchoServer.BACKLOG);
        Thread acceptor = new Thread(() -> acceptLoop(listener, perConnection), "echo-accept");
        acceptor.start();
    }

    private static void acceptLoop(ServerSocket listener, ExecutorService perConnection) {
        while (true) {
            Socket socket;
            try {
                socket = listener.accept();
                socket.setTcpNoDelay(true);
            } catch (IOException e) {
                System.err.println("accept failed: " + e);
                System.exit(1);
                return;
            }
            perConnection.execute(() -> serve(socket));
        }
    }

    private static void serve(Socket socket) {
        byte[] buffer = new byte[BUFFER_SIZE];
        try (socket; InputStream in = socket.getInputStream(); OutputStream out = socket.getOutputStream()) {
            int read;
            while ((read = in.read(buffer)) >= 0) {
                out.write(buffer, 0, read);
            }
        } catch (IOException e) {
            // the peer reset the connection: it ends here as on a clean close
        }
    }
}
