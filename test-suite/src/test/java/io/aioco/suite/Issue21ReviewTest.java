package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.IOThreadGroup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import org.junit.jupiter.api.Test;

/**
 * Reviewer's reproductions for issue 21 (kept channel registrations, IOThreadGroup). Each test
 * fails on main because of the defect it names. The test thread polls its own context: every step
 * is explicit, nothing sleeps.
 */
class Issue21ReviewTest extends LoopFixture {
    /**
     * A pipe's sink waited on once (the wait is over, nobody waits any more) and then closed by
     * another thread (here: by the test thread while the loop is idle, as a loop blocked in select
     * would be): the reader at the other end must see the end of the stream. On main the kept
     * SelectionKey defers the close of the fd (NIO closes a registered channel's fd only when the
     * selector deregisters its key, at that selector's next select), so the source reads 0 for ever
     * while the loop idles. Before issue 21 the wake-up removed the registration and the loop's
     * next poll flushed it.
     */
    @Test
    void aSinkClosedAfterItsWaitEndedEndsTheStreamWhileTheLoopIdles() throws Exception {
        AioContext ctx = context();
        Pipe pipe = Pipe.open();
        channels.add(pipe.source());
        channels.add(pipe.sink());
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
        Coroutine writer = Coroutine.create(() -> Coroutine.yieldUntilWritable(pipe.sink()));
        writer.enter(ctx);
        drain(ctx);
        assertTrue(writer.isTerminated(), "the writer woke and ended");
        // the loop is idle now (no poll runs), as an IOThread blocked in select would be
        pipe.sink().close();
        int n = pipe.source().read(ByteBuffer.allocate(16));
        assertEquals(-1, n, "the source must see the end of the stream once the sink is closed"
                + " (0: the sink's fd is still open, held by the kept SelectionKey)");
    }

    /**
     * The same with a listening socket: an accept coroutine waits once for a connection and ends;
     * the listener is then closed while the loop idles. The port must be free again (the server can
     * be restarted on it) and nobody must be able to connect. On main the kept key keeps the
     * listening socket open: a new bind fails with "Address already in use" and connections are
     * accepted by the kernel into a backlog nobody serves.
     */
    @Test
    void aListenerClosedAfterItsWaitEndedFreesItsPortWhileTheLoopIdles() throws Exception {
        AioContext ctx = context();
        ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        channels.add(listener);
        listener.configureBlocking(false);
        SocketAddress address = listener.getLocalAddress();
        SocketChannel client = SocketChannel.open(address);
        channels.add(client);
        SocketChannel[] accepted = new SocketChannel[1];
        Coroutine acceptor = Coroutine.create(() -> {
            Coroutine.yieldUntilReadable(listener);
            try {
                accepted[0] = listener.accept();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        acceptor.enter(ctx);
        drain(ctx);
        assertTrue(acceptor.isTerminated());
        channels.add(accepted[0]);
        listener.close();
        // the port must be free: a restarted server binds it
        try (ServerSocketChannel again = ServerSocketChannel.open()) {
            again.bind(address); // main: java.net.BindException: Address already in use
        }
    }

    /**
     * IOThreadGroup.close() documents that every listener is closed at once. When the accepting
     * context is not polled after close (the usual shutdown: the main loop stopped, then the group
     * is closed), the listener's registration is never removed, so the listening socket stays open:
     * the port cannot be bound again and clients still connect (to a backlog nobody accepts from).
     * Cause: IOThreadGroup.Listener.stop closes the channel while it is registered with the accept
     * context's selector; NIO closes its fd only when that selector deregisters the key.
     */
    @Test
    void groupCloseFreesTheListenersPortEvenIfTheAcceptLoopIsNoLongerPolled() throws Exception {
        AioContext acceptContext = context();
        ServerSocketChannel listener = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        channels.add(listener);
        SocketAddress address = listener.getLocalAddress();
        IOThreadGroup group = IOThreadGroup.start("rv21-", 1);
        try {
            group.serve(listener, acceptContext, channel -> () -> { });
            drain(acceptContext); // the accept handler is registered
        } finally {
            group.close(); // the accept loop is not polled from here on (it was stopped first)
        }
        try (ServerSocketChannel again = ServerSocketChannel.open()) {
            again.bind(address); // main: java.net.BindException: Address already in use
        }
    }

    /**
     * The same defect for a channel handed from one context to another (waited on once in A, then
     * served in B and closed on B's thread, B's loop polling on): A's kept SelectionKey still holds
     * the fd, so the peer never sees the end of the stream while A idles. Closing on the thread that
     * serves the channel, as QEMU's owners do, does not help.
     */
    @Test
    void aSinkMovedToAnotherContextAndClosedThereEndsTheStream() throws Exception {
        AioContext a = context();
        AioContext b = context();
        Pipe pipe = Pipe.open();
        channels.add(pipe.source());
        channels.add(pipe.sink());
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
        Coroutine first = Coroutine.create(() -> Coroutine.yieldUntilWritable(pipe.sink()));
        first.enter(a);
        drain(a);
        assertTrue(first.isTerminated());
        Coroutine second = Coroutine.create(() -> {
            Coroutine.yieldUntilWritable(pipe.sink());
            try {
                pipe.sink().close(); // the connection ends on the context that serves it
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        second.enter(b);
        drain(b);
        assertTrue(second.isTerminated());
        drain(b);
        assertEquals(-1, pipe.source().read(ByteBuffer.allocate(16)),
                "the source must see the end of the stream (0: context A's kept key holds the sink's fd)");
    }
}
