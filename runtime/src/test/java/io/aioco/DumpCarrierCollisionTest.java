package io.aioco;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 17's leftover (fix17a, rv17c): a coroutine entered on a thread that is not a loop thread
 * (a plain {@code enter()}: no context keeps that thread's carrier) dropped out of the coroutine dump
 * when another thread whose id is the same modulo the carrier cache's size ran coroutine code: it
 * took the slot, and the dump finds running coroutines through the cache. Here three plain threads
 * whose ids collide each run a coroutine that blocks (a latch: explicit signals, no sleeps), each
 * entered after the previous one blocks, and the dump must list all three, RUNNING on their threads.
 */
@Timeout(60)
class DumpCarrierCollisionTest {
    /** The carrier cache's size ({@code CoStack}). */
    private static final int SLOTS = 1024;

    @Test
    void coroutinesRunningOnPlainThreadsThatCollideInTheCarrierCacheAreAllInTheDump() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        List<Coroutine> coroutines = new ArrayList<>();
        List<CountDownLatch> blocked = new ArrayList<>();
        long home = -1;
        for (int i = 0; i < 3 * SLOTS * 4 && threads.size() < 3; i++) { // ids are given at construction
            int n = threads.size();
            CountDownLatch in = new CountDownLatch(1);
            Coroutine co = Coroutine.create("collides-" + n, () -> {
                in.countDown();
                release.await(); // blocks its thread inside the coroutine: what a dump is for
            });
            Thread t = new Thread(co::enter, "collider-" + n);
            @SuppressWarnings("deprecation")
            long id = t.getId();
            if (home < 0) {
                home = id % SLOTS;
            } else if (id % SLOTS != home) {
                continue;
            }
            threads.add(t);
            coroutines.add(co);
            blocked.add(in);
        }
        assertTrue(threads.size() == 3, "three thread ids equal modulo " + SLOTS + " not found");
        try {
            for (int i = 0; i < threads.size(); i++) {
                threads.get(i).start();
                blocked.get(i).await(); // running: each takes the slot after the previous one blocked
            }
            StringBuilder out = new StringBuilder();
            Coroutine.dump(out);
            String dump = out.toString();
            for (int i = 0; i < coroutines.size(); i++) {
                int at = dump.indexOf("\"collides-" + i + "\" Coroutine@");
                assertTrue(at >= 0, "the coroutine running on " + threads.get(i) + " is missing from the dump:\n"
                        + dump);
                String header = dump.substring(at, dump.indexOf('\n', at));
                assertTrue(header.endsWith(" thread=\"collider-" + i + "\""), header);
                assertTrue(dump.startsWith("   state: RUNNING", dump.indexOf('\n', at) + 1), dump);
            }
        } finally {
            release.countDown();
            for (Thread t : threads) {
                t.join();
            }
        }
        for (Coroutine co : coroutines) {
            assertNotNull(co);
            assertTrue(co.isTerminated(), co + " ended");
        }
    }
}
