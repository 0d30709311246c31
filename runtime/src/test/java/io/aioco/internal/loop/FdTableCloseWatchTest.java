package io.aioco.internal.loop;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link FdTable#updateWatchingClose}: NIO cancels a closed channel's key without reporting it, so
 * a handler set for a channel that someone else closes is never called again. A channel set with a
 * close handler is looked at after each dispatch: its close handler runs once, the channel loses
 * its handlers, and a plain update takes the watch away (issue 21, rv21: IOThreadGroup's listener).
 */
class FdTableCloseWatchTest {
    private final List<Object> failures = new ArrayList<>();
    private final CallbackGuard guard = new CallbackGuard() {
        @Override
        public void ran() {}

        @Override
        public void failed(Object callback, String what, Throwable failure) {
            failures.add(what + ": " + failure);
        }
    };

    private final FdTable table = new FdTable();
    private final List<Pipe> pipes = new ArrayList<>();

    @AfterEach
    void close() throws IOException {
        table.close();
        for (Pipe p : pipes) {
            p.source().close();
            p.sink().close();
        }
    }

    private Pipe pipe() throws IOException {
        Pipe p = Pipe.open();
        pipes.add(p);
        return p;
    }

    @Test
    void aChannelClosedBySomeoneElseGetsItsCloseHandlerOnceAndLosesItsHandlers() throws IOException {
        Pipe watched = pipe();
        Pipe other = pipe();
        AtomicInteger closes = new AtomicInteger();
        AtomicInteger otherCloses = new AtomicInteger();
        table.updateWatchingClose(watched.source(), () -> {}, null, closes::incrementAndGet);
        table.updateWatchingClose(other.source(), () -> {}, null, otherCloses::incrementAndGet);
        table.applyUpdates();
        table.selectNow();
        assertFalse(table.dispatchClosed(() -> true, guard), "both are open");
        assertEquals(2, table.size());

        watched.source().close();
        assertTrue(table.dispatchClosed(() -> true, guard));
        assertEquals(1, closes.get());
        assertEquals(0, otherCloses.get());
        assertEquals(1, table.size(), "the closed channel has no handlers any more");
        table.applyUpdates();
        table.selectNow();
        assertFalse(table.dispatchClosed(() -> true, guard), "once only");
        assertEquals(1, closes.get());
        assertEquals(List.of(), failures);
    }

    @Test
    void aPlainUpdateTakesTheWatchAway() throws IOException {
        Pipe p = pipe();
        AtomicInteger closes = new AtomicInteger();
        table.updateWatchingClose(p.source(), () -> {}, null, closes::incrementAndGet);
        table.applyUpdates();
        table.update(p.source(), null, () -> {}, null, null); // a user's handler now
        table.applyUpdates();
        p.source().close();
        assertFalse(table.dispatchClosed(() -> true, guard));
        assertEquals(0, closes.get());
    }

    @Test
    void aCloseHandlerThatThrowsIsReportedAndTheOthersStillRun() throws IOException {
        Pipe first = pipe();
        Pipe second = pipe();
        AtomicInteger closes = new AtomicInteger();
        table.updateWatchingClose(first.source(), () -> {}, null, () -> {
            throw new IllegalStateException("boom");
        });
        table.updateWatchingClose(second.source(), () -> {}, null, closes::incrementAndGet);
        table.applyUpdates();
        first.source().close();
        second.source().close();
        assertTrue(table.dispatchClosed(() -> true, guard));
        assertEquals(1, closes.get());
        assertEquals(1, failures.size(), failures.toString());
        assertEquals(0, table.size());
    }
}
