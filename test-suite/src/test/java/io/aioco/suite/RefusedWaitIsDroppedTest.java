package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A wait refused because a plain frame lies between it and the coroutine ("cannot suspend
 * coroutine: ... which is not instrumented") is dropped with the refusal: if the caller catches the
 * refusal and goes on, the refused wait is never published at the coroutine's next real yield (it
 * would join a queue it no longer waits in, and a queue wait given a CoMutex would release the
 * mutex the coroutine still believes it holds).
 */
class RefusedWaitIsDroppedTest {
    /** Far beyond anything these tests advance: the coroutine's real wait, which nothing ends. */
    private static final long AN_HOUR_NS = 3_600_000_000_000L;

    /** Polls {@code ctx} until {@code done} is set, at most a bounded number of rounds. */
    private static void pollUntil(AioContext ctx, AtomicReference<?> done) {
        for (int i = 0; i < 1000 && done.get() == null; i++) {
            ctx.poll(false);
        }
        assertNotNull(done.get(), "the coroutine never reached its refused wait");
    }

    private static void assertRefusal(Throwable e) {
        assertTrue(e instanceof IllegalStateException && e.getMessage().startsWith("cannot suspend coroutine"),
                "not the refusal: " + e);
    }

    /**
     * A woven coroutine function that waits: called from a plain frame, the queue's wait is armed
     * by this instrumented caller (so the queue registers it) and the refusal comes only when this
     * function finds its own caller plain.
     */
    @CoroutineFn
    static void waitIn(CoQueue queue, CoMutex lockOrNull) {
        queue.await(lockOrNull);
    }

    @Test
    void aRefusedQueueWaitNeverJoinsTheQueue() {
        try (AioContext ctx = AioContext.create()) {
            CoQueue queue = new CoQueue();
            AtomicReference<Throwable> refused = new AtomicReference<>();
            AtomicBoolean woke = new AtomicBoolean();
            CompletableFuture<Object> f = ctx.spawn(() -> {
                Coroutine.self().abandon(); // dropped on purpose: its hour-long sleep never ends
                Runnable plain = () -> waitIn(queue, null); // a plain lambda: the wait cannot suspend through it
                try {
                    plain.run();
                } catch (IllegalStateException e) {
                    refused.set(e);
                }
                Coroutine.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS); // the real wait
                woke.set(true);
                return null;
            });
            pollUntil(ctx, refused);
            assertRefusal(refused.get());
            for (int i = 0; i < 10; i++) {
                ctx.poll(false);
            }
            assertTrue(queue.isEmpty(), "the refused wait joined the queue at the coroutine's next yield");
            CompletableFuture<Boolean> next = ctx.spawn(queue::next); // next() is a coroutine function
            for (int i = 0; i < 10 && !next.isDone(); i++) {
                ctx.poll(false);
            }
            assertFalse(next.join(), "next() woke the coroutine through its refused wait");
            for (int i = 0; i < 10; i++) {
                ctx.poll(false);
            }
            assertFalse(woke.get(), "the coroutine left its sleep, woken through the refused wait");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }

    @Test
    void aRefusedQueueWaitNeverReleasesTheMutexTheCoroutineHolds() {
        try (AioContext ctx = AioContext.create()) {
            CoQueue queue = new CoQueue();
            CoMutex mutex = new CoMutex();
            AtomicReference<Throwable> refused = new AtomicReference<>();
            CompletableFuture<Object> f = ctx.spawn(() -> {
                Coroutine.self().abandon();
                mutex.lock();
                Runnable plain = () -> waitIn(queue, mutex);
                try {
                    plain.run();
                } catch (IllegalStateException e) {
                    refused.set(e);
                }
                Coroutine.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS); // holding the mutex
                mutex.unlock();
                return null;
            });
            pollUntil(ctx, refused);
            assertRefusal(refused.get());
            for (int i = 0; i < 10; i++) {
                ctx.poll(false);
            }
            assertTrue(mutex.isLocked(), "the refused wait released the mutex its coroutine still holds");
            assertTrue(queue.isEmpty(), "the refused wait joined the queue");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }

    @Test
    void aRefusedQueueWaitIsNotPublishedAtThePlainYieldAfterIt() {
        try (AioContext ctx = AioContext.create()) {
            CoQueue queue = new CoQueue();
            CoMutex mutex = new CoMutex();
            AtomicReference<Throwable> refused = new AtomicReference<>();
            AtomicBoolean yielded = new AtomicBoolean();
            CompletableFuture<Object> f = ctx.spawn(() -> {
                Coroutine.self().abandon();
                mutex.lock();
                Runnable plain = () -> waitIn(queue, mutex);
                try {
                    plain.run();
                } catch (IllegalStateException e) {
                    refused.set(e);
                }
                yielded.set(true);
                Coroutine.yield(); // no wait of its own: nothing may be published here
                mutex.unlock();
                return null;
            });
            pollUntil(ctx, refused);
            assertRefusal(refused.get());
            assertTrue(yielded.get());
            assertTrue(mutex.isLocked(), "the plain yield published the refused wait: the mutex was released");
            assertTrue(queue.isEmpty(), "the plain yield published the refused wait: it joined the queue");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }

    /** A woven coroutine function that opens a timeout scope and waits in it (see {@link #waitIn}). */
    @CoroutineFn
    static Object sleepWithin(long timeoutNs, long sleepNs) throws Exception {
        return Coroutine.withTimeoutNs(ClockType.VIRTUAL, timeoutNs, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, sleepNs);
            return null;
        });
    }

    @Test
    void aRefusedTimeoutScopeIsClosedWithTheRefusal() {
        ClockType.pauseVirtual();
        try (AioContext ctx = AioContext.create()) {
            AtomicReference<Throwable> refused = new AtomicReference<>();
            AtomicReference<Object> outcome = new AtomicReference<>();
            CompletableFuture<Object> f = ctx.spawn(() -> {
                Coroutine.self().abandon();
                Runnable plain = () -> {
                    try {
                        sleepWithin(1_000_000_000L, 10_000_000_000L); // a 1 s scope around a 10 s sleep
                    } catch (RuntimeException e) {
                        throw e;
                    } catch (Exception e) {
                        throw new IllegalArgumentException(e);
                    }
                };
                try {
                    plain.run();
                } catch (IllegalStateException e) {
                    refused.set(e);
                }
                try {
                    Coroutine.sleepNs(ClockType.VIRTUAL, 5_000_000_000L); // no deadline around this one
                    outcome.set("slept");
                } catch (Exception e) {
                    outcome.set(e);
                }
                return null;
            });
            pollUntil(ctx, refused);
            assertRefusal(refused.get());
            ClockType.advanceVirtualNs(2_000_000_000L); // past the refused scope's deadline
            for (int i = 0; i < 10; i++) {
                ctx.poll(false);
            }
            assertEquals(null, outcome.get(), "the refused scope's deadline ended a wait outside it");
            ClockType.advanceVirtualNs(4_000_000_000L); // past the sleep's end
            for (int i = 0; i < 1000 && outcome.get() == null; i++) {
                ctx.poll(false);
            }
            assertEquals("slept", outcome.get());
            assertTrue(f.isDone());
        } finally {
            ClockType.resumeVirtual();
        }
    }
}
