package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.HandWoven.yieldCall;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regressions for the hostile review of issue 16 (bounded waits): one test (or two) per finding,
 * each failing on the code before its fix. Contexts are polled by the test thread; the VIRTUAL
 * clock is paused; pool work is held by latches and its end observed through explicit signals.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a lost wake-up would block a poll
class BoundedWaitReviewTest {
    static final String SLEEP_DESC = "(Lio/aioco/ClockType;J)V";
    static final String CHANNEL_DESC = "(Ljava/nio/channels/SelectableChannel;)V";
    static final String SUBMIT_CO_DESC = "(Ljava/util/concurrent/Callable;)Ljava/lang/Object;";
    static final String WITH_TIMEOUT_DESC = "(Lio/aioco/ClockType;JLio/aioco/CoroutineCallable;)Ljava/lang/Object;";

    private final AioContext ctx = AioContext.create();
    private final AioContext other = AioContext.create();
    /** What the coroutines' calls threw or returned, in order. */
    private final List<String> events = Collections.synchronizedList(new ArrayList<>());

    @BeforeEach
    void pause() {
        ClockType.pauseVirtual();
    }

    @AfterEach
    void close() {
        ctx.close();
        other.close();
        ClockType.resumeVirtual();
    }

    /** A call whose function's RuntimeException is recorded as "who: SimpleName" instead of ending the coroutine. */
    private HandWoven.Call catching(String who, String name, String descriptor, Object target, Runnable body) {
        return call(name, descriptor, target, () -> {
            try {
                body.run();
            } catch (RuntimeException e) {
                events.add(who + ": " + e.getClass().getSimpleName());
            }
        });
    }

    /** A coroutine whose toString() contains {@code name} (for the "lost" log line). */
    private static Coroutine named(String name, HandWoven body) {
        return Coroutine.create(new CoroutineEntry() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public String toString() {
                return name;
            }
        });
    }

    // ------------------------------------------------------------------------------------------
    // Finding 1: a reader and a writer on one channel; the channel closed; both cancelled

    /** A connected loopback pair: [0] non-blocking with its send buffer full (a writer waits), [1] its peer. */
    private static SocketChannel[] fullPair(ServerSocketChannel server) throws IOException {
        SocketChannel near = SocketChannel.open(server.getLocalAddress());
        SocketChannel far = server.accept();
        near.configureBlocking(false);
        ByteBuffer junk = ByteBuffer.allocate(1 << 16);
        do {
            junk.clear();
        } while (near.write(junk) > 0);
        return new SocketChannel[] {near, far};
    }

    private HandWoven readerOf(SocketChannel ch) {
        return new HandWoven(catching("reader", "yieldUntilReadable", CHANNEL_DESC, Coroutine.class,
                () -> Coroutine.yieldUntilReadable(ch)), plain(() -> events.add("reader on")));
    }

    private HandWoven writerOf(SocketChannel ch) {
        return new HandWoven(catching("writer", "yieldUntilWritable", CHANNEL_DESC, Coroutine.class,
                () -> Coroutine.yieldUntilWritable(ch)), plain(() -> events.add("writer on")));
    }

    @Test
    void cancellingAReaderAndAWriterOfAClosedChannelThrowsNothingAtTheCancellerAndEndsBoth() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            SocketChannel[] pair = fullPair(server);
            try {
                HandWoven reader = readerOf(pair[0]);
                HandWoven writer = writerOf(pair[0]);
                Coroutine readerCo = Coroutine.create(reader);
                Coroutine writerCo = Coroutine.create(writer);
                readerCo.enter(ctx);
                writerCo.enter(ctx);
                drain(ctx);
                assertFalse(reader.finished() || writer.finished(), "both must wait");
                pair[0].close(); // the server drops the connection, then ends its coroutines
                readerCo.cancel(); // re-registered the writer's handler on the closed channel: threw IAE
                writerCo.cancel();
                drain(ctx);
                List<String> sorted = new ArrayList<>(events);
                Collections.sort(sorted);
                assertEquals(List.of("reader on", "reader: CancellationException", "writer on",
                        "writer: CancellationException"), sorted);
                assertTrue(reader.finished() && writer.finished());
            } finally {
                pair[0].close();
                pair[1].close();
            }
        }
    }

    @Test
    void aTimeoutOfAReaderOfAClosedChannelIsThrownInTheReaderNotOutOfPoll() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            SocketChannel[] pair = fullPair(server);
            try {
                CoroutineCallable<Object> read = new HandCallable<>("yieldUntilReadable", CHANNEL_DESC, Coroutine.class,
                        () -> {
                            Coroutine.yieldUntilReadable(pair[0]);
                            return null;
                        });
                HandWoven reader = new HandWoven(catching("reader", "withTimeoutNs", WITH_TIMEOUT_DESC, Coroutine.class,
                        () -> {
                            try {
                                Coroutine.withTimeoutNs(ClockType.VIRTUAL, 100, read);
                            } catch (RuntimeException e) {
                                throw e;
                            } catch (Exception e) {
                                throw new AssertionError(e);
                            }
                        }));
                HandWoven writer = writerOf(pair[0]);
                Coroutine.create(reader).enter(ctx);
                Coroutine writerCo = Coroutine.create(writer);
                writerCo.enter(ctx);
                drain(ctx);
                pair[0].close();
                ClockType.advanceVirtualNs(100);
                drain(ctx); // threw IllegalArgumentException out of the timer's callback
                assertEquals(List.of("reader: CoroutineTimeoutException"), events);
                assertTrue(reader.finished());
                writerCo.cancel();
                drain(ctx);
                assertTrue(writer.finished());
            } finally {
                pair[0].close();
                pair[1].close();
            }
        }
    }

    /** What the Javadoc tells users to do instead of closing under a waiter: shut the channel down. */
    @Test
    void shuttingTheChannelDownWakesItsReaderAndWaitingOnAClosedChannelThrows() throws IOException {
        try (ServerSocketChannel server = ServerSocketChannel.open()
                .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            SocketChannel[] pair = fullPair(server);
            try {
                HandWoven reader = readerOf(pair[0]);
                Coroutine.create(reader).enter(ctx);
                drain(ctx);
                assertFalse(reader.finished());
                pair[0].shutdownInput();
                while (!reader.finished()) {
                    ctx.poll(true);
                }
                assertEquals(List.of("reader on"), events);
                assertEquals(-1, pair[0].read(ByteBuffer.allocate(1)));
                pair[0].close();
                events.clear();
                Coroutine.create(readerOf(pair[0])).enter(ctx);
                assertEquals(List.of("reader: IllegalArgumentException", "reader on"), events);
            } finally {
                pair[0].close();
                pair[1].close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Finding 2: cancel() of a waiter whose context is closed

    @Test
    void cancelOfACoroutineWhoseContextIsClosedDoesNotThrowAndReportsItLost() {
        Coroutine victim = named("sleeper-in-closed-context", new HandWoven(call("sleepNs", SLEEP_DESC, Coroutine.class,
                () -> Coroutine.sleepNs(ClockType.VIRTUAL, 1_000))));
        victim.enter(other);
        CompletableFuture<String> spawned = other.spawn(new HandCallable<>("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, 1_000);
            return "slept";
        }));
        drain(other);
        other.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            victim.cancel(); // threw IllegalStateException "AioContext-N is closed"
            assertTrue(victim.isCancelled());
            assertTrue(spawned.cancel(true)); // the same, through the future
            assertEquals(1, log.count("sleeper-in-closed-context"), log.messages.toString());
            assertEquals(2, log.count("Coroutine.cancel()"), log.messages.toString());
            assertEquals(2, log.count("lost"), log.messages.toString());
        }
    }

    // ------------------------------------------------------------------------------------------
    // Finding 3: await's callback keeps the coroutine after a timed-out wait

    /** A future that hands out the callbacks registered on it (a CompletableFuture cannot drop one). */
    static final class RecordingFuture<T> extends CompletableFuture<T> {
        final List<Object> callbacks = new ArrayList<>();

        @Override
        public CompletableFuture<T> whenComplete(BiConsumer<? super T, ? super Throwable> action) {
            callbacks.add(action);
            return super.whenComplete(action);
        }
    }

    /**
     * Whether {@code target} is reachable from {@code from} through the fields of aioco's (and the
     * tests') classes, lambdas among them, and arrays: what a callback left on a future keeps alive.
     */
    static boolean reaches(Object from, Object target) throws IllegalAccessException {
        Set<Object> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        ArrayDeque<Object> todo = new ArrayDeque<>();
        todo.add(from);
        while (!todo.isEmpty()) {
            Object o = todo.poll();
            if (o == target) {
                return true;
            }
            if (!seen.add(o)) {
                continue;
            }
            Class<?> type = o.getClass();
            if (type.isArray()) {
                if (!type.getComponentType().isPrimitive()) {
                    for (int i = 0; i < Array.getLength(o); i++) {
                        Object element = Array.get(o, i);
                        if (element != null) {
                            todo.add(element);
                        }
                    }
                }
                continue;
            }
            for (Class<?> c = type; c != null && c.getName().startsWith("io.aioco"); c = c.getSuperclass()) {
                for (Field f : c.getDeclaredFields()) {
                    if (Modifier.isStatic(f.getModifiers()) || f.getType().isPrimitive()) {
                        continue;
                    }
                    f.setAccessible(true);
                    Object value = f.get(o);
                    if (value != null) {
                        todo.add(value);
                    }
                }
            }
        }
        return false;
    }

    @Test
    void aTimedOutAwaitLeavesNoCallbackOnTheFutureThatKeepsItsCoroutine() throws Exception {
        RecordingFuture<String> never = new RecordingFuture<>();
        CoroutineCallable<Object> await = new HandCallable<>("await", "(Ljava/util/concurrent/CompletionStage;)Ljava/lang/Object;",
                Coroutine.class, () -> Coroutine.await(never));
        HandWoven body = new HandWoven(catching("a", "withTimeoutNs", WITH_TIMEOUT_DESC, Coroutine.class, () -> {
            try {
                Coroutine.withTimeoutNs(ClockType.VIRTUAL, 100, await);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }), yieldCall());
        Coroutine co = Coroutine.create(body);
        co.enter(ctx);
        assertEquals(1, never.callbacks.size(), "await registers one callback once it has yielded");
        assertTrue(reaches(never.callbacks.get(0), co), "while it waits, the callback must reach its coroutine");
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertEquals(List.of("a: CoroutineTimeoutException"), events);
        assertFalse(reaches(never.callbacks.get(0), co),
                "the callback left on the future still holds the timed-out coroutine (a leak per timed-out await)");
        never.complete("late");
        drain(ctx);
        assertFalse(body.finished(), "the late completion must not resume the coroutine (it sits at a plain yield)");
    }

    // ------------------------------------------------------------------------------------------
    // Finding 5: CoQueue.next()/restartAll() to a waiter whose context is closed

    private HandWoven queueWaiter(CoQueue queue, String name) {
        return new HandWoven(call("await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(null)),
                plain(() -> events.add(name + " woken")));
    }

    @Test
    void queueNextSkipsAWaiterOfAClosedContextWakesTheNextAndReportsTheLostOne() {
        CoQueue queue = new CoQueue();
        named("queue-waiter-in-closed-context", queueWaiter(queue, "lost")).enter(other);
        Coroutine.create(queueWaiter(queue, "second")).enter(ctx);
        other.close();
        List<Object> returned = new ArrayList<>();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            Coroutine.create(new HandWoven(call("next", "()Z", queue, () -> returned.add(queue.next())))).enter(ctx);
            drain(ctx);
            assertEquals(List.of(true), returned);
            assertEquals(List.of("second woken"), events);
            assertTrue(queue.isEmpty());
            assertEquals(1, log.count("queue-waiter-in-closed-context"), log.messages.toString());
            assertEquals(1, log.count("CoQueue.next()"), log.messages.toString());
        }
    }

    @Test
    void queueRestartAllSkipsAWaiterOfAClosedContextAndWakesTheRest() {
        CoQueue queue = new CoQueue();
        Coroutine.create(queueWaiter(queue, "first")).enter(ctx);
        named("queue-waiter-in-closed-context", queueWaiter(queue, "lost")).enter(other);
        Coroutine.create(queueWaiter(queue, "third")).enter(ctx);
        other.close();
        try (LoopTesting.LogCapture log = new LoopTesting.LogCapture()) {
            Coroutine.create(new HandWoven(call("restartAll", "()V", queue, queue::restartAll))).enter(ctx);
            drain(ctx);
            assertEquals(List.of("first woken", "third woken"), events);
            assertEquals(1, log.count("CoQueue.restartAll()"), log.messages.toString());
        }
    }

    // ------------------------------------------------------------------------------------------
    // Findings 6 and 7: submitCo when the pool's context closes; cancelled while queued

    /** A submitCo call whose result or exception is recorded. */
    private HandWoven.Call submitCo(ThreadPool pool, Callable<String> work) {
        return call("submitCo", SUBMIT_CO_DESC, pool, () -> {
            try {
                String value = pool.submitCo(work);
                if (!HandCallable.suspended()) {
                    events.add("returned " + value);
                }
            } catch (Exception e) {
                events.add("threw " + e.getClass().getSimpleName());
            }
        });
    }

    /** Work that signals its start and its end, and waits for {@code release} in between. */
    private static Callable<String> held(CountDownLatch started, CountDownLatch release, AtomicReference<Thread> ranOn,
            AtomicBoolean returned, String value) {
        return () -> {
            ranOn.set(Thread.currentThread());
            started.countDown();
            assertTrue(release.await(30, TimeUnit.SECONDS));
            returned.set(true);
            return value;
        };
    }

    /** Waits until the work returned and its worker, done with it, parked or ended: its completion is made. */
    private static void awaitWorkerDone(AtomicBoolean returned, AtomicReference<Thread> worker) {
        while (!returned.get()) {
            Thread.onSpinWait();
        }
        LoopTesting.awaitParked(worker.get());
    }

    @Test
    void aCoroutineWaitingOnAnotherContextsPoolResumesWithTheResultWhenThatContextClosesMeanwhile() throws Exception {
        ThreadPool pool = other.threadPool();
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> worker = new AtomicReference<>();
        AtomicBoolean returned = new AtomicBoolean();
        HandWoven body = new HandWoven(submitCo(pool, held(started, release, worker, returned, "result")));
        Coroutine.create(body).enter(ctx); // a coroutine of ctx, on other's pool
        assertTrue(started.await(30, TimeUnit.SECONDS));
        other.close();
        release.countDown();
        awaitWorkerDone(returned, worker);
        drain(ctx); // the completion used to be dropped with the closed context: never woken
        assertEquals(List.of("returned result"), events);
        assertTrue(body.finished());
    }

    @Test
    void workQueuedOnAPoolWhoseContextClosesIsDroppedAndItsCoroutineToldSo() throws Exception {
        ThreadPool pool = other.threadPool();
        pool.setMaxWorkers(1);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> worker = new AtomicReference<>();
        AtomicBoolean returned = new AtomicBoolean();
        pool.submit(() -> {
            try {
                held(started, release, worker, returned, null).call();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(started.await(30, TimeUnit.SECONDS));
        AtomicBoolean queuedRan = new AtomicBoolean();
        HandWoven body = new HandWoven(submitCo(pool, () -> {
            queuedRan.set(true);
            return "queued";
        }));
        Coroutine.create(body).enter(ctx);
        other.close();
        drain(ctx);
        assertEquals(List.of("threw IllegalStateException"), events);
        release.countDown();
        awaitWorkerDone(returned, worker);
        assertFalse(queuedRan.get());
    }

    @Test
    void submitCoCancelledWhileItsWorkIsQueuedDropsTheWork() throws Exception {
        ThreadPool pool = ctx.threadPool();
        pool.setMaxWorkers(1);
        CountDownLatch started = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> worker = new AtomicReference<>();
        AtomicBoolean returned = new AtomicBoolean();
        pool.submit(() -> {
            try {
                held(started, release, worker, returned, null).call();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertTrue(started.await(30, TimeUnit.SECONDS));
        AtomicBoolean queuedRan = new AtomicBoolean();
        HandWoven body = new HandWoven(submitCo(pool, () -> {
            queuedRan.set(true);
            return "queued";
        }));
        Coroutine co = Coroutine.create(body);
        co.enter(ctx);
        co.cancel();
        drain(ctx);
        assertEquals(List.of("threw CancellationException"), events);
        release.countDown();
        awaitWorkerDone(returned, worker); // the one worker took the dropped request next, then parked
        assertFalse(queuedRan.get(), "work queued when its submitCo was cancelled must not run");
    }

    // ------------------------------------------------------------------------------------------
    // Finding 8: cancel() on the victim's own context thread, outside coroutines, runs it inline

    @Test
    void cancelFromABottomHalfOfTheVictimsContextRunsTheVictimInsideTheCall() {
        Coroutine victim = Coroutine.create(new HandWoven(catching("victim", "sleepNs", SLEEP_DESC, Coroutine.class,
                () -> Coroutine.sleepNs(ClockType.VIRTUAL, 1_000))));
        victim.enter(ctx);
        ctx.scheduleOneshot(() -> {
            events.add("before cancel");
            victim.cancel();
            events.add("after cancel");
        });
        drain(ctx);
        assertEquals(List.of("before cancel", "victim: CancellationException", "after cancel"), events);
    }

    // ------------------------------------------------------------------------------------------
    // Finding 9: CoSleep accepted a second sleeper before the first one's publication

    @Test
    void aSecondSleeperIsRefusedEvenBeforeTheFirstSleepIsPublished() {
        CoSleep sleep = new CoSleep();
        List<String> second = new ArrayList<>();
        HandWoven secondBody = new HandWoven(call("sleepNs", SLEEP_DESC, sleep, () -> {
            try {
                sleep.sleepNs(ClockType.VIRTUAL, 10);
                second.add("accepted");
            } catch (IllegalStateException e) {
                second.add("refused: " + e.getMessage());
            }
        }));
        HandWoven first = new HandWoven(call("sleepNs", SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, 100)),
                plain(() -> events.add("first woke")))
                // between the first sleeper's entry and its publication (after its yield): another
                // coroutine tries to sleep on the same CoSleep, as one on another thread may
                .beforeYieldAt(0, () -> Coroutine.create(secondBody).enter(ctx));
        Coroutine.create(first).enter(ctx);
        assertEquals(1, second.size());
        assertTrue(second.get(0).startsWith("refused: ") && second.get(0).contains("sleeps on it already"), second.get(0));
        sleep.wake();
        drain(ctx);
        assertEquals(List.of("first woke"), events);
        // the claim ends with the sleep: the CoSleep can be slept on again
        HandWoven again = new HandWoven(call("sleepNs", SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, 5)),
                plain(() -> events.add("again woke")));
        Coroutine.create(again).enter(ctx);
        ClockType.advanceVirtualNs(5);
        drain(ctx);
        assertEquals(List.of("first woke", "again woke"), events);
    }

    @Test
    void aSleeperCancelledBeforeItsSleepFreesTheCoSleep() {
        CoSleep sleep = new CoSleep();
        Coroutine cancelledFirst = Coroutine.create(new HandWoven(catching("a", "sleepNs", SLEEP_DESC, sleep,
                () -> sleep.sleepNs(ClockType.VIRTUAL, 10))));
        cancelledFirst.cancel();
        cancelledFirst.enter(ctx);
        assertEquals(List.of("a: CancellationException"), events);
        HandWoven next = new HandWoven(catching("b", "sleepNs", SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, 10)),
                plain(() -> events.add("b woke")));
        Coroutine.create(next).enter(ctx);
        ClockType.advanceVirtualNs(10);
        drain(ctx);
        assertEquals(List.of("a: CancellationException", "b woke"), events);
    }

    // ------------------------------------------------------------------------------------------
    // Finding 4: WaiterList against a model (FIFO, exact emptiness, removal anywhere)

    /** A bare wait, for the list alone. */
    private static final class Plain extends CoWait {
        final int id;

        Plain(Coroutine co, int id) {
            super(co);
            this.id = id;
        }

        @Override
        public CoWait publish() {
            return null;
        }

        @Override
        public String toString() {
            return "w" + id;
        }
    }

    @Test
    void theWaiterListBehavesAsADequeWithRemovalAnywhere() {
        java.util.Random random = new java.util.Random(16);
        Coroutine co = Coroutine.create(() -> {});
        for (int round = 0; round < 200; round++) {
            WaiterList<Plain> list = new WaiterList<>();
            List<Plain> model = new ArrayList<>();
            List<Plain> everAdded = new ArrayList<>();
            int ids = 0;
            for (int step = 0; step < 60; step++) {
                int op = random.nextInt(10);
                if (op < 4) {
                    Plain w = new Plain(co, ids++);
                    list.add(w);
                    model.add(w);
                    everAdded.add(w);
                } else if (op < 6) {
                    Plain expected = model.isEmpty() ? null : model.remove(0);
                    assertEquals(expected, list.poll(), "poll, round " + round);
                } else if (!everAdded.isEmpty()) {
                    Plain w = everAdded.get(random.nextInt(everAdded.size()));
                    assertEquals(model.remove(w), list.remove(w), "remove " + w + ", round " + round);
                }
                assertEquals(model.isEmpty(), list.isEmpty());
                assertEquals(model.isEmpty() ? null : model.get(0), list.peek());
            }
            List<Plain> drained = new ArrayList<>();
            for (Plain w = list.poll(); w != null; w = list.poll()) {
                drained.add(w);
            }
            assertEquals(model, drained, "round " + round);
        }
    }
}
