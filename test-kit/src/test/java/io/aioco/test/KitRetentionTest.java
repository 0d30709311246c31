package io.aioco.test;

import static org.junit.jupiter.api.Assertions.assertNull;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.lang.ref.WeakReference;

/**
 * Regression (rv19 review): a {@code @CoroutineTest} keeps every coroutine it creates reachable until
 * the test ends (TestTime.created, a queue only ever added to, for the leak report), terminated
 * ones included. A test that creates many short-lived coroutines (a server test, a stress loop,
 * a property) grows without bound; the same code without the kit frees them. Fixed: a coroutine
 * leaves the kit's record when it terminates (suspended ones stay, for the leak check).
 */
class KitRetentionTest {
    @CoroutineTest
    @CoroutineFn
    void aTerminatedCoroutineIsNotKeptAliveByTheKit() {
        WeakReference<Coroutine> done = runOne();
        for (int i = 0; i < 20 && done.get() != null; i++) {
            System.gc();
        }
        assertNull(done.get(), "a terminated coroutine, no longer referenced by the test, is still reachable");
    }

    @CoroutineTest(realTime = true)
    @CoroutineFn
    void inRealTimeToo() {
        WeakReference<Coroutine> done = runOne();
        for (int i = 0; i < 20 && done.get() != null; i++) {
            System.gc();
        }
        assertNull(done.get(), "a terminated coroutine, no longer referenced by the test, is still reachable");
    }

    private static WeakReference<Coroutine> runOne() {
        Coroutine co = Coroutine.create(() -> { });
        co.enter();
        if (!co.isTerminated()) {
            throw new AssertionError("the coroutine did not terminate");
        }
        return new WeakReference<>(co);
    }
}
