package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 16 item 5: {@link Coroutine#yieldUntilWritable}, and a reader and a writer waiting on one
 * channel at once (QEMU's qio_channel_yield keeps a read and a write coroutine per channel). A
 * connected pair of loopback sockets; the test thread polls the context.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost handler blocks the poll for ever
class ChannelWaitTest {
    static final String READABLE = "yieldUntilReadable";
    static final String WRITABLE = "yieldUntilWritable";
    static final String DESC = "(Ljava/nio/channels/SelectableChannel;)V";

    private final AioContext ctx = AioContext.create();
    private final List<String> events = new ArrayList<>();
    private ServerSocketChannel server;
    private SocketChannel near;
    private SocketChannel far;

    @BeforeEach
    void connect() throws IOException {
        server = ServerSocketChannel.open().bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        far = SocketChannel.open(server.getLocalAddress());
        near = server.accept();
        near.configureBlocking(false);
    }

    @AfterEach
    void close() throws IOException {
        ctx.close();
        near.close();
        far.close();
        server.close();
    }

    /** Polls until {@code done} holds, blocking in between (a socket's readiness needs the selector). */
    private void pollUntil(java.util.function.BooleanSupplier done) {
        drain(ctx);
        while (!done.getAsBoolean()) {
            ctx.poll(true);
        }
    }

    @Test
    void aReaderAndAWriterOnOneChannelWaitAtOnceWithoutReplacingEachOther() throws IOException {
        HandWoven reader = new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(near)),
                plain(() -> events.add("readable")));
        Coroutine.create(reader).enter(ctx);
        HandWoven writer = new HandWoven(call(WRITABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilWritable(near)),
                plain(() -> events.add("writable")));
        Coroutine.create(writer).enter(ctx);
        pollUntil(writer::finished); // an empty socket buffer is writable at once
        assertEquals(List.of("writable"), events);
        assertFalse(reader.finished(), "nothing to read yet");
        far.write(ByteBuffer.wrap(new byte[] {7}));
        pollUntil(reader::finished);
        assertEquals(List.of("writable", "readable"), events, "the writer's wait replaced the reader's handler");
    }

    @Test
    void theReaderWaitsOnAfterTheWriterWasWokenAndTheHandlersGoWhenNobodyWaits() throws IOException {
        HandWoven writer = new HandWoven(call(WRITABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilWritable(near)),
                plain(() -> events.add("writable")));
        Coroutine.create(writer).enter(ctx);
        HandWoven reader = new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(near)),
                plain(() -> events.add("readable")));
        Coroutine.create(reader).enter(ctx);
        pollUntil(writer::finished);
        far.write(ByteBuffer.wrap(new byte[] {7}));
        pollUntil(reader::finished);
        assertEquals(List.of("writable", "readable"), events);
        // both gone: the channel may get another reader and writer
        HandWoven again = new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(near)),
                plain(() -> events.add("readable again")));
        Coroutine.create(again).enter(ctx);
        pollUntil(again::finished); // the byte is still unread
        assertEquals("readable again", events.get(2));
    }

    @Test
    void aSecondReaderOnTheSameChannelIsRefusedNamingTheFirst() {
        Coroutine first = Coroutine.create(new HandWoven(call(READABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilReadable(near))));
        first.enter(ctx);
        List<String> refused = new ArrayList<>();
        Coroutine.create(new HandWoven(call(READABLE, DESC, Coroutine.class, () -> {
            try {
                Coroutine.yieldUntilReadable(near);
            } catch (IllegalStateException e) {
                refused.add(e.getMessage());
            }
        }))).enter(ctx);
        assertEquals(1, refused.size());
        assertTrue(refused.get(0).contains(first.toString()), refused.get(0));
    }

    @Test
    void aCancelledReaderLeavesTheWriterWaiting() throws IOException {
        // fill the socket so that the writer waits
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16);
        while (near.write(chunk.clear()) > 0) {
            // until the buffers are full
        }
        Coroutine reader = Coroutine.create(new HandWoven(call(READABLE, DESC, Coroutine.class, () -> {
            try {
                Coroutine.yieldUntilReadable(near);
            } catch (java.util.concurrent.CancellationException e) {
                events.add("reader cancelled");
            }
        })));
        reader.enter(ctx);
        HandWoven writer = new HandWoven(call(WRITABLE, DESC, Coroutine.class, () -> Coroutine.yieldUntilWritable(near)),
                plain(() -> events.add("writable")));
        Coroutine.create(writer).enter(ctx);
        reader.cancel();
        drain(ctx);
        assertEquals(List.of("reader cancelled"), events);
        far.configureBlocking(false);
        ByteBuffer sink = ByteBuffer.allocate(1 << 16);
        while (!writer.finished()) {
            far.read(sink.clear()); // drain the peer until the writer's handler fires
            ctx.poll(false);
        }
        assertEquals(List.of("reader cancelled", "writable"), events);
    }
}
