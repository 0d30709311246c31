package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 21 review, finding 3: the documented recipe {@code setFdHandler(ch, null, null)} then
 * {@code configureBlocking(true)}, followed where the reviewer found it impossible: on the loop
 * thread, in the coroutine whose wait just ended (its registration is still kept: the poll that
 * would let it go has not started). setFdHandler removing a handler on the polling thread flushes
 * the key at once. Mutation caught: no {@code flushRegistration} in AioContext.setFdHandler
 * (IllegalBlockingModeException in the coroutine).
 */
class Issue21FixTest {
    private final List<AioContext> contexts = new ArrayList<>();
    private final List<java.nio.channels.Channel> channels = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        contexts.forEach(AioContext::close);
        for (java.nio.channels.Channel c : channels) {
            c.close();
        }
    }

    @Test
    void setFdHandlerNullInTheWokenCoroutineLetsTheChannelGoBackToBlockingMode() throws Exception {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        Pipe pipe = Pipe.open();
        channels.add(pipe.source());
        channels.add(pipe.sink());
        pipe.source().configureBlocking(false);
        int[] read = {0};
        Coroutine reader = Coroutine.create(() -> {
            Coroutine.yieldUntilReadable(pipe.source());
            AioContext.current().setFdHandler(pipe.source(), null, null);
            try {
                pipe.source().configureBlocking(true); // IllegalBlockingModeException while registered
                read[0] = pipe.source().read(ByteBuffer.allocate(4));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        reader.enter(ctx);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        for (int i = 0; i < 10 && !reader.isTerminated(); i++) {
            ctx.poll(false);
        }
        assertTrue(reader.isTerminated());
        assertEquals(1, read[0]);
    }
}
