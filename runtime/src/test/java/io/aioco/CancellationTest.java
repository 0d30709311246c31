package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 16 items 2 and 4: {@link Coroutine#cancel()} at every waiting point, and the races between
 * a cancellation and a hand-off. Coroutines are entered in {@code ctx}, which the test thread
 * polls; the VIRTUAL clock is paused, so nothing happens unless the test makes it happen.
 */
@Timeout(60)
class CancellationTest {
    static final String LOCK = "lock";
    static final String UNLOCK = "unlock";
    static final String V = "()V";
    static final String SLEEP_DESC = "(Lio/aioco/ClockType;J)V";

    private final AioContext ctx = AioContext.create();
    /** What each coroutine's calls threw, in order, by coroutine name. */
    private final List<String> events = new ArrayList<>();

    @BeforeEach
    void pause() {
        ClockType.pauseVirtual();
    }

    @AfterEach
    void close() {
        ctx.close();
        ClockType.resumeVirtual();
    }

    /** A call whose function's exception is recorded as "who: Simple name" instead of ending the coroutine. */
    private HandWoven.Call catching(String who, String name, String descriptor, Object target, Runnable body) {
        return call(name, descriptor, target, () -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                events.add(who + ": " + e.getClass().getSimpleName());
            }
        });
    }

    private HandWoven.Call note(String event) {
        return plain(() -> events.add(event));
    }

    private HandWoven.Call sleepCall(String who, long ns) {
        return catching(who, "sleepNs", SLEEP_DESC, Coroutine.class, () -> Coroutine.sleepNs(ClockType.VIRTUAL, ns));
    }

    private Coroutine start(HandWoven body) {
        Coroutine co = Coroutine.create(body);
        co.enter(ctx);
        return co;
    }

    @Test
    void cancelEndsASleepAtOnceAndTheCoroutineCatchesItAndGoesOn() {
        HandWoven body = new HandWoven(sleepCall("a", 1_000_000), note("a caught, goes on"),
                yieldCall(), note("a yielded and was resumed"));
        Coroutine co = start(body);
        drain(ctx);
        assertFalse(co.isCancelled());
        co.cancel();
        assertTrue(co.isCancelled());
        drain(ctx);
        assertEquals(List.of("a: CancellationException", "a caught, goes on"), events);
        co.enter(ctx); // a plain yield is not a cancellation point: whoever enters resumes it
        assertTrue(body.finished());
        assertEquals("a yielded and was resumed", events.get(2));
    }

    @Test
    void theFlagStaysSetAndEveryLaterWaitThrowsAtOnce() {
        HandWoven body = new HandWoven(sleepCall("a", 1_000), sleepCall("a", 1_000), note("done"));
        Coroutine co = start(body);
        co.cancel();
        drain(ctx);
        assertTrue(body.finished(), "the second sleep must throw without suspending");
        assertEquals(List.of("a: CancellationException", "a: CancellationException", "done"), events);
        assertEquals(2, body.suspensions() + 1, "only the first sleep suspended");
    }

    @Test
    void aCoroutineCancelledBeforeItsFirstWaitThrowsThere() {
        Coroutine co = Coroutine.create(new HandWoven(note("running"), sleepCall("a", 1_000)));
        co.cancel();
        co.enter(ctx);
        assertTrue(co.isTerminated());
        assertEquals(List.of("running", "a: CancellationException"), events);
    }

    @Test
    void cancelFromAnotherThreadResumesTheCoroutineOnItsOwnContext() throws Exception {
        List<Thread> ranOn = new ArrayList<>();
        HandWoven body = new HandWoven(sleepCall("a", 1_000_000), plain(() -> ranOn.add(Thread.currentThread())));
        Coroutine co = start(body);
        LoopTesting.onFreshThread(() -> {
            co.cancel();
            return null;
        });
        assertFalse(body.finished(), "resumed on the canceller's thread instead of its context");
        drain(ctx);
        assertEquals(List.of(Thread.currentThread()), ranOn);
        assertEquals(List.of("a: CancellationException"), events);
    }

    @Test
    void aCancelledSleepDeletesItsTimer() {
        Coroutine co = start(new HandWoven(sleepCall("a", 100), yieldCall()));
        co.cancel();
        drain(ctx);
        ClockType.advanceVirtualNs(100); // the timer must not wake the coroutine (now in a plain yield)
        drain(ctx);
        assertEquals(List.of("a: CancellationException"), events);
        assertFalse(co.isTerminated());
    }

    @Test
    void aCancelledMutexWaiterLeavesTheQueueAndTheNextWaiterGetsTheLock() {
        CoMutex mutex = new CoMutex();
        start(new HandWoven(call(LOCK, V, mutex, mutex::lock), sleepCall("holder", 100), call(UNLOCK, V, mutex, mutex::unlock)));
        Coroutine b = start(new HandWoven(catching("b", LOCK, V, mutex, mutex::lock), note("b after lock")));
        HandWoven cBody = new HandWoven(call(LOCK, V, mutex, mutex::lock), note("c has the lock"), call(UNLOCK, V, mutex, mutex::unlock));
        start(cBody);
        b.cancel();
        drain(ctx);
        assertEquals(List.of("b: CancellationException", "b after lock"), events);
        assertFalse(mutex.isHeldBy(b));
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertTrue(cBody.finished(), "the unlock must hand the lock to c, not to the cancelled b");
        assertFalse(mutex.isLocked(), "the lock was lost");
    }

    @Test
    void aWaiterHandedTheLockBeforeItsCancellationKeepsItAndSeesTheCancellationAtItsNextWait() {
        CoMutex mutex = new CoMutex();
        Coroutine[] b = new Coroutine[1];
        // the holder unlocks (handing the lock to b, which runs after the holder yields) and then
        // cancels b: the hand-off came first
        Coroutine holder = start(new HandWoven(call(LOCK, V, mutex, mutex::lock), yieldCall(), call(UNLOCK, V, mutex, mutex::unlock),
                plain(() -> b[0].cancel())));
        HandWoven bBody = new HandWoven(catching("b", LOCK, V, mutex, mutex::lock),
                plain(() -> events.add("b holds: " + mutex.isHeldBy(b[0]))), sleepCall("b", 1_000),
                call(UNLOCK, V, mutex, mutex::unlock));
        b[0] = start(bBody);
        holder.enter(ctx); // out of its plain yield: unlock, cancel b
        drain(ctx);
        assertEquals(List.of("b holds: true", "b: CancellationException"), events);
        assertTrue(bBody.finished());
        assertFalse(mutex.isLocked(), "b unlocked what it was handed");
    }

    @Test
    void aCancelledQueueWaiterDoesNotSwallowTheWakeUpMeantForTheNext() {
        CoQueue queue = new CoQueue();
        Coroutine a = start(new HandWoven(catching("a", "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null))));
        HandWoven bBody = new HandWoven(catching("b", "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null)),
                note("b woken"));
        start(bBody);
        a.cancel();
        assertTrue(queue.enterNext(null), "b still waits");
        drain(ctx);
        assertEquals(List.of("a: CancellationException", "b woken"), events);
        assertTrue(queue.isEmpty());
    }

    @Test
    void aQueueWaiterWokenBeforeItsCancellationReturnsNormally() {
        CoQueue queue = new CoQueue();
        HandWoven aBody = new HandWoven(catching("a", "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null)),
                note("a woken"), sleepCall("a", 10));
        Coroutine a = start(aBody);
        Coroutine.create(new HandWoven(call("next", "()Z", queue, queue::next), plain(a::cancel))).enter(ctx);
        drain(ctx);
        assertEquals(List.of("a woken", "a: CancellationException"), events);
        assertTrue(aBody.finished());
    }

    @Test
    void aCancelledQueueWaiterTakesItsMutexBackBeforeThrowing() {
        CoMutex mutex = new CoMutex();
        CoQueue queue = new CoQueue();
        Coroutine[] a = new Coroutine[1];
        HandWoven aBody = new HandWoven(call(LOCK, V, mutex, mutex::lock),
                catching("a", "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(mutex)),
                plain(() -> events.add("a holds: " + mutex.isHeldBy(a[0]))), call(UNLOCK, V, mutex, mutex::unlock));
        a[0] = start(aBody);
        // another coroutine holds the mutex when a is cancelled: a must wait for it, uncancellably
        Coroutine other = start(new HandWoven(call(LOCK, V, mutex, mutex::lock), yieldCall(), call(UNLOCK, V, mutex, mutex::unlock)));
        a[0].cancel();
        drain(ctx);
        assertEquals(List.of(), events, "a threw without its mutex");
        other.enter(ctx);
        drain(ctx);
        assertEquals(List.of("a: CancellationException", "a holds: true"), events);
        assertTrue(aBody.finished());
        assertFalse(mutex.isLocked());
    }

    @Test
    void aCancelledWriterLetsInTheReadersItHeldBack() {
        CoRwLock lock = new CoRwLock();
        Coroutine reader = start(new HandWoven(call("rdlock", V, lock, lock::rdlock), yieldCall(), call(UNLOCK, V, lock, lock::unlock)));
        Coroutine writer = start(new HandWoven(catching("w", "wrlock", V, lock, lock::wrlock)));
        HandWoven lateReader = new HandWoven(call("rdlock", V, lock, lock::rdlock), note("late reader in"),
                call(UNLOCK, V, lock, lock::unlock));
        start(lateReader);
        assertFalse(lateReader.finished(), "queued behind the writer");
        writer.cancel();
        drain(ctx);
        assertEquals(2, events.size());
        assertTrue(events.containsAll(List.of("w: CancellationException", "late reader in")), events.toString());
        reader.enter(ctx);
        assertTrue(lock.isFree());
    }

    @Test
    void aCancelledUpgradeHoldsItsReadLockAgainWhenItThrows() {
        CoRwLock lock = new CoRwLock();
        Coroutine other = start(new HandWoven(call("rdlock", V, lock, lock::rdlock), yieldCall(), call(UNLOCK, V, lock, lock::unlock)));
        HandWoven upgrader = new HandWoven(call("rdlock", V, lock, lock::rdlock),
                catching("u", "upgrade", V, lock, lock::upgrade), plain(() -> events.add("u: " + lock)),
                call(UNLOCK, V, lock, lock::unlock));
        Coroutine u = start(upgrader);
        assertFalse(upgrader.finished(), "waits for the other reader");
        u.cancel();
        drain(ctx);
        assertEquals(List.of("u: CancellationException", "u: " + "CoRwLock@" + Integer.toHexString(System.identityHashCode(lock))
                + "[2 readers]"), events);
        other.enter(ctx);
        assertTrue(lock.isFree());
    }

    @Test
    void aCancelledAwaitThrowsAndTheLaterCompletionIsDropped() {
        CompletableFuture<String> future = new CompletableFuture<>();
        HandWoven body = new HandWoven(catching("a", "await", "(Ljava/util/concurrent/CompletionStage;)Ljava/lang/Object;", Coroutine.class,
                () -> Coroutine.await(future)), yieldCall());
        Coroutine co = start(body);
        co.cancel();
        drain(ctx);
        future.complete("late");
        drain(ctx);
        assertEquals(List.of("a: CancellationException"), events);
        assertFalse(co.isTerminated(), "the completion must not resume the coroutine again");
    }

    @Test
    void aCancelledSubmitCoThrowsAtOnceWhileTheWorkRunsOnAndItsResultIsDropped() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch finished = new CountDownLatch(1);
        ThreadPool pool = ctx.threadPool();
        HandWoven body = new HandWoven(catching("a", "submitCo", "(Ljava/util/concurrent/Callable;)Ljava/lang/Object;", pool, () -> {
            try {
                pool.submitCo(() -> {
                    started.countDown();
                    assertTrue(release.await(30, TimeUnit.SECONDS));
                    finished.countDown();
                    return "result";
                });
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }), yieldCall());
        Coroutine co = start(body);
        assertTrue(started.await(30, TimeUnit.SECONDS));
        co.cancel();
        drain(ctx);
        assertEquals(List.of("a: CancellationException"), events);
        release.countDown();
        assertTrue(finished.await(30, TimeUnit.SECONDS));
        while (ctx.poll(true) && finished.getCount() > 0) {
            // the completion is delivered in some poll
        }
        drain(ctx);
        assertFalse(co.isTerminated(), "the dropped result must not resume the coroutine");
    }

    @Test
    void aCancelledChannelWaitRemovesItsHandler() throws Exception {
        Pipe pipe = Pipe.open();
        try {
            pipe.source().configureBlocking(false);
            Coroutine co = start(new HandWoven(catching("a", "yieldUntilReadable", "(Ljava/nio/channels/SelectableChannel;)V", Coroutine.class,
                    () -> Coroutine.yieldUntilReadable(pipe.source())), yieldCall()));
            drain(ctx);
            co.cancel();
            drain(ctx);
            assertEquals(List.of("a: CancellationException"), events);
            pipe.sink().write(ByteBuffer.wrap(new byte[] {1}));
            drain(ctx);
            assertFalse(co.isTerminated(), "the removed handler must not resume the coroutine");
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    @Test
    void cancellingTheSpawnedFutureWithInterruptCancelsTheCoroutine() {
        CompletableFuture<String> future = ctx.spawn(new HandCallable<>("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, 1_000_000);
            return "slept";
        }));
        drain(ctx);
        assertFalse(future.isDone());
        assertTrue(future.cancel(true));
        drain(ctx);
        assertTrue(future.isCancelled());
    }

    @Test
    void cancellingTheSpawnedFutureWithoutInterruptLeavesTheCoroutineRunning() {
        List<String> done = new ArrayList<>();
        CompletableFuture<String> future = ctx.spawn(new HandCallable<>("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, 100);
            if (!HandCallable.suspended()) {
                done.add("slept");
            }
            return "slept";
        }));
        drain(ctx);
        future.cancel(false);
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertEquals(List.of("slept"), done);
    }

    /**
     * The window between a cancellation's CAS and its withdrawal: holding {@code monitor} (the
     * lock's own monitor, which its withdraw needs), starts a thread that cancels {@code victim},
     * waits until it is blocked there (its CAS won, the waiter is still queued), runs {@code
     * handOff} (which takes the monitor again, reentrantly) and lets the canceller go on.
     */
    private static Runnable inCancellationWindow(Object monitor, Coroutine victim, Runnable handOff) {
        return () -> {
            Thread canceller = new Thread(victim::cancel, "canceller");
            synchronized (monitor) {
                canceller.start();
                while (!(victim.isCancelled() && canceller.getState() == Thread.State.BLOCKED)) {
                    assertTrue(canceller.isAlive(), "the canceller did not need the monitor: no window");
                    Thread.onSpinWait();
                }
                CoWait wait = victim.currentWait();
                assertFalse(wait.isDone(), "the cancellation is in progress, not finished");
                handOff.run();
            }
            try {
                canceller.join(30_000);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        };
    }

    /**
     * As {@link #inCancellationWindow}, for a CoMutex (whose waiter list is guarded by a bit of its
     * state, not a monitor a test could hold): the canceller stops in {@code CoMutex.withdrawHook},
     * after winning the cancellation (which takes the waiter out of the queue at once) and before
     * waking the waiter, while {@code handOff} runs.
     */
    private static Runnable inWithdrawWindow(Coroutine victim, Runnable handOff) {
        return () -> {
            CountDownLatch reached = new CountDownLatch(1);
            CountDownLatch go = new CountDownLatch(1);
            Thread canceller = new Thread(victim::cancel, "canceller");
            CoMutex.withdrawHook = () -> {
                if (Thread.currentThread() == canceller) {
                    reached.countDown();
                    try {
                        assertTrue(go.await(30, TimeUnit.SECONDS), "the hand-off never let the canceller go");
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            };
            try {
                canceller.start();
                assertTrue(reached.await(30, TimeUnit.SECONDS), "the canceller never withdrew: no window");
                assertTrue(victim.isCancelled());
                CoWait wait = victim.currentWait();
                assertFalse(wait.isDone(), "the cancellation is in progress, not finished");
                handOff.run();
                go.countDown();
                canceller.join(30_000);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            } finally {
                go.countDown();
                CoMutex.withdrawHook = null;
            }
        };
    }

    @Test
    void anUnlockThatMeetsAWaiterBeingCancelledHandsTheLockToTheNextOne() {
        CoMutex mutex = new CoMutex();
        Coroutine[] b = new Coroutine[1];
        HandWoven holder = new HandWoven(call(LOCK, V, mutex, mutex::lock), yieldCall(),
                plain(() -> inWithdrawWindow(b[0], mutex::unlock).run()));
        Coroutine holderCo = start(holder);
        HandWoven bBody = new HandWoven(catching("b", LOCK, V, mutex, mutex::lock), plain(() -> events.add("b holds: "
                + mutex.isHeldBy(b[0]))));
        b[0] = start(bBody);
        HandWoven cBody = new HandWoven(call(LOCK, V, mutex, mutex::lock), note("c has the lock"), call(UNLOCK, V, mutex, mutex::unlock));
        start(cBody);
        holderCo.enter(ctx);
        drain(ctx);
        assertTrue(cBody.finished(), "the lock went to the cancelled waiter and was lost");
        assertTrue(bBody.finished());
        assertTrue(events.containsAll(List.of("b: CancellationException", "b holds: false", "c has the lock")),
                events.toString());
        assertFalse(mutex.isLocked());
    }

    @Test
    void aNextThatMeetsAWaiterBeingCancelledWakesTheNextOne() {
        CoQueue queue = new CoQueue();
        Coroutine a = start(new HandWoven(catching("a", "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null))));
        HandWoven bBody = new HandWoven(call("await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null)), note("b woken"));
        start(bBody);
        boolean[] woke = new boolean[1];
        Coroutine.create(new HandWoven(plain(inCancellationWindow(queue, a, () -> woke[0] = queue.next())))).enter(ctx);
        drain(ctx);
        assertTrue(woke[0]);
        assertTrue(bBody.finished(), "the wake-up went to the cancelled waiter and was lost");
        assertTrue(events.containsAll(List.of("a: CancellationException", "b woken")), events.toString());
        assertTrue(queue.isEmpty());
    }

    @Test
    void aGrantThatMeetsAWriterBeingCancelledGoesToTheReaderBehindIt() {
        CoRwLock lock = new CoRwLock();
        Coroutine[] w = new Coroutine[1];
        Coroutine reader = start(new HandWoven(call("rdlock", V, lock, lock::rdlock), yieldCall(),
                plain(() -> inCancellationWindow(lock, w[0], lock::unlock).run())));
        w[0] = start(new HandWoven(catching("w", "wrlock", V, lock, lock::wrlock)));
        HandWoven lateReader = new HandWoven(call("rdlock", V, lock, lock::rdlock), note("late reader in"),
                call(UNLOCK, V, lock, lock::unlock));
        start(lateReader);
        reader.enter(ctx);
        drain(ctx);
        assertTrue(lateReader.finished(), "the grant went to the cancelled writer and was lost");
        assertTrue(events.containsAll(List.of("w: CancellationException", "late reader in")), events.toString());
        assertTrue(lock.isFree(), lock.toString());
    }
}
