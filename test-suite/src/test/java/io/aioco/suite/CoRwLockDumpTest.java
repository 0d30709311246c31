package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoRwLock;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * How a coroutine dump names the readers of a {@link CoRwLock} and the waits queued on it, under the
 * probes (this suite runs with them): linear in the queue, the names capped, the readers held weakly,
 * and no reader named after a read lock changed hands. From review rv17c.
 */
class CoRwLockDumpTest {
    private final List<AioContext> contexts = new ArrayList<>();
    private final List<Coroutine> started = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Coroutine co : started) {
            try {
                co.cancel();
            } catch (java.util.concurrent.CancellationException ended) {
                // NOTE: the victim's entry does not catch it
            }
        }
        for (AioContext ctx : contexts) {
            boolean[] more = {true};
            while (more[0]) {
                try {
                    more[0] = ctx.poll(false);
                } catch (java.util.concurrent.CancellationException ended) {
                    more[0] = true;
                }
            }
            ctx.close();
        }
    }

    private AioContext context() {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        return ctx;
    }

    private Coroutine create(String name, io.aioco.CoroutineEntry entry) {
        Coroutine co = Coroutine.create(name, entry);
        started.add(co);
        return co;
    }

    private static String dump() throws java.io.IOException {
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        return out.toString();
    }

    private static String id(Coroutine co) {
        return "Coroutine@" + Integer.toHexString(System.identityHashCode(co));
    }

    /** The {@code state:} line of the coroutine named {@code name} in the dump. */
    private static String stateLine(String dump, String name) {
        String[] lines = dump.substring(dump.indexOf("\nCoroutines: ")).split("\n");
        for (int i = 0; i < lines.length - 1; i++) {
            if (lines[i].startsWith("\"" + name + "\" ")) {
                return lines[i + 1];
            }
        }
        throw new AssertionError("no coroutine " + name + " in\n" + dump);
    }

    @CoroutineFn
    private static void readAndHold(CoRwLock rw) {
        rw.rdlock();
        Coroutine.yield();
        rw.unlock();
    }

    @CoroutineFn
    private static void readHandOffThenWrite(CoRwLock rw, boolean[] wrote) {
        rw.rdlock();
        Coroutine.yield(); // its read lock is released by another coroutine meanwhile (a hand-off)
        rw.wrlock();
        wrote[0] = true;
        rw.unlock();
    }

    @CoroutineFn
    private static void unlockFor(CoRwLock rw) {
        rw.unlock();
    }

    @CoroutineFn
    private static void writeOnce(CoRwLock rw) {
        rw.wrlock();
        rw.unlock();
    }

    /**
     * A read lock released by another coroutine than the one that took it: the dump cannot tell who
     * still holds the read locks, so it names none ("not all known") and follows no edge to them;
     * naming the wrong one (the oldest, as before) reported a coroutine waiting for a reader that
     * does not hold the lock as deadlocked with itself.
     */
    @Test
    void aHandedOffReadLockDoesNotMakeAFalseDeadlock() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        boolean[] wrote = {false};
        Coroutine a = create("rwdump-reader-a", () -> readAndHold(rw));
        Coroutine b = create("rwdump-reader-b", () -> readHandOffThenWrite(rw, wrote));
        Coroutine c = create("rwdump-releaser", () -> unlockFor(rw));
        a.enter(ctx); // read lock 1 (a)
        b.enter(ctx); // read lock 2 (b)
        c.enter(ctx); // releases b's read lock for it: 1 reader left, a
        b.enter(ctx); // b asks for the write lock: waits for reader a only

        String dump = dump();
        assertFalse(dump.contains("Found a coroutine deadlock"),
                "no cycle exists (a holds the read lock and will release it), but the dump reports one:\n"
                        + dump.substring(0, Math.min(dump.length(), 2000)));
        assertEquals("   state: SUSPENDED, waiting for the write lock of " + rw
                + ", held by 1 reader(s), not all known", stateLine(dump, "rwdump-reader-b"));

        a.enter(ctx); // a unlocks: b is granted the write lock
        while (ctx.poll(false)) {
            // run b
        }
        assertTrue(wrote[0], "b got the write lock once a unlocked: it was never deadlocked");
        assertTrue(rw.toString().endsWith("[free]"), rw.toString());

        // free of readers again: the names are known again
        Coroutine d = create("rwdump-reader-d", () -> readAndHold(rw));
        Coroutine e = create("rwdump-writer-e", () -> writeOnce(rw));
        d.enter(ctx);
        e.enter(ctx);
        assertEquals("   state: SUSPENDED, waiting for the write lock of " + rw + ", held by 1 reader(s): \"rwdump-reader-d\" "
                + id(d), stateLine(dump(), "rwdump-writer-e"));
    }

    /**
     * Many readers holding the lock and many queued behind a writer (QEMU's graph-lock pattern:
     * every request a reader): each line names at most eight readers, and a wait's edges are the
     * nearest queued writer or the holders, so the dump grows linearly: 400 readers holding, 1
     * writer queued, 400 readers queued behind it made 6 KB per coroutine before.
     */
    @Test
    void theDumpOfManyReadersAndWaitersStaysLinear() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        int n = 400;
        List<Coroutine> holders = new ArrayList<>();
        java.util.Map<Coroutine, String> names = new java.util.IdentityHashMap<>();
        for (int i = 0; i < n; i++) {
            Coroutine holder = create("rwdump-holder-" + i, () -> readAndHold(rw));
            holder.enter(ctx);
            holders.add(holder);
            names.put(holder, "rwdump-holder-" + i);
        }
        Coroutine writer = create("rwdump-writer", () -> writeOnce(rw));
        writer.enter(ctx);
        for (int i = 0; i < n; i++) {
            create("rwdump-queued-" + i, () -> readAndHold(rw)).enter(ctx);
        }
        String dump = dump();
        int coroutines = 2 * n + 1;
        assertTrue(dump.length() < coroutines * 2_000,
                "a dump of " + coroutines + " coroutines is " + dump.length() + " chars ("
                        + dump.length() / coroutines + " per coroutine)");

        // the writer's line: the first eight readers by id, then a count
        holders.sort((x, y) -> Integer.compareUnsigned(System.identityHashCode(x), System.identityHashCode(y)));
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            first.append(i == 0 ? " " : ", ").append('"').append(names.get(holders.get(i))).append("\" ").append(id(holders.get(i)));
        }
        assertEquals("   state: SUSPENDED, waiting for the write lock of " + rw + ", held by " + n + " reader(s):"
                + first + " and " + (n - 8) + " more", stateLine(dump, "rwdump-writer"));
        // a queued reader's line names the writer ahead of it
        assertTrue(stateLine(dump, "rwdump-queued-399").endsWith(" and " + (n - 8) + " more, behind the queued writer \"rwdump-writer\" "
                + id(writer)), stateLine(dump, "rwdump-queued-399"));
    }

    /**
     * Many writers queued behind one reader: each write ticket's line names the nearest writer
     * ahead of it only (it listed every writer ahead: 6 KB per coroutine for 600 writers, growing as
     * the square).
     */
    @Test
    void theDumpOfManyQueuedWritersStaysLinear() throws Exception {
        AioContext ctx = context();
        CoRwLock rw = new CoRwLock();
        create("rwdump-w-holder", () -> readAndHold(rw)).enter(ctx);
        int n = 600;
        List<Coroutine> writers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Coroutine w = create("rwdump-w-" + i, () -> writeOnce(rw));
            w.enter(ctx);
            writers.add(w);
        }
        String dump = dump();
        int coroutines = n + 1;
        assertTrue(dump.length() < coroutines * 2_000,
                "a dump of " + coroutines + " coroutines is " + dump.length() + " chars ("
                        + dump.length() / coroutines + " per coroutine)");
        String last = stateLine(dump, "rwdump-w-" + (n - 1));
        Matcher behind = Pattern.compile("behind the queued writer").matcher(last);
        assertTrue(behind.find() && !behind.find(), last);
        assertTrue(last.endsWith(", behind the queued writer \"rwdump-w-" + (n - 2) + "\" " + id(writers.get(n - 2))), last);
    }

    @CoroutineFn
    private static void readThenWaitOn(CoRwLock rw, io.aioco.CoQueue queue) {
        rw.rdlock();
        queue.await(null); // nothing can wake it once the queue is dropped
    }

    private static final java.util.concurrent.LinkedBlockingQueue<String> LOST =
            new java.util.concurrent.LinkedBlockingQueue<>();

    /**
     * A coroutine lost while it holds a read lock of a lock that stays reachable is reported lost:
     * the lock names its readers (under the probes) weakly. A strong list kept it from ever being
     * collected, so the case that leaks a read lock forever was the silent one.
     */
    @Test
    void aLostReaderIsStillReportedLost() throws Exception {
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.aioco");
        java.util.logging.Handler handler = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord record) {
                String message = record.getMessage();
                if (message != null && message.contains(" lost while suspended at:")) {
                    LOST.add(message);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        logger.addHandler(handler);
        try {
            AioContext ctx = context();
            CoRwLock rw = new CoRwLock(); // stays reachable (a server's shared lock)
            enterLostReader(ctx, rw);
            for (int round = 0; round < 100; round++) {
                for (String report; (report = LOST.poll()) != null; ) {
                    if (report.contains("\"rwdump-lost-reader\"")) {
                        assertTrue(rw.toString().endsWith("[1 readers]"), rw.toString()); // the read lock stays leaked
                        return;
                    }
                }
                System.gc();
                String report = LOST.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (report != null) {
                    LOST.add(report);
                }
            }
            throw new AssertionError("no lost-coroutine report for the reader after 100 collections; lock " + rw);
        } finally {
            logger.removeHandler(handler);
        }
    }

    /** Not through {@link #create}: the test keeps no reference to it. */
    private static void enterLostReader(AioContext ctx, CoRwLock rw) {
        io.aioco.CoQueue queue = new io.aioco.CoQueue();
        Coroutine.create("rwdump-lost-reader", () -> readThenWaitOn(rw, queue)).enter(ctx);
    }
}
