package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import io.aioco.IOThread;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The buffer budget's wake-ups (re-review of issue 14): a waiter that a release wakes but that
 * still cannot reserve waits for a later release; it is neither woken again by the same release
 * nor makes the pools trim when they keep nothing. Everything runs on one IOThread in bottom
 * halves, in a fixed order; no timing.
 */
class BufferBudgetTest {
    private static final long TIMEOUT_S = NbdServerFixture.TIMEOUT_S;

    /** Reserves {@code bytes} as a connection's reader does, counting wake-ups; gives up after three. */
    @CoroutineFn
    private static void reserve(BufferBudget budget, long bytes, AtomicInteger wakes,
            CompletableFuture<Boolean> done) {
        CompletableFuture<Void> abandon = new CompletableFuture<>();
        boolean reserved = false;
        while (!reserved && wakes.get() < 3) { // woken more often than released: the livelock, stop it
            reserved = budget.awaitRelease(bytes, false, abandon);
            if (!reserved) {
                wakes.incrementAndGet();
            }
        }
        done.complete(reserved);
    }

    @Test
    void aWaiterWokenByATooSmallReleaseWaitsForTheNextOneAndAsksNoTrimForNothing() throws Exception {
        BufferBudget budget = new BufferBudget(Nbd.MAX_PAYLOAD);
        assertTrue(budget.tryReserve(Nbd.MAX_PAYLOAD));
        AtomicInteger trims = new AtomicInteger();
        budget.addTrimmer(trims::incrementAndGet);
        AtomicInteger wakes = new AtomicInteger();
        CompletableFuture<Boolean> done = new CompletableFuture<>();
        CompletableFuture<Integer> wakesAfterSmallRelease = new CompletableFuture<>();
        IOThread thread = IOThread.start("budget-test");
        try {
            thread.context().scheduleOneshot(() -> Coroutine.create(
                    () -> reserve(budget, 1 << 20, wakes, done)).enter());
            thread.context().scheduleOneshot(() -> { // the reader waits now
                budget.release(4096); // too little for it
                wakesAfterSmallRelease.complete(wakes.get());
                budget.release(Nbd.MAX_PAYLOAD - 4096); // now enough
            });
            assertEquals(1, wakesAfterSmallRelease.get(TIMEOUT_S, TimeUnit.SECONDS),
                    "one release wakes a waiter once");
            assertTrue(done.get(TIMEOUT_S, TimeUnit.SECONDS), "the later release let it reserve");
            assertEquals(2, wakes.get(), "woken once by each release");
            assertEquals(0, trims.get(), "no pool keeps anything: no trim asked");
            assertEquals(0, budget.trimAsks());
            assertEquals(1 << 20, budget.reserved());
        } finally {
            thread.close();
        }
    }
}
