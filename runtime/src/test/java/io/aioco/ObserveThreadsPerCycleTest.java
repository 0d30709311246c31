package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 5: each create/close cycle of a lone context started two threads of
 * LoopObserve, the stall watcher and a JFR-listener installer ({@code aioco-jfr-listener}); the
 * watcher now installs the listener itself, as it starts: one thread per cycle (it still ends with
 * the last context, so that nothing of the runtime runs once no context is left:
 * RuntimeClassLoaderReleasedTest). The threads started are counted by the JVM's own {@code
 * jdk.ThreadStart} events, recorded around cycles of a runtime loaded by a class loader of its own
 * (no other test's context is open there). Deterministic: each cycle waits for its listener and for
 * its watcher's end.
 */
@Timeout(60)
class ObserveThreadsPerCycleTest {
    private static final int CYCLES = 5;

    @Test
    void aCreateCloseCycleOfALoneContextStartsOneObserveThread() throws Exception {
        Path file = Files.createTempFile("aioco-threads", ".jfr");
        List<String> started = new ArrayList<>();
        try {
            OwnRuntime.withNameFree(() -> {
                try (Recording r = new Recording()) {
                    r.enable("jdk.ThreadStart");
                    r.start();
                    cycles();
                    r.stop();
                    r.dump(file);
                }
                for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
                    String name = e.getThread("thread") == null ? null : e.getThread("thread").getJavaName();
                    if (name != null && (name.equals("aioco-stall-watcher") || name.equals("aioco-jfr-listener"))) {
                        started.add(name);
                    }
                }
            });
        } finally {
            Files.deleteIfExists(file);
        }
        assertEquals(CYCLES, started.size(), CYCLES + " create/close cycles started these threads: " + started);
    }

    private static void cycles() throws Exception {
        URL classes = AioContext.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
            Class<?> ctxClass = Class.forName("io.aioco.AioContext", true, loader);
            Class<?> observe = Class.forName("io.aioco.LoopObserve", true, loader);
            java.lang.reflect.Method watcherThread = observe.getDeclaredMethod("watcherThreadForTest");
            java.lang.reflect.Method awaitJfr = observe.getDeclaredMethod("awaitJfrListener");
            watcherThread.setAccessible(true);
            awaitJfr.setAccessible(true);
            for (int i = 0; i < CYCLES; i++) {
                AutoCloseable ctx = (AutoCloseable) ctxClass.getMethod("create").invoke(null);
                awaitJfr.invoke(null);
                Thread t = (Thread) watcherThread.invoke(null);
                ctx.close();
                if (t != null) {
                    t.join();
                }
            }
            OwnRuntime.joinRegistrars();
        }
    }
}
