package io.aioco.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A waker that clears the announcement after the poll set was built and before the loop blocks
 * (the waker of a channel update that ended the busy poll, descheduled between its poke and its
 * read of {@code notifyMe}): the wait must still collect the channels that are ready, as QEMU's
 * aio_poll still polls its fds (with a zero timeout) after an aio_notify. The old code returned from
 * the wait as soon as it saw the announcement cleared, without selecting: a channel registered by
 * that very wait and readable was not dispatched, the poll reported no progress, and a next poll
 * whose polling functions see nothing busy-polled for ever (AdaptivePollingTest's second-channel
 * case, twice on JDK 25 under load). The waker runs inside {@code Work.timeoutNs}, which the wait
 * calls after the announcement and the poll set, before it blocks: deterministic, no timing.
 */
@Timeout(30)
class PollerWakeBeforeBlockTest {
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
    private final AtomicInteger wakes = new AtomicInteger();

    PollerWakeBeforeBlockTest() throws IOException {
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

    /** A context's work with nothing queued, whose timeout computation lets another thread kick first. */
    private final Poller.Work work = new Poller.Work() {
        @Override
        public long timeoutNs() {
            if (wakes.getAndIncrement() == 0) {
                Thread waker = new Thread(poller::kick, "test-waker");
                waker.start();
                try {
                    waker.join();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
            }
            return -1;
        }

        @Override
        public void markQueued() {}

        @Override
        public boolean queuedSinceMark() {
            return false;
        }
    };

    @Test
    void aChannelMadeReadyBeforeTheWaitIsCollectedWhenAWakerClearsTheAnnouncementBeforeTheBlock() throws IOException {
        poller = new Poller(work, NO_FAILURES);
        AtomicInteger reads = new AtomicInteger();
        FdTable table = poller.fdTable();
        table.update(pipe.source(), null, reads::incrementAndGet, null, null);
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        // the update is applied by the wait, after its announcement (as one made by another thread)
        poller.waitForEvents(Thread.currentThread(), table, PollHooks.NONE);
        assertEquals(1, wakes.get(), "the wait computed its timeout once, with the waker inside");
        assertEquals(Poller.NOT_WAITING, poller.announcement());
        assertEquals(true, table.dispatch(() -> true, NO_FAILURES), "the readable channel was collected by the wait");
        assertEquals(1, reads.get());
    }

    @Test
    void aChannelRegisteredBeforeThePollIsCollectedToo() throws IOException {
        poller = new Poller(work, NO_FAILURES);
        AtomicInteger reads = new AtomicInteger();
        FdTable table = poller.fdTable();
        table.update(pipe.source(), null, reads::incrementAndGet, null, null);
        table.applyUpdates();
        pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
        poller.waitForEvents(Thread.currentThread(), table, PollHooks.NONE);
        assertEquals(true, table.dispatch(() -> true, NO_FAILURES), "the readable channel was collected by the wait");
        assertEquals(1, reads.get());
    }
}
