package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import org.junit.jupiter.api.Test;

/**
 * Reviewer's reproductions (issue 21): docs/API.md and Coroutine.yieldUntilReadable's Javadoc say
 * that {@code setFdHandler(ch, null, null)} releases a waited channel's kept registration, "e.g.
 * before configureBlocking(true)". It does not, by itself: the removal reaches the selector only at
 * the loop's next poll (FdTable.applyUpdates cancels the key) and the key leaves the selector only
 * at the select after that, so configureBlocking(true) right after it throws
 * IllegalBlockingModeException. On the loop thread (in a coroutine, a callback) there is no way to
 * follow the documented recipe at all; from another thread it is a race with the loop. And a
 * channel waited on in two contexts keeps the first one's registration even after the second
 * context releases it.
 */
class Issue21BlockingModeReviewTest extends LoopFixture {
    private Pipe pipe() throws IOException {
        Pipe pipe = Pipe.open();
        channels.add(pipe.source());
        channels.add(pipe.sink());
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
        return pipe;
    }

    /** The documented recipe, followed on the loop thread right after the wait ended. */
    @Test
    void releasingAWaitedChannelWithSetFdHandlerNullLetsItGoBackToBlockingMode() throws Exception {
        AioContext ctx = context();
        Pipe pipe = pipe();
        Coroutine reader = Coroutine.create(() -> Coroutine.yieldUntilReadable(pipe.source()));
        reader.enter(ctx);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        drain(ctx);
        assertTrue(reader.isTerminated());
        ctx.setFdHandler(pipe.source(), null, null); // docs/API.md: "releases it, e.g. before configureBlocking(true)"
        // main: java.nio.channels.IllegalBlockingModeException (the key is still registered)
        assertDoesNotThrow(() -> pipe.source().configureBlocking(true));
        assertEquals(1, pipe.source().read(ByteBuffer.allocate(4)));
    }

    /**
     * A channel waited on in context A, then handed to context B and waited on there (a connection
     * moved to an IOThread after a first exchange): releasing it in B, where it lives now, is not
     * enough; A's kept registration stays until A sweeps it, so blocking mode is refused even once
     * both loops have polled. Nothing documents that every context that ever waited must release it.
     */
    @Test
    void aChannelMovedToAnotherContextCanBeReleasedThere() throws Exception {
        AioContext a = context();
        AioContext b = context();
        Pipe pipe = pipe();
        Coroutine first = Coroutine.create(() -> Coroutine.yieldUntilReadable(pipe.source()));
        first.enter(a);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        drain(a);
        assertTrue(first.isTerminated());
        assertEquals(1, pipe.source().read(ByteBuffer.allocate(4)));
        Coroutine second = Coroutine.create(() -> Coroutine.yieldUntilReadable(pipe.source()));
        second.enter(b);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {2}));
        drain(b);
        assertTrue(second.isTerminated());
        b.setFdHandler(pipe.source(), null, null);
        drain(b);
        drain(a);
        // main: IllegalBlockingModeException: context A still holds its kept registration
        assertDoesNotThrow(() -> pipe.source().configureBlocking(true));
    }
}
