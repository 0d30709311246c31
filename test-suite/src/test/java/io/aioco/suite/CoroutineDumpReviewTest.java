package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoRwLock;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coroutine dump, after review rv1718: a self-deadlock on a CoRwLock is reported, a dump of
 * 100k suspended coroutines fits in the memory the coroutines fit in (it is streamed), and
 * {@code dump PID} against a JVM without the runtime exits with status 1.
 */
class CoroutineDumpReviewTest {
    private final List<AioContext> contexts = new ArrayList<>();
    private final List<Coroutine> victims = new ArrayList<>();

    @TempDir
    Path work;

    @AfterEach
    void cleanUp() {
        for (Coroutine victim : victims) {
            try {
                victim.cancel();
            } catch (java.util.concurrent.CancellationException ended) {
                // the victim's entry rethrows its cancellation
            }
        }
        for (AioContext ctx : contexts) {
            ctx.close();
        }
    }

    private static String dump() throws IOException {
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        return out.toString();
    }

    private static String deadlockSection(String dump) {
        int found = dump.indexOf("Found a coroutine deadlock:");
        return found < 0 ? "" : dump.substring(found, dump.indexOf("\nContexts:\n"));
    }

    @CoroutineFn
    private static void writeThenReadAgain(CoRwLock rw) {
        rw.wrlock();
        rw.rdlock(); // never granted: it holds the write lock itself
        rw.unlock();
        rw.unlock();
    }

    @CoroutineFn
    private static void writeThenWriteAgain(CoRwLock rw) {
        rw.wrlock();
        rw.wrlock(); // never granted either
        rw.unlock();
        rw.unlock();
    }

    private String selfDeadlockDump(String name, CoroutineEntryKind kind) throws IOException {
        AioContext ctx = AioContext.create();
        contexts.add(ctx);
        CoRwLock rw = new CoRwLock();
        Coroutine self = Coroutine.create(name,
                kind == CoroutineEntryKind.READ ? () -> writeThenReadAgain(rw) : () -> writeThenWriteAgain(rw));
        self.enter(ctx);
        victims.add(self);
        assertTrue(!self.isTerminated());
        return dump();
    }

    private enum CoroutineEntryKind { READ, WRITE }

    @Test
    void aWriterWaitingForItsOwnLockIsReportedAsADeadlock() throws Exception {
        String dump = selfDeadlockDump("self-rw", CoroutineEntryKind.READ);
        String deadlocks = deadlockSection(dump);
        assertTrue(deadlocks.contains("\"self-rw\" Coroutine@"), "no deadlock reported:\n" + dump);
        assertTrue(deadlocks.matches("(?s).*\n  waiting for a read lock of CoRwLock@[0-9a-f]+\\S*, held by \"self-rw\""
                + " Coroutine@[0-9a-f]+ \\(itself\\)\n.*"), dump);
        assertTrue(dump.contains("\nFound 1 deadlock.\n"), dump);
    }

    @Test
    void aWriterWaitingForItsOwnWriteLockIsReportedAsADeadlock() throws Exception {
        String dump = selfDeadlockDump("self-ww", CoroutineEntryKind.WRITE);
        assertTrue(deadlockSection(dump).matches("(?s).*\n  waiting for the write lock of CoRwLock@[0-9a-f]+\\S*, held by"
                + " \"self-ww\" Coroutine@[0-9a-f]+ \\(itself\\)\n.*"), dump);
    }

    private static final String MANY = """
            package r;
            import io.aioco.*;
            public class Many {
                @CoroutineFn static void waitOn(CoMutex m) { m.lock(); m.unlock(); }
                public static void main(String[] a) throws Exception {
                    int n = Integer.parseInt(a[0]);
                    AioContext ctx = AioContext.create();
                    CoMutex m = new CoMutex();
                    Coroutine.create("holder", () -> { m.lock(); Coroutine.yield(); m.unlock(); }).enter(ctx);
                    for (int i = 0; i < n; i++) { Coroutine.create("w" + i, () -> waitOn(m)).enter(ctx); }
                    long[] chars = new long[1];
                    Coroutine.dump(new java.io.Writer() { // counts, keeps nothing
                        @Override public void write(char[] b, int off, int len) { chars[0] += len; }
                        @Override public void flush() {}
                        @Override public void close() {}
                    });
                    System.out.println("dumped " + chars[0]);
                }
            }
            """;

    /**
     * 100k coroutines suspended on one CoMutex fit in -Xmx48m; their dump (about 29 M chars) under
     * probes, written to a Writer that keeps nothing, must fit in -Xmx96m: it is written coroutine
     * by coroutine, never held whole.
     */
    @Test
    void aDumpOf100kSuspendedCoroutinesFitsWhereTheCoroutinesFit() throws Exception {
        Path classes = ChildJvm.compile(work, "many", new String[][] {{"r/Many.java", MANY}},
                ChildJvm.runtime().toString());
        Process process = new ProcessBuilder(ChildJvm.command("-Xmx96m", ChildJvm.agent("cache=off,probes"), "-cp",
                ChildJvm.runtime() + File.pathSeparator + classes, "r.Many", "100000"))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(2, TimeUnit.MINUTES));
        assertTrue(output.matches("(?s).*dumped [0-9]{8,}\n.*"), "the dump did not fit in -Xmx96m:\n" + output);
    }

    private static final String PLAIN = """
            package p;
            public class Plain {
                public static void main(String[] args) throws Exception {
                    System.out.println("READY " + ProcessHandle.current().pid());
                    System.in.read(); // until the test closes our input
                }
            }
            """;

    /** The help says exit status 1 means the dump could not be taken: a JVM without aioco has none. */
    @Test
    void dumpPidOfAJvmWithoutTheRuntimeExitsWithStatus1() throws Exception {
        Path classes = ChildJvm.compile(work, "plain", new String[][] {{"p/Plain.java", PLAIN}},
                System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(ChildJvm.command("-cp", classes.toString(), "p.Plain"))
                .redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = output.readLine();
            assertTrue(line != null && line.startsWith("READY "), "the child did not start: " + line);
            String pid = line.substring("READY ".length());
            Process dump = new ProcessBuilder(ChildJvm.command("-jar", System.getProperty("aioco.agent.jar"), "dump", pid))
                    .start();
            String out = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(dump.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(dump.waitFor(2, TimeUnit.MINUTES));
            assertEquals(1, dump.exitValue(), "out:\n" + out + "err:\n" + err);
            assertEquals("", out);
            // the file may also be one the target could not write (another mount namespace): named, said (rv17b #14)
            assertTrue(err.matches("(?s)aioco dump " + pid + ": the dump is empty: no aioco runtime \\(io\\.aioco\\.Coroutine\\)"
                    + " is loaded in that JVM, or the JVM could not write the file .*aioco-dump-" + pid + "-[0-9]+\\.txt"
                    + " \\(it runs in another mount namespace, a container, or as another user\\)\n"), err);
            child.getOutputStream().close();
            assertTrue(child.waitFor(2, TimeUnit.MINUTES));
        } finally {
            child.destroyForcibly();
        }
    }
}
