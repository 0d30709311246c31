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
 * rv14 finding 4 (04-fd-update-linear-in-channels): applying fd-handler updates must cost
 * O(changed), not O(channels). Counted, not timed: {@code nodesVisited} counts the nodes
 * applyUpdates examines. On the old code (the polling and canRead lists rebuilt from every node at
 * each update) one change among N channels visited N + 1 nodes. The incremental lists must also
 * stay right across adds, changes and removals (swap-removal).
 */
class FdTableUpdateTest {
    private static final CallbackGuard NO_FAILURES = new CallbackGuard() {
        @Override
        public void ran() {}

        @Override
        public void failed(Object callback, String what, Throwable failure) {
            throw new AssertionError(what, failure);
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
    void oneUpdateAmongManyChannelsVisitsOnlyTheChangedNode() throws IOException {
        int channels = 200;
        for (int i = 0; i < channels; i++) {
            Pipe p = pipe();
            table.update(p.source(), i % 2 == 0 ? () -> 1 : null, () -> {}, null, i % 3 == 0 ? () -> false : null);
        }
        assertTrue(table.applyUpdates());
        assertEquals(channels, table.nodesVisited);
        long before = table.nodesVisited;
        table.update(pipes.get(7).source(), null, () -> {}, null, () -> false);
        assertTrue(table.applyUpdates());
        assertEquals(1, table.nodesVisited - before, "one update visited " + (table.nodesVisited - before) + " nodes");
        assertFalse(table.applyUpdates());
    }

    @Test
    void thePollingListFollowsAddsChangesAndRemovals() throws IOException {
        AtomicInteger[] polls = new AtomicInteger[5];
        for (int i = 0; i < polls.length; i++) {
            AtomicInteger count = polls[i] = new AtomicInteger();
            table.update(pipe().source(), null, () -> {}, null, () -> {
                count.incrementAndGet();
                return false;
            });
        }
        table.applyUpdates();
        assertTrue(table.hasPollHandlers());
        table.update(pipes.get(1).source(), null, null, null, null); // removed
        table.update(pipes.get(3).source(), null, () -> {}, null, null); // polling function dropped
        table.applyUpdates();
        table.runPollHandlersOnce(NO_FAILURES);
        int[] expected = {1, 0, 1, 0, 1};
        for (int i = 0; i < polls.length; i++) {
            assertEquals(expected[i], polls[i].get(), "polling function " + i);
        }
        assertTrue(table.allPollable() == false, "channel 3 has no polling function");
        table.update(pipes.get(3).source(), null, () -> {}, null, () -> {
            polls[3].incrementAndGet();
            return false;
        });
        table.update(pipes.get(0).source(), null, null, null, null);
        table.update(pipes.get(2).source(), null, null, null, null);
        table.update(pipes.get(4).source(), null, null, null, null);
        table.applyUpdates();
        table.runPollHandlersOnce(NO_FAILURES);
        assertEquals(1, polls[0].get());
        assertEquals(1, polls[3].get());
        table.update(pipes.get(3).source(), null, null, null, null);
        table.applyUpdates();
        assertFalse(table.hasPollHandlers());
    }
}
