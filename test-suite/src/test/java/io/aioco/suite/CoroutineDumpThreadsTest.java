package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.IOThread;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The dump's threads (review rv17b #2, #3, #6): it finds the loop threads that run a coroutine
 * from their contexts, which keep their carriers (not only from the 1024-slot carrier cache, whose
 * slots threads take from each other), takes their names from the carriers (no {@code Thread.getAllStackTraces()}, a
 * safepoint over every thread's stack), and quotes the context and thread names it prints.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class CoroutineDumpThreadsTest {
    private static String dump() throws Exception {
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        return out.toString();
    }

    /** A coroutine that blocks its loop thread until {@link #release} opens: entered, never suspended. */
    private static final class Blocker implements AutoCloseable {
        final IOThread io;
        final CountDownLatch release = new CountDownLatch(1);

        Blocker(String thread, String name) throws InterruptedException {
            io = IOThread.start(thread);
            AioContext ctx = io.context();
            CountDownLatch blocking = new CountDownLatch(1);
            Coroutine stuck = Coroutine.create(name, () -> {
                blocking.countDown();
                release.await(); // a blocking call in a coroutine: the loop thread hangs here
            });
            ctx.scheduleOneshot(() -> stuck.enter(ctx));
            blocking.await();
        }

        @Override
        public void close() {
            release.countDown();
            io.close();
        }
    }

    /**
     * A thread whose id equals the loop thread's modulo 1024 runs coroutine code ({@code
     * AioContext.current()}) and takes the loop thread's slot of the carrier cache: the coroutine
     * blocking the loop thread (what a dump is for) stays listed, RUNNING on that thread.
     */
    @Test
    void aCoroutineBlockingItsLoopThreadStaysListedWhenAnotherThreadTakesItsCacheSlot() throws Exception {
        try (Blocker blocker = new Blocker("dump-threads-blocked", "dump-threads-stuck")) {
            String before = dump();
            assertTrue(before.contains("\"dump-threads-stuck\" Coroutine@"), before);
            @SuppressWarnings("deprecation")
            long loopId = blocker.io.thread().getId();
            Thread collider = null;
            for (int i = 0; i < 4096 && collider == null; i++) { // ids are given at construction
                Thread t = new Thread(() -> AioContext.current(), "collider");
                @SuppressWarnings("deprecation")
                long id = t.getId();
                if (id % 1024 == loopId % 1024) {
                    collider = t;
                }
            }
            assertNotNull(collider, "no thread id collides with " + loopId + " modulo 1024 in 4096 threads");
            collider.start();
            collider.join();
            String after = dump();
            int at = after.indexOf("\"dump-threads-stuck\" Coroutine@");
            assertTrue(at >= 0, "the coroutine blocking " + blocker.io + " is gone from the dump:\n" + after);
            assertTrue(after.startsWith("   state: RUNNING", after.indexOf('\n', at) + 1), after);
        }
    }

    /**
     * A dump takes the names of the threads that run coroutines from their carriers: it runs no
     * {@code ThreadDump} VM operation (what {@code Thread.getAllStackTraces()} runs: a safepoint that
     * walks every thread's stack and freezes every loop meanwhile). JFR records each VM operation;
     * a call of our own afterwards shows that the recording sees them.
     */
    @Test
    void aDumpNamesRunningThreadsWithoutWalkingEveryThreadsStack() throws Exception {
        try (Blocker blocker = new Blocker("dump-threads-named", "dump-threads-named-co");
                Recording recording = new Recording()) {
            recording.enable("jdk.ExecuteVMOperation").withThreshold(Duration.ZERO);
            recording.start();
            String dump = dump();
            Thread.getAllStackTraces(); // the control: one ThreadDump operation of our own
            recording.stop();
            Path file = Files.createTempFile("dump-threads", ".jfr");
            try {
                recording.dump(file);
                int threadDumps = 0;
                for (RecordedEvent event : RecordingFile.readAllEvents(file)) {
                    if ("ThreadDump".equals(event.getString("operation"))) {
                        threadDumps++;
                    }
                }
                assertEquals(1, threadDumps, "ThreadDump VM operations: the dump's and the control's");
            } finally {
                Files.deleteIfExists(file);
            }
            int at = dump.indexOf("\"dump-threads-named-co\" Coroutine@");
            assertTrue(at >= 0, dump);
            String header = dump.substring(at, dump.indexOf('\n', at));
            assertTrue(header.endsWith(" thread=\"dump-threads-named\""), header);
            assertTrue(dump.contains("running: its stack is that of thread \"dump-threads-named\""), dump);
        }
    }

    /**
     * A context's name is its IOThread's, which the program chooses: the dump quotes it wherever it
     * prints it ("Contexts:", each coroutine's {@code context=}), so a line break cannot forge a frame
     * line; C1 controls and bidi overrides are escaped too.
     */
    @Test
    void anIOThreadNameCannotForgeAFrameLine() throws Exception {
        String name = "io\n\tat evil.Forged.frame(Forged.java:1)\u009b\u202e\u2066";
        try (IOThread io = IOThread.start(name)) {
            AioContext ctx = io.context();
            CountDownLatch suspended = new CountDownLatch(1);
            Coroutine victim = Coroutine.create("dump-threads-victim", Coroutine::yield);
            ctx.scheduleOneshot(() -> {
                victim.enter(ctx);
                suspended.countDown();
            });
            suspended.await();
            String dump = dump();
            assertFalse(dump.contains("\n\tat evil.Forged.frame(Forged.java:1)"), dump);
            assertFalse(dump.contains("\u009b") || dump.contains("\u202e") || dump.contains("\u2066"), dump);
            String quoted = "\"io\\n\\tat evil.Forged.frame(Forged.java:1)\\u009b\\u202e\\u2066\"";
            assertTrue(dump.contains("\n  " + quoted + " thread=" + quoted + ": "), dump);
            assertTrue(dump.contains(" context=" + quoted + " thread=" + quoted), dump);
            CountDownLatch gone = new CountDownLatch(1);
            ctx.scheduleOneshot(() -> {
                victim.enter(ctx);
                gone.countDown();
            });
            gone.await();
        }
    }
}
