package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.yieldCall;
import static io.aioco.HandWoven.plain;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 14 item 2: a runtime coroutine function makes its wake-up visible only after its coroutine
 * has yielded. Each test enters a coroutine with {@code enter(ctx)} from a thread that does not
 * poll {@code ctx} (allowed by the API) and holds it in the window between its callee's
 * suspension and its yield; meanwhile the test thread does what would wake it (polls ctx, unlocks,
 * signals). A wake-up published before the yield is seen in that window and the waker tries to
 * enter a running coroutine: the poll throws and the coroutine is never resumed. Deterministic:
 * latches order the two threads.
 */
@Timeout(60)
class WakeAfterYieldTest {
    private final AioContext ctx = AioContext.create();
    private final List<Throwable> wakerFailures = new ArrayList<>();

    @AfterEach
    void close() {
        ctx.close();
    }

    /**
     * Enters {@code waiter} with enter(ctx) on a fresh thread; runs {@code inWindow} on this thread
     * while the waiter is between its suspension and its yield (failures recorded), then lets it
     * yield and waits for that thread.
     */
    private void enterElsewhereAndActInWindow(HandWoven waiter, int callIndex, Runnable inWindow) throws Exception {
        CountDownLatch reached = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        waiter.beforeYieldAt(callIndex, () -> {
            reached.countDown();
            try {
                assertTrue(go.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        });
        Coroutine co = Coroutine.create(waiter);
        List<Throwable> entererFailures = new ArrayList<>();
        Thread enterer = new Thread(() -> {
            try {
                co.enter(ctx);
            } catch (Throwable t) {
                entererFailures.add(t);
            }
        }, "enterer");
        enterer.start();
        assertTrue(reached.await(30, TimeUnit.SECONDS));
        try {
            inWindow.run();
        } catch (Throwable t) {
            wakerFailures.add(t);
        }
        go.countDown();
        enterer.join(30_000);
        assertFalse(enterer.isAlive());
        assertEquals(List.of(), entererFailures);
    }

    /** Polls ctx until nothing more happens, recording what a poll throws (a lost wake-up's trace). */
    private void drainRecording() {
        try {
            drain(ctx);
        } catch (Throwable t) {
            wakerFailures.add(t);
        }
    }

    private void assertResumedOnce(HandWoven waiter) {
        assertEquals(List.of(), wakerFailures, "a waker found the coroutine still running");
        assertTrue(waiter.finished(), "the coroutine was never resumed");
    }

    @Test
    void sleepNsArmsItsTimerOnlyAfterTheYield() throws Exception {
        HandWoven sleeper = new HandWoven(call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class,
                () -> Coroutine.sleepNs(ClockType.REALTIME, 0)));
        enterElsewhereAndActInWindow(sleeper, 0, this::drainRecording);
        while (!sleeper.finished() && wakerFailures.isEmpty()) {
            drainRecording(); // the timer is due at once: it fires in one of these polls
            Thread.onSpinWait();
        }
        assertResumedOnce(sleeper);
    }

    @Test
    void yieldUntilReadableInstallsItsHandlerOnlyAfterTheYield() throws Exception {
        Pipe pipe = Pipe.open();
        try {
            pipe.source().configureBlocking(false);
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1})); // readable from the start
            HandWoven reader = new HandWoven(call("yieldUntilReadable", "(Ljava/nio/channels/SelectableChannel;)V", Coroutine.class,
                    () -> Coroutine.yieldUntilReadable(pipe.source())));
            enterElsewhereAndActInWindow(reader, 0, this::drainRecording);
            drainRecording();
            assertResumedOnce(reader);
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void coMutexWaiterJoinsTheQueueOnlyAfterTheYield() throws Exception {
        CoMutex mutex = new CoMutex();
        HandWoven holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(), call("unlock", "()V", mutex, mutex::unlock));
        Coroutine holding = Coroutine.create(holder);
        holding.enter(); // holds the lock, yielded
        HandWoven waiter = new HandWoven(call("lock", "()V", mutex, mutex::lock), call("unlock", "()V", mutex, mutex::unlock));
        enterElsewhereAndActInWindow(waiter, 0, () -> {
            holding.enter(); // unlocks: a waiter queued already would be handed the lock and scheduled
            drain(ctx);
        });
        drainRecording();
        assertResumedOnce(waiter);
        assertTrue(holder.finished());
        assertFalse(mutex.isLocked());
    }

    @Test
    void coQueueWaiterJoinsTheQueueOnlyAfterTheYield() throws Exception {
        CoQueue queue = new CoQueue();
        HandWoven waiter = new HandWoven(call("await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null)));
        List<Boolean> woke = new ArrayList<>();
        enterElsewhereAndActInWindow(waiter, 0, () -> {
            woke.add(queue.enterNext(null)); // a waiter queued already would be scheduled on ctx
            drain(ctx);
        });
        if (!waiter.finished()) {
            woke.add(queue.enterNext(null));
        }
        drainRecording();
        assertResumedOnce(waiter);
        assertEquals(List.of(false, true), woke);
        assertTrue(queue.isEmpty());
    }

    @Test
    void coQueueAwaitWithMutexQueuesBeforeReleasingAndOnlyAfterTheYield() throws Exception {
        CoMutex mutex = new CoMutex();
        CoQueue queue = new CoQueue();
        HandWoven waiter = new HandWoven(call("lock", "()V", mutex, mutex::lock),
                call("await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(mutex)), call("unlock", "()V", mutex, mutex::unlock));
        HandWoven signaller = new HandWoven(call("lock", "()V", mutex, mutex::lock),
                call("next", "()Z", queue, queue::next), call("unlock", "()V", mutex, mutex::unlock));
        Coroutine signalling = Coroutine.create(signaller);
        enterElsewhereAndActInWindow(waiter, 1, () -> {
            signalling.enter(); // a mutex released before the yield lets it signal a running waiter
            drain(ctx);
        });
        drainRecording();
        assertResumedOnce(waiter);
        assertTrue(signaller.finished());
        assertFalse(mutex.isLocked());
        assertTrue(queue.isEmpty());
    }

    @Test
    void coRwLockWriterJoinsTheQueueOnlyAfterTheYield() throws Exception {
        CoRwLock lock = new CoRwLock();
        HandWoven holder = new HandWoven(call("wrlock", "()V", lock, lock::wrlock), yieldCall(), call("unlock", "()V", lock, lock::unlock));
        Coroutine holding = Coroutine.create(holder);
        holding.enter();
        HandWoven waiter = new HandWoven(call("wrlock", "()V", lock, lock::wrlock), call("unlock", "()V", lock, lock::unlock));
        enterElsewhereAndActInWindow(waiter, 0, () -> {
            holding.enter();
            drain(ctx);
        });
        drainRecording();
        assertResumedOnce(waiter);
        assertTrue(holder.finished());
        assertEquals("[free]", lock.toString().replaceAll(".*@[0-9a-f]+", ""));
    }

    @Test
    void coRwLockUpgradeGivesUpItsReadLockOnlyAfterTheYield() throws Exception {
        CoRwLock lock = new CoRwLock();
        HandWoven reader = new HandWoven(call("rdlock", "()V", lock, lock::rdlock), yieldCall(), call("unlock", "()V", lock, lock::unlock));
        Coroutine reading = Coroutine.create(reader);
        reading.enter(); // a second reader: the upgrade must wait for it
        HandWoven upgrader = new HandWoven(call("rdlock", "()V", lock, lock::rdlock), call("upgrade", "()V", lock, lock::upgrade),
                call("unlock", "()V", lock, lock::unlock));
        enterElsewhereAndActInWindow(upgrader, 1, () -> {
            reading.enter(); // the last reader leaves: an upgrade queued already is granted and scheduled
            drain(ctx);
        });
        drainRecording();
        assertResumedOnce(upgrader);
        assertTrue(reader.finished());
        assertEquals("[free]", lock.toString().replaceAll(".*@[0-9a-f]+", ""));
    }

    @Test
    void aWakeUpThatCannotBePublishedIsThrownInTheCoroutine() {
        AioContext closed = AioContext.create();
        closed.close();
        List<String> seen = new ArrayList<>();
        HandWoven sleeper = new HandWoven(call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class, () -> {
            try {
                Coroutine.sleepNs(ClockType.REALTIME, 0);
            } catch (IllegalStateException e) {
                seen.add(e.getMessage()); // the coroutine itself sees the failure and may go on
            }
        }));
        Coroutine co = Coroutine.create(sleeper);
        co.enter(closed);
        assertEquals(List.of(closed + " is closed"), seen);
        assertTrue(sleeper.finished());
        assertTrue(co.isTerminated());
        HandWoven uncaught = new HandWoven(call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class,
                () -> Coroutine.sleepNs(ClockType.REALTIME, 0)));
        Coroutine failing = Coroutine.create(uncaught);
        assertThrows(IllegalStateException.class, () -> failing.enter(closed));
        assertTrue(failing.isTerminated());
    }

    /**
     * A coroutine that schedules itself on another context and then waits before yielding: a clear
     * error in the coroutine (the move stays pending and happens at its next yield), not an assert
     * or a silently replaced move.
     */
    @Test
    void aWaitBeforeTheYieldThatFollowsACoScheduleOfItselfIsAClearError() {
        AioContext here = AioContext.create();
        AioContext there = AioContext.create();
        List<String> seen = new ArrayList<>();
        HandWoven body = new HandWoven(
                plain(() -> there.coSchedule(Coroutine.self())),
                call("sleepNs", "(Lio/aioco/ClockType;J)V", Coroutine.class, () -> {
                    try {
                        Coroutine.sleepNs(ClockType.REALTIME, 0);
                    } catch (IllegalStateException e) {
                        seen.add(e.getMessage());
                    }
                }),
                yieldCall(),
                plain(() -> seen.add("moved: " + (Coroutine.self().context() == there))));
        try {
            Coroutine.create(body).enter(here);
            assertEquals(1, seen.size(), seen.toString());
            assertTrue(seen.get(0).contains("scheduled itself on another context (coSchedule)"), seen.get(0));
            assertFalse(body.finished());
            LoopTesting.drain(there);
            assertTrue(body.finished());
            assertEquals("moved: true", seen.get(1));
        } finally {
            here.close();
            there.close();
        }
    }

    /** The review's other case: the handler of yieldUntilReadable cannot be set on a closed channel. */
    @Test
    void aReadHandlerThatCannotBeSetOnAClosedChannelIsThrownInTheCoroutine() throws Exception {
        AioContext ctx = AioContext.create();
        Pipe pipe = Pipe.open();
        pipe.source().close();
        pipe.sink().close();
        List<String> seen = new ArrayList<>();
        HandWoven reader = new HandWoven(call("yieldUntilReadable", "(Ljava/nio/channels/SelectableChannel;)V", Coroutine.class, () -> {
            try {
                Coroutine.yieldUntilReadable(pipe.source());
            } catch (IllegalArgumentException e) {
                seen.add("caught in the coroutine");
            }
        }));
        Coroutine co = Coroutine.create(reader);
        try {
            co.enter(ctx); // nothing reaches the enterer
            assertEquals(List.of("caught in the coroutine"), seen);
            assertTrue(reader.finished());
            assertTrue(co.isTerminated());
        } finally {
            ctx.close();
        }
    }
}
