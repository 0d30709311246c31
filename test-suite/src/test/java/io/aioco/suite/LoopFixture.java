package io.aioco.suite;

import io.aioco.AioContext;
import java.io.IOException;
import java.nio.channels.Channel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;

/**
 * What the tests that drive their own contexts by hand share (issue 21's reviews): contexts made
 * for the test and channels it opened, all closed after each test, and a {@link #drain} that polls
 * without blocking until nothing is ready. The test thread polls: every step is explicit.
 */
abstract class LoopFixture {
    /** The contexts {@link #context()} made, closed after each test. */
    final List<AioContext> contexts = new ArrayList<>();
    /** Channels the test opened: add each, it is closed after the test. */
    final List<Channel> channels = new ArrayList<>();

    /** @return a new context, closed after the test */
    AioContext context() {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        return ctx;
    }

    @AfterEach
    void closeContextsAndChannels() throws IOException {
        contexts.forEach(AioContext::close);
        for (Channel c : channels) {
            c.close();
        }
    }

    /** Polls {@code ctx} without blocking until nothing is ready (100 polls at most). */
    static void drain(AioContext ctx) {
        for (int i = 0; i < 100 && ctx.poll(false); i++) {
            // run everything that is ready
        }
    }
}
