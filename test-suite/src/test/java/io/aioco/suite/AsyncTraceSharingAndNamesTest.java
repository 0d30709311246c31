package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Review rv17 of issue 17, items 4 and 7 (async stack traces, coroutine names), under the suite's
 * probes: a failure shared by many waiters, the cap of 8 traces under two threads, names with line
 * breaks in the dump, and an exception with a trace read by a peer without aioco.
 */
class AsyncTraceSharingAndNamesTest {
    private AioContext ctx;

    @BeforeEach
    void setUp() {
        ctx = AioContext.create();
    }

    @AfterEach
    void tearDown() {
        ctx.close();
    }

    private static List<String> asyncTraces(Throwable t) {
        return Arrays.stream(t.getSuppressed())
                .filter(s -> s.getClass().getName().equals("io.aioco.internal.AsyncStackTrace"))
                .map(Throwable::getMessage).collect(Collectors.toList());
    }

    @CoroutineFn
    private static String awaitIt(CompletableFuture<String> future) {
        return Coroutine.await(future);
    }

    /**
     * One failed future awaited by ten coroutines, with an unchecked exception: the same instance
     * reaches all ten. It carries the sites of at most 8 of them (the first to resume), and each
     * says it is "a coroutine waiting for this exception", not the catcher's (a waiter beyond the
     * eighth finds only other coroutines' sites: docs/API.md says so).
     */
    @Test
    void aSharedUncheckedFailureCarriesAtMostEightSitesEachNamedAsAWaiter() {
        CompletableFuture<String> future = new CompletableFuture<>();
        List<AtomicReference<Throwable>> caught = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            AtomicReference<Throwable> c = new AtomicReference<>();
            caught.add(c);
            Coroutine.create("waiter-" + i, () -> {
                try {
                    awaitIt(future);
                } catch (IllegalStateException e) {
                    c.set(e);
                }
            }).enter(ctx);
        }
        IllegalStateException failure = new IllegalStateException("shared failure");
        future.completeExceptionally(failure);
        while (ctx.poll(false)) {
            // runs the ten to their end
        }
        for (int i = 0; i < 10; i++) {
            assertTrue(caught.get(i).get() == failure, "waiter-" + i + " caught the shared instance");
        }
        List<String> traces = asyncTraces(failure);
        assertEquals(8, traces.size(), traces.toString());
        for (String m : traces) {
            assertTrue(m.startsWith("a coroutine waiting for this exception (coroutine \"waiter-"), m);
        }
    }

    /**
     * The same with a checked exception: await throws each waiter a CompletionException of its own,
     * which carries that waiter's site and no other (all ten are told where they waited).
     */
    @Test
    void aSharedCheckedFailureTellsEachWaiterItsOwnSite() {
        CompletableFuture<String> future = new CompletableFuture<>();
        List<AtomicReference<Throwable>> caught = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            AtomicReference<Throwable> c = new AtomicReference<>();
            caught.add(c);
            Coroutine.create("checked-" + i, () -> {
                try {
                    awaitIt(future);
                } catch (java.util.concurrent.CompletionException e) {
                    c.set(e);
                }
            }).enter(ctx);
        }
        future.completeExceptionally(new java.io.IOException("shared checked failure"));
        while (ctx.poll(false)) {
            // runs the ten to their end
        }
        for (int i = 0; i < 10; i++) {
            Throwable t = caught.get(i).get();
            assertTrue(t != null, "checked-" + i + " caught the failure");
            assertEquals(List.of("a coroutine waiting for this exception (coroutine \"checked-" + i + "\""),
                    asyncTraces(t).stream().map(m -> m.substring(0, m.indexOf(" Coroutine@")))
                            .collect(Collectors.toList()));
            assertEquals(List.of(), asyncTraces(t.getCause()), "the cause's own suppressed list is untouched");
        }
    }

    @CoroutineFn
    private static void waitOnQueue(CoQueue queue) {
        queue.await(null);
    }

    /**
     * A coroutine's name holding a line break cannot forge dump lines (a stack frame that does not
     * exist): names are escaped as a Java string literal would be, in the dump, toString, lost
     * reports and async-trace messages.
     */
    @Test
    void aNameWithALineBreakCannotForgeAFrameInTheDump() throws Exception {
        CoQueue queue = new CoQueue();
        Coroutine co = Coroutine.create("evil\n\tat forged.Frame.method(Forged.java:1)", () -> waitOnQueue(queue));
        co.enter(ctx);
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        co.abandon();
        List<String> forged = Arrays.stream(out.toString().split("\n"))
                .filter(l -> l.startsWith("\tat forged.Frame")).collect(Collectors.toList());
        assertEquals(List.of(), forged, out.toString());
        assertTrue(out.toString().contains("\"evil\\n\\tat forged.Frame.method(Forged.java:1)\""), out.toString());
        assertTrue(co.toString().contains("\"evil\\n\\tat forged"), co.toString());
    }

    /**
     * An exception a coroutine received through await holds an io.aioco.internal.AsyncStackTrace
     * among its suppressed exceptions; serialized to a peer that does not have aioco (RMI, a message
     * queue) it is read back, the trace as a plain Throwable with the same message and stack.
     */
    @Test
    void anExceptionWithAnAsyncTraceCanBeReadByAPeerWithoutAioco() throws Exception {
        CompletableFuture<String> future = new CompletableFuture<>();
        AtomicReference<Throwable> caught = new AtomicReference<>();
        Coroutine.create("serialized", () -> {
            try {
                awaitIt(future);
            } catch (IllegalStateException e) {
                caught.set(e);
            }
        }).enter(ctx);
        future.completeExceptionally(new IllegalStateException("to be sent"));
        while (ctx.poll(false)) {
            // to its end
        }
        assertEquals(1, asyncTraces(caught.get()).size(), "the probes are on and the trace is there");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) {
            out.writeObject(caught.get());
        }
        // a peer without aioco: io.aioco.* classes are not there
        try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                new java.io.ByteArrayInputStream(bytes.toByteArray())) {
            @Override
            protected Class<?> resolveClass(java.io.ObjectStreamClass desc)
                    throws java.io.IOException, ClassNotFoundException {
                if (desc.getName().startsWith("io.aioco.")) {
                    throw new ClassNotFoundException(desc.getName());
                }
                return super.resolveClass(desc);
            }
        }) {
            Throwable read = (Throwable) in.readObject();
            assertEquals("to be sent", read.getMessage());
            Throwable trace = read.getSuppressed()[0];
            Throwable sent = caught.get().getSuppressed()[0];
            assertEquals(Throwable.class, trace.getClass());
            assertEquals(sent.getMessage(), trace.getMessage());
            assertEquals(Arrays.asList(sent.getStackTrace()), Arrays.asList(trace.getStackTrace()));
        }
    }

    /**
     * The cap of 8 async traces per exception (docs/API.md) holds when waiters of one failed future
     * resume on two IOThreads at once (the count and the addition under the exception's lock).
     * Stress with an exact invariant: at most 8 on each round's exception.
     */
    @Test
    void aSharedExceptionNeverCarriesMoreThanEightAsyncTracesWhenWaitersResumeOnSeveralThreads()
            throws Exception {
        try (io.aioco.IOThread t1 = io.aioco.IOThread.start("rv17-cap-1");
             io.aioco.IOThread t2 = io.aioco.IOThread.start("rv17-cap-2")) {
            int worst = 0;
            for (int round = 0; round < 50 && worst <= 8; round++) {
                CompletableFuture<String> future = new CompletableFuture<>();
                java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(64);
                java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(64);
                for (int i = 0; i < 64; i++) {
                    AioContext on = (i % 2 == 0 ? t1 : t2).context();
                    on.scheduleOneshot(() -> Coroutine.create(() -> {
                        waiting.countDown();
                        try {
                            awaitIt(future);
                        } catch (IllegalStateException e) {
                            // expected
                        } finally {
                            done.countDown();
                        }
                    }).enter(on));
                }
                waiting.await();
                IllegalStateException failure = new IllegalStateException("round " + round);
                future.completeExceptionally(failure);
                done.await();
                worst = Math.max(worst, asyncTraces(failure).size());
            }
            assertTrue(worst <= 8, "one exception carried " + worst + " async traces");
        }
    }
}
