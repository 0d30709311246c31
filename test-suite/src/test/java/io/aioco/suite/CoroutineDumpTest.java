package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.CoRwLock;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.management.ObjectName;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The coroutine dump ({@link Coroutine#dump(Appendable)} and the MBean), read line by line, on
 * classes woven by the agent or by the plugin: names, states, what each coroutine waits on, and its
 * suspended stack with the file and line of the real source lines (found below by their markers
 * {@code // @name}). The suite runs with probes on (pom.xml), so every live coroutine is listed.
 * Coroutines are driven by hand; the names are unique to each test (other tests' coroutines may be
 * in the dump too).
 */
class CoroutineDumpTest {
    private static final String HERE = "io.aioco.suite.CoroutineDumpTest.";

    private final List<AioContext> contexts = new ArrayList<>();
    private final List<Runnable> cleanups = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Runnable cleanup : cleanups) {
            endCancelled(cleanup);
        }
        for (AioContext ctx : contexts) {
            boolean[] more = {true};
            while (more[0]) {
                more[0] = true; // NOTE: a poll that threw may have more to run
                endCancelled(() -> more[0] = ctx.poll(false)); // the coroutines the cleanups woke run to their end
            }
            ctx.close();
        }
    }

    /** Runs {@code action}; a cancelled coroutine it runs ends by throwing its CancellationException here. */
    private static void endCancelled(Runnable action) {
        try {
            action.run();
        } catch (java.util.concurrent.CancellationException ended) {
            // NOTE: the victim's entry does not catch it: enter (inside cancel, or a poll) rethrows it
        }
    }

    private AioContext context() {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        return ctx;
    }

    /** @return the line of this file that ends with {@code // @marker} */
    private static int line(String marker) throws IOException {
        return FixtureSource.markedLine(CoroutineDumpTest.class, marker);
    }

    private static String at(String method, String marker) throws IOException {
        return "\tat " + HERE + method + "(CoroutineDumpTest.java:" + line(marker) + ")";
    }

    private static String dump() throws IOException {
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        return out.toString();
    }

    /** @return the lines of the block (header to blank line) of the coroutine named {@code name}, in the listing */
    private static List<String> block(String dump, String name) {
        String listing = dump.substring(dump.indexOf("\nCoroutines: "));
        int start = listing.indexOf("\n\"" + name + "\" Coroutine@");
        assertTrue(start >= 0, name + " not listed in:\n" + dump);
        int end = listing.indexOf("\n\n", start + 1);
        return Arrays.asList(listing.substring(start + 1, end).split("\n"));
    }

    private static String id(Coroutine co) {
        return "Coroutine@" + Integer.toHexString(System.identityHashCode(co));
    }

    private static void assertMatches(String regex, String line) {
        assertTrue(Pattern.matches(regex, line), "expected /" + regex + "/ but was: " + line);
    }

    // ---- the coroutines' code; markers name the lines the stacks must show ----

    @CoroutineFn
    private static void lockIt(CoMutex mutex) {
        mutex.lock(); // @lock
    }

    @CoroutineFn
    private static void waiterBody(CoMutex mutex, long[] work) {
        long before = work[0]; // a live long local across the call: a primitive slot to step over
        lockIt(mutex); // @callLock
        work[0] = before + 1;
        mutex.unlock();
    }

    @CoroutineFn
    private void holdAndYield(CoMutex mutex) {
        mutex.lock();
        Coroutine.yield(); // @yield
        mutex.unlock();
    }

    @CoroutineFn
    private static String sleepInTimeout() throws Exception {
        return Coroutine.withTimeoutNs(ClockType.REALTIME, 3_600_000_000_000L, () -> { // @timeout
            Coroutine.sleepNs(ClockType.VIRTUAL, 5_000_000_000L); // @sleep
            return "slept";
        });
    }

    @Test
    void listsNamesStatesWaitsAndStacksWithTheirSourceLines() throws Exception {
        ClockType.pauseVirtual(); // the sleeper's "(in 5.0 s)" is exact only while VIRTUAL stands still
        cleanups.add(ClockType::resumeVirtual);
        AioContext ctx = context();
        CoMutex mutex = new CoMutex();
        long[] work = {41};
        Coroutine holder = Coroutine.create("dump-holder", () -> holdAndYield(mutex)); // @holderEntry
        Coroutine waiter = Coroutine.create("dump-waiter", () -> waiterBody(mutex, work)); // @waiterEntry
        Coroutine sleeper = Coroutine.create("dump-sleeper", () -> sleepInTimeout()); // @sleeperEntry
        CoQueue queue = new CoQueue();
        Coroutine queued = Coroutine.create("dump-queued", () -> queue.await(null)); // @queuedEntry
        CompletableFuture<String> future = new CompletableFuture<>();
        Coroutine awaiting = Coroutine.create("dump-awaiting", () -> Coroutine.await(future)); // @awaitEntry
        holder.enter(ctx);
        waiter.enter(ctx);
        sleeper.enter(ctx);
        queued.enter(ctx);
        awaiting.enter(ctx);

        String dump = dump();
        String lambda = "\tat " + Pattern.quote(HERE) + "lambda\\$[A-Za-z0-9$]+\\(CoroutineDumpTest\\.java:";
        String header = "\"%s\" " + "%s context=\"" + ctx + "\" thread=none last ran (< 10 ms|[0-9.]+ (ms|s)) ago";

        List<String> lines = block(dump, "dump-waiter");
        assertMatches(String.format(header, "dump-waiter", id(waiter)), lines.get(0));
        assertEquals("   state: SUSPENDED, waiting for the lock of " + mutex + ", held by \"dump-holder\" " + id(holder),
                lines.get(1));
        assertEquals("\tat io.aioco.CoMutex.lock(CoMutex.java)", lines.get(2));
        assertEquals(at("lockIt", "lock"), lines.get(3));
        assertEquals(at("waiterBody", "callLock"), lines.get(4));
        assertMatches(lambda + line("waiterEntry") + "\\)", lines.get(5));
        assertEquals(6, lines.size(), String.join("\n", lines));

        lines = block(dump, "dump-holder");
        assertMatches(String.format(header, "dump-holder", id(holder)), lines.get(0));
        assertEquals("   state: SUSPENDED, waiting for a plain yield (Coroutine.yield(): whoever enters it next"
                + " resumes it)", lines.get(1));
        assertEquals("\tat io.aioco.Coroutine.yield(Coroutine.java)", lines.get(2));
        assertEquals(at("holdAndYield", "yield"), lines.get(3));
        assertMatches(lambda + line("holderEntry") + "\\)", lines.get(4));
        assertEquals(5, lines.size(), String.join("\n", lines));

        lines = block(dump, "dump-sleeper");
        assertMatches("   state: SUSPENDED, waiting for the end of a sleep \\(Coroutine.sleepNs\\): a timer of "
                + ctx + " on the VIRTUAL clock, due at -?[0-9]+ ns \\(in 5.0 s\\)", lines.get(1));
        assertEquals("\tat io.aioco.Coroutine.sleepNs(Coroutine.java)", lines.get(2));
        assertMatches(lambda + line("sleep") + "\\)", lines.get(3));
        assertEquals("\tat io.aioco.Coroutine.withTimeoutNs(Coroutine.java)", lines.get(4));
        assertEquals(at("sleepInTimeout", "timeout"), lines.get(5));
        assertMatches(lambda + line("sleeperEntry") + "\\)", lines.get(6));
        assertEquals(7, lines.size(), String.join("\n", lines));

        lines = block(dump, "dump-queued");
        assertEquals("   state: SUSPENDED, waiting for a wake-up from " + queue, lines.get(1));
        assertEquals("\tat io.aioco.CoQueue.await(CoQueue.java)", lines.get(2));
        assertMatches(lambda + line("queuedEntry") + "\\)", lines.get(3));

        lines = block(dump, "dump-awaiting");
        assertEquals("   state: SUSPENDED, waiting for the completion of " + future, lines.get(1));
        assertEquals("\tat io.aioco.Coroutine.await(Coroutine.java)", lines.get(2));

        // the context's line counts its coroutines, and two timers: the sleep's and withTimeoutNs's deadline
        assertTrue(dump.contains("\n  \"" + ctx + "\" thread=none: bottom halves pending 0, timers 2, fd handlers 0,"
                + " coroutines 5 (scheduled 0)\n"), dump);

        // woken from another thread: scheduled on its context, not entered yet
        Thread completer = new Thread(() -> future.complete("done"));
        completer.start();
        completer.join();
        lines = block(dump(), "dump-awaiting");
        assertEquals("   state: SCHEDULED, waiting for its turn in \"" + ctx + "\" (woken, not entered yet)", lines.get(1));

        // each ends: holder unlocks, the waiter gets the lock and finishes; a terminated one is not listed
        holder.enter(ctx); // hands the lock to the waiter, scheduled on ctx (this thread does not poll it)
        Coroutine.create(() -> queue.next()).enter(ctx);
        while (ctx.poll(false)) {
            // runs the scheduled ones
        }
        assertEquals(42, work[0]);
        String after = dump();
        assertTrue(!after.contains("\"dump-waiter\"") && !after.contains("\"dump-holder\"")
                && !after.contains("\"dump-queued\"") && !after.contains("\"dump-awaiting\""), after);
        cleanups.add(sleeper::cancel);
    }

    // ---- deadlocks ----

    @CoroutineFn
    private static void takeBoth(CoMutex first, CoMutex second) {
        first.lock();
        Coroutine.yield();
        second.lock(); // @second
        second.unlock();
        first.unlock();
    }

    @Test
    void aCycleOfTwoCoroutinesOnTwoMutexesIsReportedFirstWithTheirStacks() throws Exception {
        AioContext ctx = context();
        CoMutex m1 = new CoMutex();
        CoMutex m2 = new CoMutex();
        Coroutine a = Coroutine.create("deadlock-a", () -> takeBoth(m1, m2));
        Coroutine b = Coroutine.create("deadlock-b", () -> takeBoth(m2, m1));
        a.enter(ctx);
        b.enter(ctx);
        a.enter(ctx); // waits for m2, held by b
        b.enter(ctx); // waits for m1, held by a: the cycle
        cleanups.add(a::cancel); // ends a's wait, which releases m1 for b
        cleanups.add(b::cancel);

        String dump = dump();
        Matcher section = Pattern.compile("Found a coroutine deadlock:\n=+\n((?:.+\n)+)\n").matcher(dump);
        assertTrue(section.find(), dump);
        List<String> report = Arrays.asList(section.group(1).split("\n"));
        int first = report.indexOf("\"deadlock-a\" " + id(a) + ":") >= 0 ? report.indexOf("\"deadlock-a\" " + id(a) + ":")
                : report.indexOf("\"deadlock-b\" " + id(b) + ":");
        assertTrue(first >= 0, dump);
        List<String> expectedA = List.of("\"deadlock-a\" " + id(a) + ":",
                "  waiting for the lock of " + m2 + ", held by \"deadlock-b\" " + id(b));
        List<String> expectedB = List.of("\"deadlock-b\" " + id(b) + ":",
                "  waiting for the lock of " + m1 + ", held by \"deadlock-a\" " + id(a));
        List<String> expected = new ArrayList<>();
        if (report.get(first).startsWith("\"deadlock-a\"")) {
            expected.addAll(expectedA);
            expected.addAll(expectedB);
        } else {
            expected.addAll(expectedB);
            expected.addAll(expectedA);
        }
        assertEquals(expected, report.subList(first, first + 4));
        assertTrue(dump.indexOf("Found a coroutine deadlock:") < dump.indexOf("\nContexts:\n"), "reported first");
        String stacks = dump.substring(section.end(), dump.indexOf("\nContexts:\n"));
        assertTrue(stacks.startsWith("Stacks of the coroutines listed above:\n"), stacks);
        assertTrue(stacks.contains("\"deadlock-a\" " + id(a) + " context=\"" + ctx + "\""), stacks);
        assertTrue(stacks.contains("\"deadlock-b\" " + id(b) + " context=\"" + ctx + "\""), stacks);
        assertTrue(stacks.contains("\tat io.aioco.CoMutex.lock(CoMutex.java)\n" + at("takeBoth", "second") + "\n"), stacks);
        assertTrue(dump.contains("\nFound 1 deadlock.\n") || dump.matches("(?s).*\nFound [0-9]+ deadlocks\\.\n.*"), dump);
    }

    @CoroutineFn
    private static void takeSecondWithin(CoMutex first, CoMutex second, long timeoutNs) throws Exception {
        first.lock();
        Coroutine.yield();
        try {
            Coroutine.withTimeoutNs(ClockType.VIRTUAL, timeoutNs, () -> {
                second.lock(); // @secondWithin
                second.unlock();
                return null;
            });
        } catch (io.aioco.CoroutineTimeoutException expected) {
            // the deadline passed: the cycle ends, m1 goes to the other member
        }
        first.unlock();
    }

    /**
     * A cycle one of whose members waits inside withTimeoutNs is a deadlock until the deadline
     * (then that wait is cancelled and the cycle ends): reported, with a line saying when it ends.
     * The VIRTUAL clock is paused, so the time left is exact.
     */
    @Test
    void aCycleEndingWhenAMemberTimesOutSaysWhen() throws Exception {
        AioContext ctx = context();
        CoMutex m1 = new CoMutex();
        CoMutex m2 = new CoMutex();
        ClockType.pauseVirtual();
        try {
            Coroutine a = Coroutine.create("timeout-a", () -> takeSecondWithin(m1, m2, 1_900_000_000L));
            Coroutine b = Coroutine.create("timeout-b", () -> takeBoth(m2, m1));
            a.enter(ctx);
            b.enter(ctx);
            a.enter(ctx); // waits for m2, held by b, within 1.9 s of VIRTUAL time
            b.enter(ctx); // waits for m1, held by a: the cycle
            cleanups.add(a::cancel);
            cleanups.add(b::cancel);

            String dump = dump();
            List<String> report = deadlockReport(dump);
            int first = report.indexOf("\"timeout-a\" " + id(a) + ":");
            assertTrue(first >= 0, dump);
            List<String> expected = List.of("\"timeout-a\" " + id(a) + ":",
                    "  waiting for the lock of " + m2 + ", held by \"timeout-b\" " + id(b),
                    "  (a withTimeoutNs deadline cancels this wait in 1.9 s on VIRTUAL, which ends the deadlock)",
                    "\"timeout-b\" " + id(b) + ":",
                    "  waiting for the lock of " + m1 + ", held by \"timeout-a\" " + id(a));
            List<String> turned = new ArrayList<>(report.subList(first, report.size()));
            turned.addAll(report.subList(0, first));
            assertEquals(expected, turned.subList(0, Math.min(5, turned.size())), dump);

            ClockType.advanceVirtualNs(1_000_000_000L);
            assertTrue(dump().contains("\n  (a withTimeoutNs deadline cancels this wait in 900.0 ms on VIRTUAL,"
                    + " which ends the deadlock)\n"), "the time left, a second later");
            ClockType.advanceVirtualNs(900_000_000L);
            while (ctx.poll(false)) {
                // the deadline's timer cancels a's wait: a unlocks m1, b takes it and ends
            }
            assertTrue(a.isTerminated() && b.isTerminated(), "the cycle ended with the deadline");
            String after = dump();
            assertTrue(!after.contains("\"timeout-a\"") && !after.contains("\"timeout-b\""), after);
        } finally {
            ClockType.resumeVirtual();
        }
    }

    @CoroutineFn
    private static void writeThenLock(CoRwLock rw, CoMutex mutex) {
        rw.wrlock();
        Coroutine.yield();
        mutex.lock(); // @rwSecond
        mutex.unlock();
        rw.unlock();
    }

    @CoroutineFn
    private static void lockThenWrite(CoRwLock rw, CoMutex mutex) {
        mutex.lock();
        Coroutine.yield();
        rw.wrlock(); // @mutexSecond
        rw.unlock();
        mutex.unlock();
    }

    @Test
    void aCycleThroughAReadWriteLockIsReportedToo() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        CoMutex mutex = new CoMutex();
        Coroutine a = Coroutine.create("rwdeadlock-a", () -> writeThenLock(rw, mutex));
        Coroutine b = Coroutine.create("rwdeadlock-b", () -> lockThenWrite(rw, mutex));
        a.enter(ctx);
        b.enter(ctx);
        a.enter(ctx);
        b.enter(ctx);
        cleanups.add(a::cancel);
        cleanups.add(b::cancel);
        String dump = dump();
        int found = dump.indexOf("Found a coroutine deadlock:");
        assertTrue(found >= 0, dump);
        String report = dump.substring(found, dump.indexOf("Stacks of the coroutines listed above:", found));
        assertTrue(report.contains("\"rwdeadlock-b\" " + id(b) + ":\n  waiting for the write lock of " + rw
                + ", held by \"rwdeadlock-a\" " + id(a) + "\n"), report);
        assertTrue(report.contains("\"rwdeadlock-a\" " + id(a) + ":\n  waiting for the lock of " + mutex
                + ", held by \"rwdeadlock-b\" " + id(b) + "\n"), report);
        assertTrue(dump.contains("\tat io.aioco.CoRwLock.wrlock(CoRwLock.java)\n" + at("lockThenWrite", "mutexSecond")),
                dump);
    }

    @CoroutineFn
    private static void readThenLock(CoRwLock rw, CoMutex mutex) {
        rw.rdlock();
        Coroutine.yield();
        mutex.lock(); // @readerSecond
        mutex.unlock();
        rw.unlock();
    }

    @CoroutineFn
    private static void lockThenRead(CoRwLock rw, CoMutex mutex) {
        mutex.lock();
        Coroutine.yield();
        rw.rdlock(); // @readBehindWriter
        rw.unlock();
        mutex.unlock();
    }

    @CoroutineFn
    private static void writeOnce(CoRwLock rw) {
        rw.wrlock(); // @queuedWriter
        rw.unlock();
    }

    /** @return the lines of the first deadlock's report (its coroutines and waits), checked to come first */
    private static List<String> deadlockReport(String dump) {
        Matcher section = Pattern.compile("Found a coroutine deadlock:\n=+\n((?:.+\n)+)\n").matcher(dump);
        assertTrue(section.find(), dump);
        assertTrue(section.start() < dump.indexOf("\nContexts:\n"), "reported first");
        return Arrays.asList(section.group(1).split("\n"));
    }

    /** @return {@code report} turned so that it starts with the coroutine whose line is {@code first} */
    private static List<String> rotatedTo(List<String> report, String first) {
        int at = report.indexOf(first);
        assertTrue(at >= 0 && at % 2 == 0, first + " not in " + report);
        List<String> out = new ArrayList<>(report.subList(at, report.size()));
        out.addAll(report.subList(0, at));
        return out;
    }

    @Test
    void aCycleThroughAReadLockNamesTheReaderAndIsReported() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        CoMutex mutex = new CoMutex();
        Coroutine a = Coroutine.create("rdeadlock-a", () -> readThenLock(rw, mutex));
        Coroutine b = Coroutine.create("rdeadlock-b", () -> lockThenWrite(rw, mutex));
        a.enter(ctx); // a read lock of rw
        b.enter(ctx); // the mutex
        a.enter(ctx); // waits for the mutex, held by b
        b.enter(ctx); // waits for the write lock, held by reader a: the cycle
        cleanups.add(a::cancel);
        cleanups.add(b::cancel);

        String dump = dump();
        List<String> report = rotatedTo(deadlockReport(dump), "\"rdeadlock-a\" " + id(a) + ":");
        assertEquals(List.of(
                "\"rdeadlock-a\" " + id(a) + ":",
                "  waiting for the lock of " + mutex + ", held by \"rdeadlock-b\" " + id(b),
                "\"rdeadlock-b\" " + id(b) + ":",
                "  waiting for the write lock of " + rw + ", held by 1 reader(s): \"rdeadlock-a\" " + id(a)),
                report);
        List<String> listed = block(dump, "rdeadlock-b");
        assertEquals("   state: SUSPENDED, waiting for the write lock of " + rw + ", held by 1 reader(s): \"rdeadlock-a\" "
                + id(a), listed.get(1));
        assertEquals("\tat io.aioco.CoRwLock.wrlock(CoRwLock.java)", listed.get(2));
        assertEquals(at("lockThenWrite", "mutexSecond"), listed.get(3));
        List<String> reader = block(dump, "rdeadlock-a");
        assertEquals("\tat io.aioco.CoMutex.lock(CoMutex.java)", reader.get(2));
        assertEquals(at("readThenLock", "readerSecond"), reader.get(3));
    }

    @Test
    void aReaderQueuedBehindAWriterWaitsForThatWriterInTheCycle() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        CoMutex mutex = new CoMutex();
        Coroutine a = Coroutine.create("qdeadlock-a", () -> readThenLock(rw, mutex));
        Coroutine c = Coroutine.create("qdeadlock-c", () -> lockThenRead(rw, mutex));
        Coroutine w = Coroutine.create("qdeadlock-w", () -> writeOnce(rw));
        a.enter(ctx); // a read lock of rw
        c.enter(ctx); // the mutex
        w.enter(ctx); // queued for the write lock: waits for reader a
        a.enter(ctx); // waits for the mutex, held by c
        c.enter(ctx); // a read lock: queued behind writer w (QEMU's CoRwlock: no reader overtakes a writer)
        cleanups.add(a::cancel);
        cleanups.add(w::cancel);
        cleanups.add(c::cancel);

        String dump = dump();
        List<String> report = rotatedTo(deadlockReport(dump), "\"qdeadlock-a\" " + id(a) + ":");
        assertEquals(List.of(
                "\"qdeadlock-a\" " + id(a) + ":",
                "  waiting for the lock of " + mutex + ", held by \"qdeadlock-c\" " + id(c),
                "\"qdeadlock-c\" " + id(c) + ":",
                "  waiting for a read lock of " + rw + ", held by 1 reader(s): \"qdeadlock-a\" " + id(a)
                        + ", behind the queued writer \"qdeadlock-w\" " + id(w),
                "\"qdeadlock-w\" " + id(w) + ":",
                "  waiting for the write lock of " + rw + ", held by 1 reader(s): \"qdeadlock-a\" " + id(a)),
                report);
        assertEquals(at("writeOnce", "queuedWriter"), block(dump, "qdeadlock-w").get(3));
        assertEquals(at("lockThenRead", "readBehindWriter"), block(dump, "qdeadlock-c").get(3));
    }

    @CoroutineFn
    private static void readThenWrite(CoRwLock rw) {
        rw.rdlock();
        rw.wrlock(); // @writeWhileReading
        rw.unlock();
        rw.unlock();
    }

    @Test
    void aReaderAskingForTheWriteLockOfItsOwnLockIsADeadlockOfOne() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        Coroutine self = Coroutine.create("selfread", () -> readThenWrite(rw));
        self.enter(ctx); // waits for the write lock, held by itself as a reader
        cleanups.add(self::cancel);
        String dump = dump();
        assertTrue(deadlockReport(dump).containsAll(List.of("\"selfread\" " + id(self) + ":",
                "  waiting for the write lock of " + rw + ", held by 1 reader(s): \"selfread\" " + id(self) + " (itself)")),
                dump);
        assertEquals(at("readThenWrite", "writeWhileReading"), block(dump, "selfread").get(3));
    }

    @Test
    void noDeadlockIsReportedForAPlainWaitChain() throws Exception {
        AioContext ctx = context();
        CoMutex mutex = new CoMutex();
        long[] work = {0};
        Coroutine holder = Coroutine.create("chain-holder", () -> holdAndYield(mutex));
        Coroutine waiter = Coroutine.create("chain-waiter", () -> waiterBody(mutex, work));
        holder.enter(ctx);
        waiter.enter(ctx);
        cleanups.add(() -> holder.enter(ctx));
        String dump = dump();
        int found = dump.indexOf("Found a coroutine deadlock:");
        assertTrue(found < 0 || !dump.substring(found, dump.indexOf("\nContexts:\n")).contains("chain-"), dump);
    }

    // ---- the MBean ----

    @Test
    void theMBeanOperationDumpReturnsTheSameText() throws Exception {
        AioContext ctx = context(); // the first context registers the MBean (an earlier test's did already)
        CoQueue queue = new CoQueue();
        Coroutine queued = Coroutine.create("mbean-queued", () -> queue.await(null)); // @mbeanEntry
        queued.enter(ctx);
        cleanups.add(queued::cancel);
        for (Thread thread : Thread.getAllStackTraces().keySet()) {
            if (thread.getName().equals("aioco-jmx-registrar")) {
                thread.join(); // the registration is done when its thread ends
            }
        }
        Object text = ManagementFactory.getPlatformMBeanServer()
                .invoke(new ObjectName("io.aioco:type=Coroutines"), "dump", null, null);
        List<String> lines = block((String) text, "mbean-queued");
        assertEquals("   state: SUSPENDED, waiting for a wake-up from " + queue, lines.get(1));
        assertEquals("\tat io.aioco.CoQueue.await(CoQueue.java)", lines.get(2));
        assertTrue(lines.get(3).matches("\tat " + Pattern.quote(HERE) + "lambda\\$.*\\(CoroutineDumpTest\\.java:"
                + line("mbeanEntry") + "\\)"), lines.get(3));
    }

    /**
     * Coroutines of a closed context (review rv17b #8), one sleeping on a timer, one yielded then
     * scheduled: neither can ever run, and the dump says so instead of "a timer ... due in" or "its
     * turn in".
     */
    @Test
    void coroutinesOfAClosedContextAreShownAsNeverRunning() throws Exception {
        AioContext closed = AioContext.create();
        Coroutine sleeper = Coroutine.create("closed-sleeper",
                () -> Coroutine.sleepNs(ClockType.REALTIME, 3_600_000_000_000L));
        sleeper.enter(closed);
        Coroutine scheduled = Coroutine.create("closed-scheduled", Coroutine::yield);
        scheduled.enter(closed);
        closed.coSchedule(scheduled);
        closed.close();
        String dump = dump();
        String never = "   state: SUSPENDED, waiting for nothing: its context \"" + closed + "\" is closed: it can never run";
        assertEquals(never, block(dump, "closed-sleeper").get(1), dump);
        assertEquals(never, block(dump, "closed-scheduled").get(1), dump);
        for (Coroutine co : List.of(sleeper, scheduled)) {
            co.abandon(); // dropped on purpose: not reported lost once collected
        }
    }
}
