package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv17 (issue 17, redeploy leak): once its last context is closed, nothing of the runtime
 * runs (the thread {@code aioco-stall-watcher} ends) and the JDK keeps nothing of it (the JFR
 * listener and the periodic hook of {@code aioco.ContextCounts} are removed), so that an
 * application server's redeploy can collect the runtime's class loader. The runtime's classes are
 * loaded here by a class loader of their own (parent: the platform loader, which has jdk.jfr), a
 * context is created and closed, the loader is dropped, and the collector must clear a weak
 * reference to it: the wait is on the reference queue, bounded by a number of collections. JMX is
 * on: the MBean {@code io.aioco:type=Coroutines} that the loader's runtime registers with its first
 * context is unregistered with its last (the platform MBean server would keep the loader).
 */
@Timeout(120)
class RuntimeClassLoaderReleasedTest {

    @Test
    void theRuntimesClassLoaderIsCollectedOnceItsLastContextClosed() throws Exception {
        ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
        @SuppressWarnings("unchecked")
        WeakReference<ClassLoader>[] held = new WeakReference[1];
        OwnRuntime.withNameFree(() -> held[0] = runInOwnLoader(queue, 1));
        WeakReference<ClassLoader> ref = held[0];
        for (int i = 0; i < 200 && queue.remove(50) == null; i++) {
            System.gc();
        }
        assertNull(ref.get(), "the runtime's class loader is still reachable after its last context closed");
    }

    @Test
    void theWatcherThreadEndsWithTheLastContextAndStartsAgainWithTheNext() throws Exception {
        // NOTE: a runtime of its own (contexts of other tests may be open in this class loader's):
        // each round asserts the watcher runs while its context is open and ends when it closes
        ReferenceQueue<ClassLoader> queue = new ReferenceQueue<>();
        @SuppressWarnings("unchecked")
        WeakReference<ClassLoader>[] held = new WeakReference[1];
        OwnRuntime.withNameFree(() -> held[0] = runInOwnLoader(queue, 3));
        WeakReference<ClassLoader> ref = held[0];
        for (int i = 0; i < 200 && queue.remove(50) == null; i++) {
            System.gc();
        }
        assertNull(ref.get(), "three create/close rounds: the loader is still reachable");
    }

    /** Loads the runtime in a loader of its own, creates and closes a context {@code rounds} times. */
    private static WeakReference<ClassLoader> runInOwnLoader(ReferenceQueue<ClassLoader> queue, int rounds)
            throws Exception {
        URL classes = AioContext.class.getProtectionDomain().getCodeSource().getLocation();
        Thread me = Thread.currentThread();
        ClassLoader ccl = me.getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
            Class<?> ctxClass = Class.forName("io.aioco.AioContext", true, loader);
            Class<?> observe = Class.forName("io.aioco.LoopObserve", true, loader);
            java.lang.reflect.Method mbeanRegistered = Class.forName("io.aioco.CoroutinesMBean", true, loader)
                    .getDeclaredMethod("registeredForTest");
            mbeanRegistered.setAccessible(true);
            java.lang.reflect.Method watcherThread = observe.getDeclaredMethod("watcherThreadForTest");
            java.lang.reflect.Method awaitJfr = observe.getDeclaredMethod("awaitJfrListener");
            watcherThread.setAccessible(true);
            awaitJfr.setAccessible(true);
            for (int i = 0; i < rounds; i++) {
                AutoCloseable ctx = (AutoCloseable) ctxClass.getMethod("create").invoke(null);
                awaitJfr.invoke(null); // NOTE: the listener is installed: its removal is what is tested
                OwnRuntime.joinRegistrars(); // NOTE: so is the MBean
                assertEquals(true, mbeanRegistered.invoke(null), "a context is open: the loader's MBean is registered");
                assertEquals(true, OwnRuntime.nameRegistered());
                Thread t = (Thread) watcherThread.invoke(null);
                assertEquals(true, t != null && t.isAlive(), "a context is open: the watcher runs");
                ctx.close();
                assertNull(watcherThread.invoke(null), "the last context closed: no watcher thread");
                assertEquals(false, OwnRuntime.nameRegistered(), "the last context closed: the MBean is unregistered");
                t.join(30_000); // NOTE: a bound on the wait for the signal (its end), not a time asserted
                assertEquals(false, t.isAlive(), "the watcher thread ended with the last context");
            }
            return new WeakReference<>(loader, queue);
        } finally {
            me.setContextClassLoader(ccl);
        }
    }
}
