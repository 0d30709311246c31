package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.loop.Signals;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The main loop is process-wide: every test here runs on the thread that called init() (JUnit's
 * thread), leaves nothing registered, and drives the loop with waitOnce until what it waits for
 * happened.
 */
@Timeout(60)
class MainLoopTest {
    @BeforeAll
    static void init() {
        MainLoop.init();
    }

    private static void waitUntil(BooleanSupplier done) {
        while (!done.getAsBoolean()) {
            MainLoop.waitOnce(false);
        }
    }

    @Test
    void initIsIdempotentAndMakesThisThreadTheMainLoopThread() throws Exception {
        AioContext main = MainLoop.context();
        MainLoop.init();
        assertSame(main, MainLoop.context());
        assertSame(main, AioContext.current());
        assertTrue(MainLoop.iothreadLocked());
        assertFalse(LoopTesting.onFreshThread(MainLoop::iothreadLocked));
        assertEquals(null, LoopTesting.onFreshThread(AioContext::current));
    }

    @Test
    void bottomHalfOfTheMainContextRunsInWaitOnce() {
        AtomicInteger runs = new AtomicInteger();
        BottomHalf bh = MainLoop.newBottomHalf(runs::incrementAndGet);
        bh.schedule();
        assertTrue(MainLoop.waitOnce(false));
        assertEquals(1, runs.get());
        bh.delete();
    }

    @Test
    void otherThreadsTakeTheBigLockWhileTheMainLoopBlocks() throws Exception {
        List<String> events = new ArrayList<>();
        AtomicBoolean heldByOther = new AtomicBoolean();
        AtomicBoolean mainRanWhileOtherHeld = new AtomicBoolean();
        AtomicBoolean sawLockedBefore = new AtomicBoolean(true);
        AtomicBoolean sawLockedInside = new AtomicBoolean();
        AtomicBoolean done = new AtomicBoolean();
        BottomHalf probe = MainLoop.newBottomHalf(() -> {
            if (heldByOther.get()) {
                mainRanWhileOtherHeld.set(true);
            }
        });
        Thread other = new Thread(() -> {
            sawLockedBefore.set(MainLoop.iothreadLocked());
            MainLoop.lockIothread();
            heldByOther.set(true);
            sawLockedInside.set(MainLoop.iothreadLocked());
            probe.schedule(); // wakes the main loop, which must wait for the lock to run it
            synchronized (events) {
                events.add("other holds the lock");
            }
            heldByOther.set(false);
            MainLoop.unlockIothread();
            MainLoop.context().scheduleOneshot(() -> done.set(true));
        });
        other.start();
        waitUntil(done::get);
        other.join();
        assertFalse(sawLockedBefore.get());
        assertTrue(sawLockedInside.get());
        assertFalse(mainRanWhileOtherHeld.get());
        assertEquals(List.of("other holds the lock"), events);
        assertTrue(MainLoop.iothreadLocked());
        probe.delete();
    }

    @Test
    void bigLockMisuseFailsLoudly() throws Exception {
        IllegalStateException e = assertThrows(IllegalStateException.class, MainLoop::lockIothread);
        assertTrue(e.getMessage().contains("already holds"), e.getMessage());
        Throwable fromOther = LoopTesting.onFreshThread(() -> {
            try {
                MainLoop.unlockIothread();
                return null;
            } catch (IllegalStateException ex) {
                return ex;
            }
        });
        assertTrue(fromOther.getMessage().contains("without holding"), fromOther.getMessage());
        Throwable waitFromOther = LoopTesting.onFreshThread(() -> {
            try {
                MainLoop.waitOnce(true);
                return null;
            } catch (IllegalStateException ex) {
                return ex;
            }
        });
        assertTrue(waitFromOther.getMessage().contains("main-loop thread"), waitFromOther.getMessage());
    }

    @Test
    void childWatchDeliversTheExitCodeOnTheMainLoop() throws Exception {
        int[] code = {-1};
        Thread[] on = new Thread[1];
        Process child = new ProcessBuilder("sh", "-c", "exit 3").start();
        MainLoop.addChildWatch(child, exit -> {
            code[0] = exit;
            on[0] = Thread.currentThread();
        });
        waitUntil(() -> on[0] != null);
        assertEquals(3, code[0]);
        assertSame(Thread.currentThread(), on[0]);

        int[] trueCode = {-1};
        MainLoop.addChildWatch(new ProcessBuilder("true").start(), exit -> trueCode[0] = exit);
        waitUntil(() -> trueCode[0] != -1);
        assertEquals(0, trueCode[0]);
    }

    @Test
    void fdHandlerWithCanReadIsNotCalledWhileItCannotRead() throws Exception {
        Pipe p = Pipe.open();
        try (Pipe.SourceChannel source = p.source(); Pipe.SinkChannel sink = p.sink()) {
            AtomicInteger room = new AtomicInteger(0);
            StringBuilder got = new StringBuilder();
            MainLoop.setFdHandler(source, room::get, () -> {
                ByteBuffer buf = ByteBuffer.allocate(room.get());
                try {
                    source.read(buf);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                buf.flip();
                while (buf.hasRemaining()) {
                    got.append((char) buf.get());
                }
                room.set(0);
            }, null);
            sink.write(ByteBuffer.wrap("abc".getBytes()));
            for (int i = 0; i < 5; i++) {
                MainLoop.waitOnce(true);
            }
            assertEquals("", got.toString());
            room.set(2);
            MainLoop.notifyEvent(); // canRead grew outside the loop
            waitUntil(() -> got.length() > 0);
            assertEquals("ab", got.toString());
            room.set(5);
            MainLoop.notifyEvent();
            waitUntil(() -> got.length() > 2);
            assertEquals("abc", got.toString());
            MainLoop.setFdHandler(source, null, null);
        }
    }

    @Test
    void iohandlerCallbacksDoNotRunInANestedPollOfTheMainContext() throws Exception {
        Pipe p = Pipe.open();
        EventNotifier notifier = new EventNotifier();
        try (Pipe.SourceChannel source = p.source(); Pipe.SinkChannel sink = p.sink(); notifier) {
            AtomicBoolean nested = new AtomicBoolean();
            AtomicInteger duringNested = new AtomicInteger();
            AtomicInteger fdRuns = new AtomicInteger();
            AtomicInteger notifierRuns = new AtomicInteger();
            MainLoop.setFdHandler(source, () -> {
                fdRuns.incrementAndGet();
                if (nested.get()) {
                    duringNested.incrementAndGet();
                }
                try {
                    source.read(ByteBuffer.allocate(10));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, null);
            MainLoop.setEventNotifierHandler(notifier, n -> {
                notifierRuns.incrementAndGet();
                if (nested.get()) {
                    duringNested.incrementAndGet();
                }
                n.testAndClear();
            });
            AtomicInteger nestedBhRuns = new AtomicInteger();
            BottomHalf nestedWork = MainLoop.newBottomHalf(nestedBhRuns::incrementAndGet);
            MainLoop.context().scheduleOneshot(() -> {
                try {
                    sink.write(ByteBuffer.wrap("x".getBytes()));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                notifier.set();
                nested.set(true);
                nestedWork.schedule();
                while (nestedBhRuns.get() == 0) {
                    MainLoop.context().poll(true); // nested: serves the main context only
                }
                MainLoop.context().poll(false);
                nested.set(false);
            });
            waitUntil(() -> fdRuns.get() > 0 && notifierRuns.get() > 0);
            assertEquals(0, duringNested.get());
            MainLoop.setFdHandler(source, null, null);
            MainLoop.setEventNotifierHandler(notifier, null);
            nestedWork.delete();
        }
    }

    @Test
    void eventNotifierHandlerRunsOnTheMainLoopWhenSetFromAnotherThread() throws Exception {
        try (EventNotifier notifier = new EventNotifier()) {
            Thread[] on = new Thread[1];
            MainLoop.setEventNotifierHandler(notifier, n -> {
                n.testAndClear();
                on[0] = Thread.currentThread();
            });
            Thread setter = new Thread(notifier::set);
            setter.start();
            waitUntil(() -> on[0] != null);
            setter.join();
            assertSame(Thread.currentThread(), on[0]);
            MainLoop.setEventNotifierHandler(notifier, null);
        }
    }

    @Test
    void pollingCallbackReturningTrueKeepsWaitOnceFromBlocking() {
        AtomicInteger calls = new AtomicInteger();
        BooleanSupplier cb = () -> {
            calls.incrementAndGet();
            return true;
        };
        MainLoop.addPollingCallback(cb);
        try {
            // With nothing else to do, these would block forever without the callback.
            assertFalse(MainLoop.waitOnce(false));
            assertFalse(MainLoop.waitOnce(false));
            assertEquals(2, calls.get());
        } finally {
            MainLoop.removePollingCallback(cb);
        }
        MainLoop.waitOnce(true);
        assertEquals(2, calls.get());
    }

    @Test
    void signalIsDeliveredOnTheMainLoop() {
        Thread[] on = new Thread[1];
        MainLoop.onSignal("HUP", () -> on[0] = Thread.currentThread());
        Signals.raise("HUP");
        waitUntil(() -> on[0] != null);
        assertSame(Thread.currentThread(), on[0]);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MainLoop.onSignal("NO-SUCH-SIGNAL", () -> {}));
        assertTrue(e.getMessage().contains("NO-SUCH-SIGNAL"), e.getMessage());
    }

    @Test
    void callbackExceptionGoesToTheUncaughtHandlerAndPendingWorkStaysPending() {
        Thread me = Thread.currentThread();
        Thread.UncaughtExceptionHandler previous = me.getUncaughtExceptionHandler();
        List<Throwable> reported = new ArrayList<>();
        me.setUncaughtExceptionHandler((t, e) -> reported.add(e));
        try {
            AtomicInteger after = new AtomicInteger();
            MainLoop.context().scheduleOneshot(() -> {
                throw new IllegalStateException("main loop callback failed");
            });
            MainLoop.context().scheduleOneshot(after::incrementAndGet);
            assertTrue(MainLoop.waitOnce(false));
            assertEquals(1, reported.size());
            assertEquals("main loop callback failed", reported.get(0).getMessage());
            waitUntil(() -> after.get() == 1);
        } finally {
            me.setUncaughtExceptionHandler(previous);
        }
    }

    @Test
    void notifyEventFromAnotherThreadEndsABlockingWaitOnce() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        Thread notifier = new Thread(() -> {
            LoopTesting.awaitParked(main);
            MainLoop.notifyEvent();
            started.countDown();
        });
        notifier.start();
        assertFalse(MainLoop.waitOnce(false));
        notifier.join();
    }

    /**
     * Issue 14 item 7 on the main loop: an interrupt a callback leaves during waitOnce is cleared at
     * its end (logged at most once), so the next blocking waitOnce blocks until its work arrives
     * instead of returning at once; an interrupt the caller had before stays set.
     */
    @Test
    void anInterruptLeftByACallbackIsClearedAndOneTheCallerHadStays() throws Exception {
        BottomHalf interrupter = MainLoop.newBottomHalf(() -> Thread.currentThread().interrupt());
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            interrupter.schedule();
            waitUntil(() -> !interrupter.isScheduled());
            assertFalse(Thread.currentThread().isInterrupted(), "the callback's interrupt was not cleared");
            interrupter.schedule();
            waitUntil(() -> !interrupter.isScheduled());
            assertFalse(Thread.currentThread().isInterrupted());
            assertTrue(log.count("cleared an interrupt status") <= 1);
            // The caller's own interrupt is the caller's: it stays.
            Thread.currentThread().interrupt();
            MainLoop.waitOnce(true);
            assertTrue(Thread.interrupted());
        } finally {
            interrupter.delete();
            Thread.interrupted();
        }
    }
}
