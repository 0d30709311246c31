package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.junit.jupiter.api.Test;

/**
 * A coroutine keeps one CoMutex waiter and renews it for each contended lock outside timeout
 * scopes (no allocation per hand-off), in a new generation each time: what an earlier use's
 * publisher does late must not touch the later use.
 */
class KeptMutexWaiterTest {
    /** A wait that registers nothing: for driving the state machine by hand. */
    private static CoWait bareWait(Coroutine co) {
        return new CoWait(co) {
            @Override
            public CoWait publish() {
                return null;
            }
        };
    }

    @Test
    void twoContendedLocksOfOneCoroutineWaitOnTheSameRenewedWaiter() {
        CoMutex mutex = new CoMutex();
        List<CoWait> waits = new ArrayList<>();
        Coroutine[] waiterCo = new Coroutine[1];
        HandWoven holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock), call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        HandWoven waiter = new HandWoven(call("lock", "()V", mutex, mutex::lock),
                plain(() -> waits.add(waiterCo[0].currentWait())), call("unlock", "()V", mutex, mutex::unlock),
                call("lock", "()V", mutex, mutex::lock), plain(() -> waits.add(waiterCo[0].currentWait())),
                call("unlock", "()V", mutex, mutex::unlock));
        Coroutine holderCo = Coroutine.create(holder);
        waiterCo[0] = Coroutine.create(waiter);
        holderCo.enter(); // holds the lock, at its first yield
        waiterCo[0].enter(); // queued: its first wait
        holderCo.enter(); // unlocks (the waiter runs, unlocks to the holder, queues again), locks, yields
        holderCo.enter(); // unlocks: the waiter runs to its end
        assertTrue(holder.finished() && waiter.finished(), "both ran to their ends");
        assertFalse(mutex.isLocked());
        assertEquals(2, waits.size());
        assertEquals(2, waiter.suspensions(), "both locks waited");
        assertSame(waits.get(0), waits.get(1), "the second wait renewed the first one's waiter");
    }

    @Test
    void aPublisherOfAnEarlierGenerationCannotMarkTheRenewedWaitPublished() {
        Coroutine co = Coroutine.create(() -> {});
        CoWait wait = bareWait(co);
        int first = wait.generation();
        assertTrue(wait.complete(), "woken during its publication");
        wait.renew(); // its coroutine ran elsewhere and suspends on it again
        int second = wait.generation();
        assertNotEquals(first, second);
        assertFalse(wait.isDone(), "the renewed wait is pending");
        assertFalse(wait.markPublished(first), "the late publisher of the first use finds another generation");
        assertFalse(wait.cancel(new CancellationException("early"), "test"),
                "so the renewed wait is still unpublished: not cancellable yet");
        assertFalse(wait.markPublished(second), "its own publisher marks it published (nothing to cancel)");
        assertTrue(wait.cancel(new CancellationException("now"), "test"), "published now: cancellable");
        assertTrue(wait.isCancelled());
        assertEquals("now", wait.cancellation().getMessage());
    }
}
