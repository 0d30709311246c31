package io.aioco;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.channels.Pipe;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 1, the remaining paths of Poller's wait: a polling function
 * ({@code ioPoll}, AioHandler io_poll) is a callback run by the loop thread inside the wait itself
 * (the busy poll). One that closes its context (as a read handler may: the dispatch checks
 * {@code stillOpen} before each call) and reports no work lets the wait go on with a closed fd
 * table: it announces a select wait and calls {@code FdTable.select} on the selector that close()
 * set to null. The poll throws a NullPointerException naming nothing of the user's (or, had
 * building the poll set switched it to park mode, parks with no timeout). What should happen: the
 * poll of a context closed by its own callback returns (false), as it does when a bottom half or a
 * handler closes it.
 *
 * <p>The busy poll needs a poll time above 0: it is grown as AdaptivePollingTest grows it (short
 * timer waits, looping until it grew; no time is asserted).
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class PollingFunctionClosesContextTest {

    @Test
    void aPollingFunctionThatClosesItsContextEndsThePoll() throws Exception {
        AioContext ctx = AioContext.create();
        Pipe pipe = Pipe.open();
        try {
            ctx.setPollParams(1_000_000_000L, 2, 2);
            Timer bound = ctx.newTimer(ClockType.REALTIME, () -> {});
            for (int i = 0; i < 10_000 && ctx.currentPollNs() == 0; i++) {
                bound.modNs(System.nanoTime() + 100_000);
                while (bound.isPending()) {
                    ctx.poll(true);
                }
            }
            assertNotEquals(0, ctx.currentPollNs(), "the poll time grew");
            bound.del();
            AtomicBoolean closeIt = new AtomicBoolean(true);
            AtomicInteger polled = new AtomicInteger();
            ctx.setFdHandler(pipe.source(), () -> {}, null, () -> {
                polled.incrementAndGet();
                if (closeIt.getAndSet(false)) {
                    ctx.close(); // from the loop thread, inside the wait
                }
                return false;
            });
            Throwable thrown = null;
            try {
                ctx.poll(true);
            } catch (Throwable t) {
                thrown = t;
            }
            assertTrue(polled.get() > 0, "the polling function ran");
            assertTrue(ctx.isClosed());
            if (thrown != null) {
                java.io.StringWriter w = new java.io.StringWriter();
                thrown.printStackTrace(new java.io.PrintWriter(w));
                assertNull(thrown, "the poll of a context closed by its own polling function threw:\n" + w);
            }
        } finally {
            ctx.close();
            pipe.source().close();
            pipe.sink().close();
        }
    }
}
