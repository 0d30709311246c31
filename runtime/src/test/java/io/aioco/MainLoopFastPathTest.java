package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv13a: the main loop's iteration (MainLoop.waitOnce, which polls the main context with
 * its hooks) when the main context has a bottom half ready at every iteration, so that every
 * blocking poll takes 27cbf2a's fast path: the iohandler context's channel (a guest of the main
 * context's selector) and its can-read function still get their turn at each iteration, and the
 * big lock stays held (the fast path never blocks).
 */
@Timeout(60)
class MainLoopFastPathTest {
    @BeforeAll
    static void init() {
        MainLoop.init();
    }

    @Test
    void theIohandlerChannelRunsInEveryIterationOfASelfReschedulingMainBottomHalf() throws IOException {
        Pipe pipe = Pipe.open();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger canReadAsked = new AtomicInteger();
        AtomicInteger runs = new AtomicInteger();
        boolean[] lockedInside = {true};
        BottomHalf[] self = new BottomHalf[1];
        self[0] = MainLoop.newBottomHalf(() -> {
            runs.incrementAndGet();
            lockedInside[0] &= MainLoop.iothreadLocked();
            self[0].schedule();
        });
        try {
            MainLoop.setFdHandler(pipe.source(), () -> {
                canReadAsked.incrementAndGet();
                return 1;
            }, () -> {
                reads.incrementAndGet();
                try {
                    pipe.source().read(ByteBuffer.allocate(16));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, null);
            self[0].schedule();
            // The first iteration registers the handler (its update) and runs the bottom half.
            assertTrue(MainLoop.waitOnce(false));
            int base = reads.get();
            for (int round = 1; round <= 5; round++) {
                assertEquals(1, pipe.sink().write(ByteBuffer.wrap(new byte[] {1})));
                int before = runs.get();
                assertTrue(MainLoop.waitOnce(false));
                assertEquals(before + 1, runs.get(), "the bottom half runs once per iteration");
                assertEquals(base + round, reads.get(), "the iohandler channel was served in the same iteration");
            }
            assertTrue(canReadAsked.get() >= 5);
            assertTrue(lockedInside[0], "the big lock is held in callbacks");
        } finally {
            self[0].delete();
            MainLoop.setFdHandler(pipe.source(), null, null);
            MainLoop.waitOnce(true);
            pipe.source().close();
            pipe.sink().close();
        }
        assertFalse(self[0].isScheduled());
    }

    /**
     * MainLoop.notifyEvent from another thread while the main context always has a bottom half:
     * the iteration that accepts it returns; the loop checking its condition after each iteration
     * sees the other thread's flag. Then, with the bottom half gone, a notify ends a real wait.
     */
    @Test
    void aNotifyRacingWithFastIterationsEndsTheWaitOnceLoop() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf[] self = new BottomHalf[1];
        self[0] = MainLoop.newBottomHalf(() -> {
            if (runs.incrementAndGet() < 200) {
                self[0].schedule();
            }
        });
        self[0].schedule();
        java.util.concurrent.atomic.AtomicBoolean flag = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        Thread other = new Thread(() -> {
            try {
                go.await();
            } catch (InterruptedException e) {
                return;
            }
            flag.set(true);
            MainLoop.notifyEvent();
        }, "rv13a-notifier");
        other.start();
        go.countDown();
        while (!flag.get()) {
            MainLoop.waitOnce(false);
        }
        other.join();
        self[0].delete();
        MainLoop.waitOnce(true);
    }
}
