package io.aioco.examples.echo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.IOThread;
import io.aioco.IOThreadGroup;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The echo example over real loopback sockets: many clients at once, each sending more than the
 * socket buffers hold (so the server's coroutines wait for room as well as for bytes), every byte
 * checked; and closing the group with clients connected ends every connection.
 */
@Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class EchoServerTest {
    private static final int CLIENTS = 40;
    private static final int BYTES = 512 * 1024;

    private final List<Socket> clients = new ArrayList<>();
    private final ExecutorService writers = Executors.newCachedThreadPool();
    private IOThread acceptor;
    private ServerSocketChannel listener;
    private IOThreadGroup group;

    @BeforeEach
    void start() throws IOException {
        acceptor = IOThread.start("echo-acceptor");
        listener = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        group = EchoServer.start(listener, acceptor.context(), 3);
    }

    @AfterEach
    void stop() throws IOException {
        group.close();
        acceptor.close();
        writers.shutdownNow();
        for (Socket client : clients) {
            client.close();
        }
    }

    private Socket connect() throws IOException {
        Socket client = new Socket();
        clients.add(client);
        client.connect(listener.getLocalAddress());
        return client;
    }

    @Test
    void manyClientsAtOnceGetEveryByteBackInOrder() throws Exception {
        List<byte[]> sent = new ArrayList<>();
        List<Future<?>> writes = new ArrayList<>();
        Random random = new Random(21);
        for (int i = 0; i < CLIENTS; i++) {
            byte[] bytes = new byte[BYTES];
            random.nextBytes(bytes);
            sent.add(bytes);
            Socket client = connect();
            writes.add(writers.submit(() -> { // NOTE: a writer per client: the echo comes back while it writes
                OutputStream out = client.getOutputStream();
                for (int off = 0; off < bytes.length; off += 7000) { // uneven pieces
                    out.write(bytes, off, Math.min(7000, bytes.length - off));
                }
                client.shutdownOutput();
                return null;
            }));
        }
        List<CompletableFuture<byte[]>> reads = new ArrayList<>();
        for (Socket client : clients) {
            reads.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return client.getInputStream().readAllBytes(); // up to the server's end of stream
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, writers));
        }
        for (int i = 0; i < CLIENTS; i++) {
            writes.get(i).get();
            assertArrayEquals(sent.get(i), reads.get(i).get(), "client " + i + " got its bytes back, in order, then the end");
        }
        group.close(); // the last ends may still be under way on the IOThreads: close waits for them
        assertEquals(0, group.openConnections());
    }

    @Test
    void aClientThatDoesNotReadStallsItsConnectionWhichThenSendsEveryByte() throws Exception {
        // The client writes without reading until its own write finds no room. The server stops
        // reading only while a write of its own is stuck (its socket full: the write came back
        // short and it waits in yieldUntilWritable), so that point proves the stall; then the
        // client reads, and must get back every byte, the short writes' rests included.
        SocketChannel client = SocketChannel.open();
        client.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4096);
        client.connect(listener.getLocalAddress());
        client.configureBlocking(false);
        java.io.ByteArrayOutputStream sent = new java.io.ByteArrayOutputStream();
        Random random = new Random(5);
        byte[] chunk = new byte[64 * 1024];
        boolean stalled = false;
        while (!stalled && sent.size() < (256 << 20)) {
            random.nextBytes(chunk);
            ByteBuffer out = ByteBuffer.wrap(chunk);
            while (out.hasRemaining()) {
                if (client.write(out) == 0) {
                    stalled = true;
                    break;
                }
            }
            sent.write(chunk, 0, out.position());
        }
        assertTrue(stalled, "the server stopped reading: its writes were stuck");
        client.shutdownOutput();
        client.configureBlocking(true);
        byte[] back = client.socket().getInputStream().readAllBytes();
        client.close();
        assertEquals(sent.size(), back.length, "every byte came back");
        assertArrayEquals(sent.toByteArray(), back);
    }

    @Test
    void closingTheGroupWithClientsConnectedEndsEveryConnection() throws Exception {
        for (int i = 0; i < 10; i++) {
            Socket client = connect();
            client.getOutputStream().write(new byte[] {(byte) i, 42});
            assertArrayEquals(new byte[] {(byte) i, 42}, client.getInputStream().readNBytes(2)); // served, now waiting
        }
        assertEquals(10, group.openConnections());
        group.close();
        assertEquals(0, group.openConnections(), "every connection coroutine ended before close returned");
        for (Socket client : clients) {
            assertEquals(-1, client.getInputStream().read(), "the client sees the end of the stream");
        }
        for (IOThread worker : group.ioThreads()) {
            assertFalse(worker.thread().isAlive());
        }
        assertFalse(listener.isOpen());
    }
}
