package io.aioco.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 1, the remaining paths of {@code Poller.block}: since 120cfaa a wait
 * ended by a waker before its first select still collects the ready channels, but a wait whose
 * (positive) timeout has passed by the time it reaches its first select returns without looking at
 * them either. QEMU's aio_poll hands any positive timeout to ppoll, which reports the ready fds
 * however short it is. Here the context's timeout is 1 ns (a timer due right now, as computed a
 * moment ago): the channel, registered and readable before the wait began, is not collected by
 * that wait. Not timing-sensitive in practice: it needs only System.nanoTime() to advance by 1 ns
 * between block's deadline and its first check (were it not to advance, block would select and the
 * test would pass).
 */
@Timeout(30)
class PollerShortTimeoutTest {
    private static final CallbackGuard NO_FAILURES = new CallbackGuard() {
        @Override
        public void ran() {}

        @Override
        public void failed(Object callback, String what, Throwable failure) {
            throw new AssertionError(what, failure);
        }
    };

    private final Pipe pipe;
    private Poller poller;

    PollerShortTimeoutTest() throws IOException {
        pipe = Pipe.open();
    }

    @AfterEach
    void close() throws IOException {
        FdTable table = poller == null ? null : poller.fds();
        if (table != null) {
            table.close();
        }
        pipe.source().close();
        pipe.sink().close();
    }

    @Test
    void aReadyChannelIsCollectedByAWaitWhoseTimeoutIsShorterThanTheWayToTheSelect() throws IOException {
        AtomicInteger timeouts = new AtomicInteger();
        Poller.Work work = new Poller.Work() {
            @Override
            public long timeoutNs() {
                timeouts.incrementAndGet();
                return 1; // a timer due 1 ns from now
            }

            @Override
            public void markQueued() {}

            @Override
            public boolean queuedSinceMark() {
                return false;
            }
        };
        poller = new Poller(work, NO_FAILURES);
        AtomicInteger reads = new AtomicInteger();
        FdTable table = poller.fdTable();
        table.update(pipe.source(), null, reads::incrementAndGet, null, null);
        table.applyUpdates();
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        poller.waitForEvents(Thread.currentThread(), table, PollHooks.NONE);
        assertEquals(1, timeouts.get());
        assertTrue(table.dispatch(() -> true, NO_FAILURES), "the readable channel was collected by the wait");
        assertEquals(1, reads.get());
    }
}
