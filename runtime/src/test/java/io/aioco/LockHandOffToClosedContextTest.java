package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.yieldCall;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * A lock handed to a waiter whose context was closed meanwhile: the waiter can never run (QEMU never
 * gets here: its contexts outlive their coroutines). The unlocker must not get the closed context's
 * exception, the lock must go on to the next waiter instead of staying held for ever, and the
 * dropped coroutine is reported once, by name, as lost. Deterministic: contexts polled by hand, the
 * holder suspended at a yield and resumed by the test.
 */
class LockHandOffToClosedContextTest {
    private final AioContext open = AioContext.create();
    private final AioContext closing = AioContext.create();

    /** A coroutine whose name (in its toString) is {@code name}. */
    private static Coroutine named(String name, HandWoven body) {
        return Coroutine.create(new CoroutineEntry() {
            @Override
            public void run() {
                body.run(); // the same frame protocol: the signal is read by the body
            }

            @Override
            public String toString() {
                return name;
            }
        });
    }

    @Test
    void aMutexUnlockSkipsAWaiterOfAClosedContextAndHandsTheLockToTheNext() {
        CoMutex mutex = new CoMutex();
        HandWoven holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        HandWoven lost = new HandWoven(call("lock", "()V", mutex, mutex::lock), call("unlock", "()V", mutex, mutex::unlock));
        HandWoven next = new HandWoven(call("lock", "()V", mutex, mutex::lock), call("unlock", "()V", mutex, mutex::unlock));
        Coroutine holderCo = Coroutine.create(holder);
        holderCo.enter(open); // holds the lock, suspended at its yield
        named("lost-waiter", lost).enter(closing); // queued first
        Coroutine.create(next).enter(open); // queued behind it
        closing.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            holderCo.enter(open); // unlocks: must neither throw nor hand the lock to lost-waiter
            assertTrue(holder.finished());
            LoopTesting.drain(open);
            assertTrue(next.finished(), "the waiter behind the lost one never got the lock");
            assertFalse(lost.finished());
            assertFalse(mutex.isLocked(), "the mutex stays held by a coroutine that can never run");
            assertEquals(1, log.count("lost-waiter"), log.messages.toString());
            assertEquals(1, log.count("lost"), log.messages.toString());
        } finally {
            open.close();
        }
    }

    @Test
    void aMutexUnlockWithOnlyALostWaiterLeavesTheMutexFree() {
        CoMutex mutex = new CoMutex();
        HandWoven holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        Coroutine holderCo = Coroutine.create(holder);
        holderCo.enter(open);
        named("lost-waiter", new HandWoven(call("lock", "()V", mutex, mutex::lock))).enter(closing);
        closing.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            holderCo.enter(open);
            assertTrue(holder.finished());
            assertFalse(mutex.isLocked());
            assertEquals(1, log.count("lost-waiter"), log.messages.toString());
        } finally {
            open.close();
        }
    }

    /**
     * CoQueue.await releases the mutex after its coroutine has yielded (in the publication): the
     * lock handed there to a waiter of a closed context is passed on the same way.
     */
    @Test
    void aQueueWaitThatReleasesTheMutexToALostWaiterPassesItOn() {
        CoMutex mutex = new CoMutex();
        CoQueue queue = new CoQueue();
        HandWoven waiter = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(mutex)));
        HandWoven next = new HandWoven(call("lock", "()V", mutex, mutex::lock), call("unlock", "()V", mutex, mutex::unlock));
        Coroutine waiterCo = Coroutine.create(waiter);
        waiterCo.enter(open); // holds the lock, at its yield
        named("lost-waiter", new HandWoven(call("lock", "()V", mutex, mutex::lock))).enter(closing);
        Coroutine.create(next).enter(open); // queued behind lost-waiter
        closing.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            waiterCo.enter(open); // awaits: the release in its publication hands the lock to lost-waiter
            LoopTesting.drain(open);
            assertTrue(next.finished(), "the mutex was not passed on");
            assertFalse(mutex.isLocked());
            assertFalse(waiter.finished()); // waits on the queue
            assertEquals(1, log.count("lost-waiter"), log.messages.toString());
        } finally {
            open.close();
        }
    }

    /**
     * A reader granted the lock lets the next reader in when it resumes (QEMU's woken reader wakes
     * one): a next reader of a closed context is skipped there too, instead of making the granted
     * reader's rdlock() throw.
     */
    @Test
    void aRwLockSkipsLostReadersAndWritersAtUnlockAndWhenAReaderLetsTheNextOneIn() {
        CoRwLock lock = new CoRwLock();
        HandWoven writer = new HandWoven(call("wrlock", "()V", lock, lock::wrlock), yieldCall(),
                call("unlock", "()V", lock, lock::unlock));
        HandWoven lostWriter = new HandWoven(call("wrlock", "()V", lock, lock::wrlock));
        HandWoven reader1 = new HandWoven(call("rdlock", "()V", lock, lock::rdlock), yieldCall(),
                call("unlock", "()V", lock, lock::unlock));
        HandWoven lostReader = new HandWoven(call("rdlock", "()V", lock, lock::rdlock));
        HandWoven reader2 = new HandWoven(call("rdlock", "()V", lock, lock::rdlock), call("unlock", "()V", lock, lock::unlock));
        Coroutine writerCo = Coroutine.create(writer);
        writerCo.enter(open); // write-locked, suspended at its yield
        named("lost-writer", lostWriter).enter(closing);
        Coroutine reader1Co = Coroutine.create(reader1);
        reader1Co.enter(open);
        named("lost-reader", lostReader).enter(closing);
        Coroutine.create(reader2).enter(open);
        closing.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            writerCo.enter(open); // unlock: lost-writer is skipped, reader1 granted
            assertTrue(writer.finished());
            LoopTesting.drain(open); // reader1 resumes, lets the next reader in: lost-reader skipped, reader2 granted
            assertTrue(reader2.finished(), "the reader behind the lost one never got the lock");
            assertFalse(reader1.finished()); // at its yield, holding a read lock
            assertFalse(lostWriter.finished() || lostReader.finished());
            reader1Co.enter(open);
            assertTrue(reader1.finished());
            assertTrue(lock.isFree(), lock.toString());
            assertEquals(1, log.count("lost-writer"), log.messages.toString());
            assertEquals(1, log.count("lost-reader"), log.messages.toString());
        } finally {
            open.close();
        }
    }

    /**
     * Both behaviours at once (bounded-waits merged with the closed-context hand-off): the lock
     * handed to a lost waiter goes back through release(), which never hands it to the cancelled waiter and
     * completes the next one under the monitor; another lost waiter passes it on again; the live
     * waiter at the end gets it exactly once and runs.
     */
    @Test
    void aLockGivenBackByLostWaitersSkipsACancelledWaiterAndReachesTheNext() {
        CoMutex mutex = new CoMutex();
        java.util.List<String> events = new java.util.ArrayList<>();
        HandWoven holder = new HandWoven(call("lock", "()V", mutex, mutex::lock), yieldCall(),
                call("unlock", "()V", mutex, mutex::unlock));
        HandWoven cancelled = new HandWoven(call("lock", "()V", mutex, () -> {
            try {
                mutex.lock();
                if (!HandCallable.suspended()) {
                    events.add("cancelled waiter got the lock");
                }
            } catch (java.util.concurrent.CancellationException e) {
                events.add("cancelled waiter threw");
            }
        }));
        HandWoven next = new HandWoven(call("lock", "()V", mutex, mutex::lock), HandWoven.plain(() -> events.add("next")),
                call("unlock", "()V", mutex, mutex::unlock));
        Coroutine holderCo = Coroutine.create(holder);
        holderCo.enter(open);
        named("lost-one", new HandWoven(call("lock", "()V", mutex, mutex::lock))).enter(closing);
        Coroutine cancelledCo = Coroutine.create(cancelled);
        cancelledCo.enter(open);
        named("lost-two", new HandWoven(call("lock", "()V", mutex, mutex::lock))).enter(closing);
        Coroutine.create(next).enter(open);
        closing.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            cancelledCo.cancel(); // withdrawn from the queue between the two lost waiters
            holderCo.enter(open);
            assertTrue(holder.finished());
            LoopTesting.drain(open);
            assertTrue(next.finished(), "the waiter behind the lost and cancelled ones never got the lock");
            assertEquals(java.util.List.of("cancelled waiter threw", "next"), events);
            assertFalse(mutex.isLocked());
            assertEquals(1, log.count("lost-one"), log.messages.toString());
            assertEquals(1, log.count("lost-two"), log.messages.toString());
        } finally {
            open.close();
        }
    }
}
