package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.IOThread;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@code Coroutine.dump} from another thread while an IOThread runs long batches of scheduled
 * coroutines: the dump copies the loop's run queue, which only the loop owns, and a racy copy holds
 * slots the loop has just emptied. Invariant: no dump throws. Found by a hostile review (a
 * NullPointerException out of the dump); a stress test, so it catches that mutation only in some
 * runs (the review saw it after 263 and 432 batches of 20,000).
 */
class CoroutineDumpRaceTest {
    private static final int BATCHES = Integer.getInteger("aioco.dumprace.batches", 150);

    @Test
    void dumpingWhileALoopRunsScheduledCoroutinesNeverThrows() throws Exception {
        IOThread io = IOThread.start("dump-race");
        try {
            AioContext ctx = io.context();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<Throwable> dumpFailure = new AtomicReference<>();
            Thread dumper = new Thread(() -> {
                StringBuilder sink = new StringBuilder();
                while (!stop.get() && dumpFailure.get() == null) {
                    try {
                        sink.setLength(0);
                        Coroutine.dump(sink);
                    } catch (Throwable t) {
                        dumpFailure.set(t);
                    }
                }
            }, "dumper");
            dumper.start();
            int batches = 0;
            for (; batches < BATCHES && dumpFailure.get() == null; batches++) {
                int n = 20_000; // a long toRun: the loop polls it while the dumper copies it
                CountDownLatch ran = new CountDownLatch(n);
                for (int i = 0; i < n; i++) {
                    ctx.coSchedule(Coroutine.create(() -> { // never suspends
                        ran.countDown();
                        for (int k = 0; k < 50; k++) {
                            Math.sqrt(k);
                        }
                    }));
                }
                assertTrue(ran.await(1, TimeUnit.MINUTES), "batch " + batches + " did not run");
            }
            stop.set(true);
            dumper.join();
            Throwable failure = dumpFailure.get();
            if (failure != null) {
                java.io.StringWriter trace = new java.io.StringWriter();
                failure.printStackTrace(new java.io.PrintWriter(trace));
                throw new AssertionError("Coroutine.dump threw after " + batches + " batches:\n" + trace, failure);
            }
            assertEquals(BATCHES, batches);
        } finally {
            io.close();
        }
    }

}
