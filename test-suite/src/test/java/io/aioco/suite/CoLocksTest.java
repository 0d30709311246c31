package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.CoRwLock;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * CoMutex, CoQueue and CoRwLock with coroutines driven by hand from a plain thread, as QEMU's
 * tests/unit/test-coroutine.c does (co_mutex, co_queue, co_rwlock upgrade and downgrade).
 */
class CoLocksTest {
    private final List<String> events = new ArrayList<>();
    private boolean locked;
    private int done;

    // ---- CoMutex (test_co_mutex) ----

    @CoroutineFn
    private void mutexBody(CoMutex mutex) {
        mutex.lock();
        assertFalse(locked);
        locked = true;
        Coroutine.yield();
        locked = false;
        mutex.unlock();
        done++;
    }

    @Test
    void unlockQueuesTheWaiterWhichRunsWhenTheUnlockerYieldsOrTerminates() {
        CoMutex mutex = new CoMutex();
        Coroutine c1 = Coroutine.create(() -> mutexBody(mutex));
        Coroutine c2 = Coroutine.create(() -> mutexBody(mutex));
        c1.enter();
        assertTrue(locked);
        assertTrue(mutex.isLocked());
        c2.enter(); // waits for the lock
        c1.enter(); // unlock hands the lock to c2, which runs after c1 terminates
        assertEquals(1, done);
        assertTrue(locked);
        c2.enter();
        assertEquals(2, done);
        assertFalse(locked);
        assertFalse(mutex.isLocked());
    }

    @Test
    void mutexIsFifoAndHandsOverWithoutThunderingHerd() {
        CoMutex mutex = new CoMutex();
        List<Coroutine> all = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            int id = i;
            all.add(Coroutine.create(() -> {
                mutex.lock();
                events.add("got " + id);
                Coroutine.yield();
                mutex.unlock();
            }));
        }
        all.forEach(Coroutine::enter); // 0 holds it, 1..4 queue in order
        assertEquals(List.of("got 0"), events);
        for (int round = 0; round < 5; round++) {
            all.get(round).enter(); // the holder unlocks: exactly the next one runs, then yields holding it
        }
        assertEquals(List.of("got 0", "got 1", "got 2", "got 3", "got 4"), events);
        assertTrue(all.stream().allMatch(Coroutine::isTerminated));
        assertFalse(mutex.isLocked());
    }

    @Test
    void unlockByACoroutineThatDoesNotHoldTheMutexIsRefused() {
        CoMutex mutex = new CoMutex();
        Coroutine holder = Coroutine.create(() -> {
            mutex.lock();
            Coroutine.yield();
        });
        holder.enter();
        IllegalStateException[] caught = new IllegalStateException[1];
        Coroutine.create(() -> {
            try {
                mutex.unlock();
            } catch (IllegalStateException e) {
                caught[0] = e;
            }
        }).enter();
        assertTrue(caught[0].getMessage().contains("cannot unlock"), caught[0].getMessage());
        assertTrue(caught[0].getMessage().contains("it is held by " + holder), caught[0].getMessage());
        assertThrows(IllegalStateException.class, mutex::unlock); // outside any coroutine
    }

    // ---- CoQueue ----

    @Test
    void queueWakesWaitersInOrderAfterTheWakerYields() {
        CoQueue queue = new CoQueue();
        List<Coroutine> waiters = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int id = i;
            waiters.add(Coroutine.create(() -> {
                events.add("wait " + id);
                queue.await(null);
                events.add("woken " + id);
            }));
        }
        waiters.forEach(Coroutine::enter);
        assertFalse(queue.isEmpty());
        Coroutine.create(() -> {
            assertTrue(queue.next());
            events.add("waker after next");
            queue.restartAll();
            events.add("waker done");
        }).enter();
        assertEquals(List.of("wait 0", "wait 1", "wait 2", "waker after next", "waker done", "woken 0", "woken 1",
                "woken 2"), events);
        assertTrue(queue.isEmpty());
        boolean[] result = {true};
        Coroutine.create(() -> result[0] = queue.next()).enter();
        assertFalse(result[0]);
    }

    @Test
    void awaitReleasesTheMutexWhileWaitingAndTakesItBack() {
        CoMutex mutex = new CoMutex();
        CoQueue queue = new CoQueue();
        int[] items = {0};
        Coroutine consumer = Coroutine.create(() -> {
            mutex.lock();
            while (items[0] == 0) {
                queue.await(mutex);
            }
            events.add("consumed with lock " + mutex.isLocked());
            items[0]--;
            mutex.unlock();
        });
        Coroutine producer = Coroutine.create(() -> {
            mutex.lock(); // free: the consumer released it in await
            items[0]++;
            queue.next();
            events.add("produced");
            Coroutine.yield(); // still holding the mutex: the consumer must wait for it
            events.add("producer unlocks");
            mutex.unlock();
        });
        consumer.enter();
        assertFalse(mutex.isLocked());
        producer.enter();
        assertEquals(List.of("produced"), events); // the consumer woke, then waited for the mutex
        producer.enter();
        assertEquals(List.of("produced", "producer unlocks", "consumed with lock true"), events);
        assertTrue(consumer.isTerminated());
        assertFalse(mutex.isLocked());
    }

    @Test
    void enterNextOutsideCoroutinesEntersTheWaiterAtOnce() {
        CoQueue queue = new CoQueue();
        Coroutine waiter = Coroutine.create(() -> {
            queue.await(null);
            events.add("woken");
        });
        waiter.enter();
        assertTrue(queue.enterNext(null));
        assertEquals(List.of("woken"), events);
        assertTrue(waiter.isTerminated());
        assertFalse(queue.enterNext(null));
    }

    // ---- CoRwLock (test_co_rwlock_upgrade, test_co_rwlock_downgrade) ----

    @Test
    void upgradeWaitsBehindAQueuedWriter() {
        CoRwLock lock = new CoRwLock();
        boolean[] doneFlags = new boolean[2];
        Coroutine c1 = Coroutine.create(() -> {
            lock.rdlock();
            Coroutine.yield();
            lock.upgrade();
            lock.unlock();
            doneFlags[0] = true;
        });
        Coroutine c2 = Coroutine.create(() -> {
            lock.wrlock();
            Coroutine.yield();
            lock.unlock();
            doneFlags[1] = true;
        });
        c1.enter();
        c2.enter();
        c1.enter(); // c1 must go to sleep: c2 gets the write lock first
        assertFalse(doneFlags[0]);
        c2.enter();
        assertTrue(doneFlags[0]);
        assertTrue(doneFlags[1]);
    }

    @Test
    void upgradeByTheSoleReaderIsImmediate() {
        CoRwLock lock = new CoRwLock();
        Coroutine.create(() -> {
            lock.rdlock();
            lock.upgrade();
            events.add(lock.toString().replaceAll(".*\\[", "["));
            lock.downgrade();
            events.add(lock.toString().replaceAll(".*\\[", "["));
            lock.unlock();
        }).enter();
        assertEquals(List.of("[write-locked]", "[1 readers]"), events);
    }

    @Test
    void downgradeDoesNotHang() {
        CoRwLock lock = new CoRwLock();
        boolean[] doneFlags = new boolean[4];
        Coroutine c1 = Coroutine.create(() -> {
            lock.rdlock();
            Coroutine.yield();
            lock.unlock();
            Coroutine.yield();
            doneFlags[0] = true;
        });
        Coroutine c2 = Coroutine.create(() -> {
            lock.wrlock();
            lock.downgrade();
            lock.unlock();
            doneFlags[1] = true;
        });
        Coroutine c3 = Coroutine.create(() -> {
            lock.rdlock();
            lock.unlock();
            doneFlags[2] = true;
        });
        Coroutine c4 = Coroutine.create(() -> {
            lock.wrlock();
            lock.unlock();
            doneFlags[3] = true;
        });
        c1.enter();
        c2.enter();
        c3.enter();
        c4.enter();
        c1.enter();
        assertTrue(doneFlags[1]);
        assertTrue(doneFlags[2]);
        assertTrue(doneFlags[3]);
        c1.enter();
        assertTrue(doneFlags[0]);
    }

    @Test
    void readersDoNotStarveAQueuedWriter() {
        CoRwLock lock = new CoRwLock();
        Coroutine reader1 = Coroutine.create(() -> {
            lock.rdlock();
            events.add("r1");
            Coroutine.yield();
            lock.unlock();
        });
        Coroutine writer = Coroutine.create(() -> {
            lock.wrlock();
            events.add("w");
            lock.unlock();
        });
        Coroutine reader2 = Coroutine.create(() -> {
            lock.rdlock();
            events.add("r2");
            lock.unlock();
        });
        reader1.enter();
        writer.enter();
        reader2.enter(); // queued behind the writer although only readers hold the lock
        assertEquals(List.of("r1"), events);
        reader1.enter();
        assertEquals(List.of("r1", "w", "r2"), events);
    }
}
