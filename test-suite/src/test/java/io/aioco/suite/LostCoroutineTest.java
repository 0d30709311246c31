package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Lost coroutines (issue 17, item 7): with the probes on (the suite's pom.xml), a coroutine that
 * becomes unreachable while suspended (here: waiting on a queue nobody holds any more) is logged
 * once by the runtime's logger {@code io.aioco}, with its name and suspended stack; one abandoned
 * on purpose ({@link Coroutine#abandon()}) is not, nor one that terminated. The reports are read by
 * a handler on that logger (the signal waited for); the collector is asked to run in a loop until
 * the report comes or 30 s pass (a collection is never guaranteed: this waits for a signal, it does
 * not assert on time). "Not reported" is checked once a coroutine dropped later (a sentinel) has
 * been reported.
 */
class LostCoroutineTest {
    /** Held: java.util.logging keeps loggers weakly, and the handler must stay on this one. */
    private static final java.util.logging.Logger LOGGER = java.util.logging.Logger.getLogger("io.aioco");

    private final LinkedBlockingQueue<String> arriving = new LinkedBlockingQueue<>();
    private final List<String> reports = new CopyOnWriteArrayList<>();
    private final Handler handler = new Handler() {
        @Override
        public void publish(LogRecord record) {
            String message = record.getMessage();
            if (message != null && message.contains(" lost while suspended at:")) {
                reports.add(message);
                arriving.add(message);
            }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };
    private AioContext ctx;

    @BeforeEach
    void listen() {
        LOGGER.addHandler(handler);
        ctx = AioContext.create();
    }

    @AfterEach
    void stop() {
        LOGGER.removeHandler(handler);
        ctx.close();
    }

    @CoroutineFn
    private static void waitOnQueue(CoQueue queue) {
        queue.await(null); // @wait
    }

    /** When a test coroutine is abandoned. */
    private enum Abandon { NEVER, BEFORE_ITS_RUN, WHILE_IT_WAITS }

    private final ReferenceQueue<Coroutine> collected = new ReferenceQueue<>();

    /**
     * Makes a coroutine named {@code name}, suspended on a queue only it can reach: once this
     * returns, nothing can wake it.
     *
     * @return a weak reference to it
     */
    private WeakReference<Coroutine> suspendOnPrivateQueue(String name, Abandon abandon) {
        CoQueue queue = new CoQueue();
        Coroutine co = Coroutine.create(name, () -> waitOnQueue(queue)); // @entry
        if (abandon == Abandon.BEFORE_ITS_RUN) {
            co.abandon(); // the mark must still hold once it is registered, at its first suspension
        }
        co.enter(ctx);
        if (abandon == Abandon.WHILE_IT_WAITS) {
            co.abandon();
        }
        assertTrue(!co.isTerminated());
        return new WeakReference<>(co, collected);
    }

    /** Collects until a report naming {@code name} arrives; fails after 300 collections without one. */
    private String awaitReport(String name) throws InterruptedException {
        return awaitReportContaining("\"" + name + "\"");
    }

    /** Collects until a report containing {@code text} arrives; fails after 300 collections without one. */
    private String awaitReportContaining(String text) throws InterruptedException {
        for (int round = 0; round < 300; round++) { // NOTE: each round waits for a report (a signal) or 100 ms
            for (String report; (report = arriving.poll()) != null; ) {
                if (report.contains(text)) {
                    return report;
                }
            }
            System.gc();
            String report = arriving.poll(100, TimeUnit.MILLISECONDS);
            if (report != null) {
                arriving.add(report);
            }
        }
        throw new AssertionError("no lost-coroutine report for " + text + " after 300 collections; reports: " + reports);
    }

    /**
     * As {@link #suspendOnPrivateQueue} for a coroutine without a name, whose report names it by
     * identity only.
     *
     * @param ids gets the first line of the report it would have ({@code aioco: coroutine Coroutine@HEX lost ...})
     */
    private WeakReference<Coroutine> suspendUnnamedOnPrivateQueue(Abandon abandon, List<String> ids) {
        CoQueue queue = new CoQueue();
        Coroutine co = Coroutine.create(() -> waitOnQueue(queue));
        ids.add("aioco: coroutine Coroutine@" + Integer.toHexString(System.identityHashCode(co)) + " lost while suspended at:");
        if (abandon == Abandon.BEFORE_ITS_RUN) {
            co.abandon(); // its side fields are made here; its first suspension must add its probe to these
        }
        co.enter(ctx); // under the probes its side fields are made here, unless abandon() made them
        if (abandon == Abandon.WHILE_IT_WAITS) {
            co.abandon();
        }
        assertTrue(!co.isTerminated());
        return new WeakReference<>(co, collected);
    }

    /** Collects until {@code ref} is cleared; fails after 300 collections. */
    private void awaitCleared(WeakReference<?> ref) throws InterruptedException {
        for (int round = 0; ref.get() != null; round++) {
            assertTrue(round < 300, "not collected after 300 collections");
            System.gc();
            collected.remove(100); // NOTE: a signal (some reference cleared), or the next round
        }
    }

    private long reportsNaming(String name) {
        return reports.stream().filter(r -> r.contains("\"" + name + "\"")).count();
    }

    @Test
    void aCoroutineSuspendedOnAQueueNobodyHoldsIsReportedOnceWithItsStack() throws Exception {
        suspendOnPrivateQueue("lost-on-queue", Abandon.NEVER);
        String report = awaitReport("lost-on-queue");

        String[] lines = report.split("\n");
        assertTrue(Pattern.matches("aioco: coroutine \"lost-on-queue\" Coroutine@[0-9a-f]+ lost while suspended at:",
                lines[0]), report);
        assertEquals("\tat io.aioco.CoQueue.await(CoQueue.java)", lines[1], report);
        assertEquals("\tat io.aioco.suite.LostCoroutineTest.waitOnQueue(LostCoroutineTest.java:"
                + FixtureSource.markedLine(LostCoroutineTest.class, "wait") + ")", lines[2], report);
        assertTrue(Pattern.matches("\tat io\\.aioco\\.suite\\.LostCoroutineTest\\.lambda\\$[A-Za-z0-9$]+"
                + "\\(LostCoroutineTest\\.java:" + FixtureSource.markedLine(LostCoroutineTest.class, "entry") + "\\)",
                lines[3]), report);
        assertTrue(lines[lines.length - 1].startsWith("nothing can wake it any more"), report);

        // once: a coroutine lost later is reported, this one not again
        suspendOnPrivateQueue("lost-later", Abandon.NEVER);
        awaitReport("lost-later");
        assertEquals(1, reportsNaming("lost-on-queue"), reports.toString());
    }

    /**
     * A queue waiter whose context closed, then woken (review rv17b #11): reported lost once, at the
     * wake-up ("lost: ... its context ... is closed"), and not again as lost while suspended once it is
     * collected.
     */
    @Test
    void aCoroutineWokenAfterItsContextClosedIsReportedLostOnlyOnce() throws Exception {
        WeakReference<Coroutine> waiter = wokenAfterItsContextClosed("woken-after-close");
        awaitCleared(waiter);
        // NOTE: unreachable before this sentinel was made: its Cleaner action was due first
        suspendOnPrivateQueue("sentinel-woken-after-close", Abandon.NEVER);
        awaitReport("sentinel-woken-after-close");
        assertEquals(0, reportsNaming("woken-after-close"), reports.toString());
    }

    private WeakReference<Coroutine> wokenAfterItsContextClosed(String name) {
        AioContext closing = AioContext.create();
        CoQueue queue = new CoQueue();
        Coroutine co = Coroutine.create(name, () -> waitOnQueue(queue));
        co.enter(closing);
        closing.close();
        Coroutine.create(() -> queue.restartAll()).enter(ctx); // its wake-up finds the context closed
        while (ctx.poll(false)) {
            // the waker ends
        }
        assertTrue(!co.isTerminated());
        return new WeakReference<>(co, collected);
    }

    @Test
    void anAbandonedCoroutineIsNotReported() throws Exception {
        WeakReference<Coroutine> early = suspendOnPrivateQueue("abandoned-before-run", Abandon.BEFORE_ITS_RUN);
        WeakReference<Coroutine> late = suspendOnPrivateQueue("abandoned-while-waiting", Abandon.WHILE_IT_WAITS);
        suspendOnPrivateQueue("sentinel-abandoned-1", Abandon.NEVER);
        awaitReport("sentinel-abandoned-1");
        awaitCleared(early);
        awaitCleared(late);
        // NOTE: both were unreachable before this sentinel was made: their Cleaner actions were due first
        suspendOnPrivateQueue("sentinel-abandoned-2", Abandon.NEVER);
        awaitReport("sentinel-abandoned-2");

        assertEquals(0, reportsNaming("abandoned-before-run"), reports.toString());
        assertEquals(0, reportsNaming("abandoned-while-waiting"), reports.toString());
    }

    /**
     * Issue 17 item 2: a coroutine without a name keeps its probe and its abandoned mark in side
     * fields made on demand (by {@link Coroutine#abandon()} before its first run, else at its first
     * suspension); the mark holds either way, and one not abandoned is still reported.
     */
    @Test
    void anAbandonedUnnamedCoroutineIsNotReported() throws Exception {
        List<String> ids = new ArrayList<>();
        WeakReference<Coroutine> early = suspendUnnamedOnPrivateQueue(Abandon.BEFORE_ITS_RUN, ids);
        WeakReference<Coroutine> late = suspendUnnamedOnPrivateQueue(Abandon.WHILE_IT_WAITS, ids);
        suspendUnnamedOnPrivateQueue(Abandon.NEVER, ids);
        awaitReportContaining(ids.get(2));
        awaitCleared(early);
        awaitCleared(late);
        // NOTE: both were unreachable before this sentinel was made: their Cleaner actions were due first
        suspendOnPrivateQueue("sentinel-abandoned-unnamed", Abandon.NEVER);
        awaitReport("sentinel-abandoned-unnamed");

        assertEquals(0, reports.stream().filter(r -> r.contains(ids.get(0))).count(), reports.toString());
        assertEquals(0, reports.stream().filter(r -> r.contains(ids.get(1))).count(), reports.toString());
    }

    @Test
    void aCoroutineThatTerminatedIsNotReported() throws Exception {
        CoQueue queue = new CoQueue();
        List<WeakReference<Coroutine>> ended = new ArrayList<>();
        Coroutine co = Coroutine.create("ended-normally", () -> waitOnQueue(queue));
        co.enter(ctx); // registered at this suspension
        Coroutine.create(() -> queue.next()).enter(ctx);
        while (ctx.poll(false)) {
            // runs it to its end
        }
        assertTrue(co.isTerminated());
        ended.add(new WeakReference<>(co, collected));
        co = null;
        suspendOnPrivateQueue("sentinel-ended-1", Abandon.NEVER);
        awaitReport("sentinel-ended-1");
        awaitCleared(ended.get(0));
        suspendOnPrivateQueue("sentinel-ended-2", Abandon.NEVER);
        awaitReport("sentinel-ended-2");

        assertEquals(0, reportsNaming("ended-normally"), reports.toString());
    }
}
