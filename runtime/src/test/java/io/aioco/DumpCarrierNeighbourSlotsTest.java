package io.aioco;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 4, on 98407ef: a carrier-cache miss whose own slot holds a carrier
 * running a coroutine tries the next 8 slots, which are the home slots of the next 8 thread ids. Thread
 * ids are given in sequence, so a pool of 9 plain threads running coroutines at once (each blocked in
 * plain code, what a dump is for) fills the whole window: then ONE thread whose id collides with the
 * first (1024 ids later) running coroutine code takes the first's slot anyway, and that coroutine is
 * missing from the dump. CoStack's comment says the dump may miss one only with "more threads than
 * this, whose ids are equal modulo the cache's size, running coroutines at once": here two collide.
 * Deterministic: latches only.
 */
@Timeout(60)
class DumpCarrierNeighbourSlotsTest {
    private static final int SLOTS = 1024;
    /** Threads with consecutive home slots, all running a coroutine (CoStack.NEXT_SLOTS + 1). */
    private static final int POOL = 9;

    @Test
    void aCollidingThreadDoesNotPushARunningCoroutineOutOfTheDumpWhenItsNeighboursRunCoroutines() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Thread[] pool = new Thread[POOL];
        @SuppressWarnings("unchecked")
        AtomicReference<Runnable>[] bodies = new AtomicReference[POOL];
        Thread collider = null;
        AtomicReference<Runnable> colliderBody = null;
        long home = -1;
        List<Thread> spare = new ArrayList<>();
        for (int i = 0; i < 8 * SLOTS && collider == null; i++) {
            AtomicReference<Runnable> body = new AtomicReference<>();
            Thread t = new Thread(() -> body.get().run());
            @SuppressWarnings("deprecation")
            long id = t.getId();
            if (home < 0) {
                home = id % SLOTS;
            }
            int offset = (int) Math.floorMod(id - home, (long) SLOTS);
            if (offset < POOL && pool[offset] == null) {
                pool[offset] = t;
                bodies[offset] = body;
            } else if (offset == 0 && pool[0] != null && allFound(pool)) {
                collider = t;
                colliderBody = body;
            } else {
                spare.add(t);
            }
        }
        assertTrue(collider != null && allFound(pool), "thread ids with consecutive home slots not found");
        List<Coroutine> running = new ArrayList<>();
        try {
            for (int i = 0; i < POOL; i++) {
                CountDownLatch in = new CountDownLatch(1);
                Coroutine co = Coroutine.create("neighbour-" + i, () -> {
                    in.countDown();
                    release.await(); // blocked in plain code inside the coroutine
                });
                running.add(co);
                bodies[i].set(co::enter);
                pool[i].setName("neighbour-thread-" + i);
                pool[i].start();
                in.await();
            }
            // a thread whose id equals the first's modulo the cache's size runs coroutine code, once
            colliderBody.set(() -> Coroutine.create("collider", () -> { }).enter());
            collider.setName("collider-thread");
            collider.start();
            collider.join();

            StringBuilder out = new StringBuilder();
            Coroutine.dump(out);
            String dump = out.toString();
            for (int i = 0; i < POOL; i++) {
                int at = dump.indexOf("\"neighbour-" + i + "\" Coroutine@");
                assertTrue(at >= 0, "the coroutine running on " + pool[i].getName() + " is missing from the dump"
                        + " (its carrier's slot was taken by " + collider.getName() + "):\n" + dump);
                String header = dump.substring(at, dump.indexOf('\n', at));
                assertTrue(header.endsWith(" thread=\"neighbour-thread-" + i + "\""), header);
            }
        } finally {
            release.countDown();
            for (Thread t : pool) {
                if (t.getState() != Thread.State.NEW) {
                    t.join();
                }
            }
        }
        for (Coroutine co : running) {
            assertTrue(co.isTerminated(), co + " ended");
        }
    }

    private static boolean allFound(Thread[] pool) {
        for (Thread t : pool) {
            if (t == null) {
                return false;
            }
        }
        return true;
    }
}
