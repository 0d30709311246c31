package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.CoSleep;
import io.aioco.Coroutine;
import io.aioco.CoroutineCallable;
import io.aioco.CoroutineFn;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A wait refused because a plain frame lies between it and the coroutine ("cannot suspend
 * coroutine: ... which is not instrumented") is dropped with the refusal: if the caller catches the
 * refusal and goes on, the refused wait is never published at the coroutine's next yield (it would
 * join a queue it no longer waits in, and a queue wait given a CoMutex would release the mutex the
 * coroutine still believes it holds), and a timeout scope opened below the refusing frame is closed
 * (its deadline would cancel a later wait outside it).
 *
 * <p>The refused waits are armed by an instrumented caller ({@link #waitIn}, {@link #sleepWithin}),
 * so the runtime registers them; the refusal comes only when that caller finds its own caller plain.
 * What the waiting function did before its wait's publication is undone too (a CoSleep's claim:
 * review rv17c).
 */
class RefusedWaitIsDroppedTest {
    /** Far beyond anything these tests advance: the coroutine's real wait, which nothing ends. */
    private static final long AN_HOUR_NS = 3_600_000_000_000L;

    @CoroutineFn
    static void waitIn(CoQueue queue, CoMutex lockOrNull) {
        queue.await(lockOrNull);
    }

    @CoroutineFn
    static void sleepOn(CoSleep sleep) {
        sleep.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS);
    }

    @CoroutineFn
    static Object sleepWithin(long timeoutNs, long sleepNs) throws Exception {
        return Coroutine.withTimeoutNs(ClockType.VIRTUAL, timeoutNs, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, sleepNs);
            return null;
        });
    }

    /** What a test's coroutine does: {@code before}, the refused call through a plain lambda, {@code after}. */
    private record Script(CoroutineCallable<?> before, Runnable plain, CoroutineCallable<?> after) {}

    /**
     * Spawns a coroutine (marked abandoned: the tests leave it waiting) that runs the script,
     * catching the refusal, and polls {@code ctx} until the refusal was caught; checks it is the
     * refusal.
     */
    private static CompletableFuture<Object> runUntilRefused(AioContext ctx, Script script) {
        AtomicReference<Throwable> refused = new AtomicReference<>();
        CompletableFuture<Object> f = ctx.spawn(() -> {
            Coroutine.self().abandon();
            script.before().call();
            try {
                script.plain().run();
            } catch (IllegalStateException e) {
                refused.set(e);
            }
            script.after().call();
            return null;
        });
        for (int i = 0; i < 1000 && refused.get() == null; i++) {
            ctx.poll(false);
        }
        Throwable e = refused.get();
        assertNotNull(e, "the coroutine never reached its refused wait: " + f);
        assertTrue(e instanceof IllegalStateException && e.getMessage().startsWith("cannot suspend coroutine"),
                "not the refusal: " + e);
        return f;
    }

    private static void pollTimes(AioContext ctx, int n) {
        for (int i = 0; i < n; i++) {
            ctx.poll(false);
        }
    }

    @Test
    void aRefusedQueueWaitNeverJoinsTheQueue() {
        try (AioContext ctx = AioContext.create()) {
            CoQueue queue = new CoQueue();
            AtomicReference<String> woke = new AtomicReference<>();
            CompletableFuture<Object> f = runUntilRefused(ctx, new Script(() -> null, () -> waitIn(queue, null), () -> {
                Coroutine.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS); // the real wait
                woke.set("woke");
                return null;
            }));
            pollTimes(ctx, 10);
            assertTrue(queue.isEmpty(), "the refused wait joined the queue at the coroutine's next yield");
            CompletableFuture<Boolean> next = ctx.spawn(queue::next); // next() is a coroutine function
            for (int i = 0; i < 10 && !next.isDone(); i++) {
                ctx.poll(false);
            }
            assertFalse(next.join(), "next() woke the coroutine through its refused wait");
            pollTimes(ctx, 10);
            assertEquals(null, woke.get(), "the coroutine left its sleep, woken through the refused wait");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }

    @Test
    void aRefusedQueueWaitNeverReleasesTheMutexTheCoroutineHolds() {
        try (AioContext ctx = AioContext.create()) {
            CoQueue queue = new CoQueue();
            CoMutex mutex = new CoMutex();
            CompletableFuture<Object> f = runUntilRefused(ctx, new Script(() -> {
                mutex.lock();
                return null;
            }, () -> waitIn(queue, mutex), () -> {
                Coroutine.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS); // holding the mutex
                mutex.unlock();
                return null;
            }));
            pollTimes(ctx, 10);
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
            AtomicReference<String> yielded = new AtomicReference<>();
            CompletableFuture<Object> f = runUntilRefused(ctx, new Script(() -> {
                mutex.lock();
                return null;
            }, () -> waitIn(queue, mutex), () -> {
                yielded.set("yielded");
                Coroutine.yield(); // no wait of its own: nothing may be published here
                mutex.unlock();
                return null;
            }));
            assertEquals("yielded", yielded.get());
            assertTrue(mutex.isLocked(), "the plain yield published the refused wait: the mutex was released");
            assertTrue(queue.isEmpty(), "the plain yield published the refused wait: it joined the queue");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }

    @Test
    void aRefusedTimeoutScopeIsClosedWithTheRefusal() {
        ClockType.pauseVirtual();
        try (AioContext ctx = AioContext.create()) {
            AtomicReference<Object> outcome = new AtomicReference<>();
            Runnable plain = () -> {
                try {
                    sleepWithin(1_000_000_000L, 10_000_000_000L); // a 1 s scope around a 10 s sleep
                } catch (RuntimeException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IllegalArgumentException(e);
                }
            };
            CompletableFuture<Object> f = runUntilRefused(ctx, new Script(() -> null, plain, () -> {
                try {
                    Coroutine.sleepNs(ClockType.VIRTUAL, 5_000_000_000L); // no deadline around this one
                    outcome.set("slept");
                } catch (Exception e) {
                    outcome.set(e);
                }
                return null;
            }));
            ClockType.advanceVirtualNs(2_000_000_000L); // past the refused scope's deadline
            pollTimes(ctx, 10);
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

    @Test
    void aRefusedSleepOnACoSleepLeavesItFree() {
        try (AioContext ctx = AioContext.create()) {
            CoSleep sleep = new CoSleep();
            AtomicReference<Object> again = new AtomicReference<>();
            CompletableFuture<Object> f = runUntilRefused(ctx, new Script(() -> null, () -> sleepOn(sleep), () -> {
                try {
                    sleep.sleepNs(ClockType.VIRTUAL, AN_HOUR_NS); // the real sleep, on the same CoSleep
                    again.set("slept");
                } catch (IllegalStateException e) {
                    again.set(e);
                }
                return null;
            }));
            pollTimes(ctx, 10);
            assertEquals(null, again.get(), "the CoSleep stayed claimed by the refused sleep");
            assertFalse(f.isDone(), "the coroutine ended: " + f);
        }
    }
}
