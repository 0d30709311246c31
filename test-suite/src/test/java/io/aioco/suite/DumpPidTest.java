package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code java -jar aioco-agent.jar dump PID} against a child JVM whose coroutines are stuck on a
 * CoMutex: the dump, taken through the Attach API, is printed on the caller's standard output.
 * With the agent's {@code probes} option every live coroutine is listed with its stack; without
 * it, the contexts and their counts are (the stuck coroutines are neither running nor scheduled).
 */
class DumpPidTest {
    @TempDir
    Path work;

    private static final String STUCK = """
            package demo;

            import io.aioco.CoMutex;
            import io.aioco.Coroutine;
            import io.aioco.CoroutineFn;
            import io.aioco.IOThread;
            import java.util.concurrent.CountDownLatch;

            public class Stuck {
                @CoroutineFn
                static void inner(CoMutex mutex) {
                    mutex.lock();
                }

                public static void main(String[] args) throws Exception {
                    IOThread io = IOThread.start("demo-io");
                    CoMutex mutex = new CoMutex();
                    CountDownLatch started = new CountDownLatch(1);
                    io.context().scheduleOneshot(() -> {
                        Coroutine.create("child-holder", () -> {
                            mutex.lock();
                            Coroutine.yield();
                        }).enter();
                        Coroutine.create("child-waiter", () -> inner(mutex)).enter();
                        started.countDown();
                    });
                    started.await();
                    System.out.println("READY " + ProcessHandle.current().pid());
                    System.in.read(); // until the test closes our input
                    io.close();
                }
            }
            """;

    private String dumpOfChild(String agentOptions) throws Exception {
        Path classes = ChildJvm.compile(work, "stuck-" + agentOptions.replace(',', '-').replace('=', '-'),
                new String[][] {{"demo/Stuck.java", STUCK}}, ChildJvm.runtime().toString());
        List<String> command = ChildJvm.command(ChildJvm.agent(agentOptions), "-cp",
                classes + File.pathSeparator + ChildJvm.runtime(), "demo.Stuck");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line;
            String pid = null;
            StringBuilder seen = new StringBuilder();
            while ((line = output.readLine()) != null) {
                seen.append(line).append('\n');
                if (line.startsWith("READY ")) {
                    pid = line.substring("READY ".length());
                    break;
                }
            }
            assertTrue(pid != null, "the child did not start:\n" + seen);
            assertEquals(Long.toString(child.pid()), pid);
            String dump = ChildJvm.run(ChildJvm.command("-jar", System.getProperty("aioco.agent.jar"), "dump",
                    pid));
            child.getOutputStream().close(); // the child ends
            assertTrue(child.waitFor(2, TimeUnit.MINUTES), "the child did not end");
            assertEquals(0, child.exitValue(), "child output:\n" + seen + new String(child.getInputStream().readAllBytes(),
                    StandardCharsets.UTF_8));
            return dump;
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void withProbesEveryLiveCoroutineIsPrintedWithItsStack() throws Exception {
        String dump = dumpOfChild("cache=off,probes");
        assertTrue(dump.startsWith("aioco coroutine dump "), dump);
        assertTrue(dump.contains("\n(probes on: every live coroutine)\n"), dump);
        assertTrue(dump.contains("\n  \"demo-io\" thread=\"demo-io\": bottom halves pending 0, timers 0, fd handlers 0,"
                + " coroutines 2 (scheduled 0)\n"), dump);
        int waiter = dump.indexOf("\n\"child-waiter\" Coroutine@");
        assertTrue(waiter >= 0, dump);
        String[] block = dump.substring(waiter + 1, dump.indexOf("\n\n", waiter + 1)).split("\n");
        assertTrue(block[0].matches("\"child-waiter\" Coroutine@[0-9a-f]+ context=\"demo-io\" thread=\"demo-io\" last ran .* ago"),
                block[0]);
        assertTrue(block[1].matches("   state: SUSPENDED, waiting for the lock of CoMutex@[0-9a-f]+, held by"
                + " \"child-holder\" Coroutine@[0-9a-f]+"), block[1]);
        assertEquals("\tat io.aioco.CoMutex.lock(CoMutex.java)", block[2]);
        assertEquals("\tat demo.Stuck.inner(Stuck.java:12)", block[3]);
        assertTrue(block[4].matches("\tat demo\\.Stuck\\.lambda\\$main\\$[0-9]+\\(Stuck\\.java:24\\)"), block[4]);
    }

    @Test
    void withoutProbesTheContextsAndTheirCountsArePrinted() throws Exception {
        String dump = dumpOfChild("cache=off");
        assertTrue(dump.contains("\n(probes off: the running and scheduled coroutines only;"), dump);
        assertTrue(dump.contains("\n  \"demo-io\" thread=\"demo-io\": bottom halves pending 0, timers 0, fd handlers 0,"
                + " coroutines 0 (scheduled 0)\n"), dump);
        assertTrue(dump.contains("\nCoroutines: 0\n"), dump);
    }

    private static final String HALF_PAIR = """
            package demo;

            import io.aioco.Coroutine;
            import io.aioco.IOThread;
            import java.util.concurrent.CountDownLatch;

            public class HalfPair {
                static Coroutine kept; // NOTE: suspended in a plain yield: only this keeps it

                public static void main(String[] args) throws Exception {
                    IOThread io = IOThread.start("demo-io");
                    CountDownLatch started = new CountDownLatch(1);
                    io.context().scheduleOneshot(() -> {
                        // a user string cut in the middle of a surrogate pair (an emoji)
                        kept = Coroutine.create("half-\\ud83d", Coroutine::yield);
                        kept.enter();
                        started.countDown();
                    });
                    started.await();
                    System.out.println("READY " + ProcessHandle.current().pid());
                    System.in.read(); // until the test closes our input
                    System.exit(0); // NOTE: the IOThread (not a daemon) holds a suspended coroutine
                }
            }
            """;

    /** A fake runtime whose dump fails in the target as a full disk would. */
    private static final String FAILING_RUNTIME = """
            package io.aioco;

            public final class Coroutine {
                public static void dump(Appendable out) throws java.io.IOException {
                    throw new java.io.IOException("no space left on device (a test's fake runtime)");
                }
            }
            """;

    private static final String HOLDER = """
            package demo;

            public class Holder {
                public static void main(String[] args) throws Exception {
                    Class.forName("io.aioco.Coroutine");
                    System.out.println("READY " + ProcessHandle.current().pid());
                    System.in.read(); // until the test closes our input
                }
            }
            """;

    /** The lines a child printed before its READY line (dumpPidOf). */
    private final List<String> before = new ArrayList<>();

    /** @return the exit status, standard output and standard error of {@code dump PID} against a child */
    private String[] dumpPidOf(List<String> childCommand) throws Exception {
        Process child = new ProcessBuilder(childCommand).redirectErrorStream(true).start();
        try {
            BufferedReader output = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
            String line = output.readLine();
            while (line != null && line.startsWith("MBEAN ")) {
                before.add(line);
                line = output.readLine();
            }
            assertTrue(line != null && line.startsWith("READY "), "the child did not start: " + line);
            String pid = line.substring("READY ".length());
            Process dump = new ProcessBuilder(ChildJvm.command("-jar", System.getProperty("aioco.agent.jar"), "dump", pid))
                    .start();
            String out = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(dump.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(dump.waitFor(2, TimeUnit.MINUTES));
            child.getOutputStream().close();
            assertTrue(child.waitFor(2, TimeUnit.MINUTES), "the child did not end");
            return new String[] {Integer.toString(dump.exitValue()), out, err, pid};
        } finally {
            child.destroyForcibly();
        }
    }

    /**
     * A coroutine named with half a surrogate pair (review rv17b #5): the target's UTF-8 writer
     * used to fail on it, and {@code dump PID} printed nothing but "Agent JAR loaded but agent failed
     * to initialize". The name is escaped as {@code \\ud83d}, and the dump printed.
     */
    @Test
    void aCoroutineNamedWithHalfASurrogatePairIsDumpedWithTheHalfEscaped() throws Exception {
        Path classes = ChildJvm.compile(work, "half-pair", new String[][] {{"demo/HalfPair.java", HALF_PAIR}},
                ChildJvm.runtime().toString());
        String[] result = dumpPidOf(ChildJvm.command(ChildJvm.agent("cache=off,probes"), "-cp",
                classes + File.pathSeparator + ChildJvm.runtime(), "demo.HalfPair"));
        assertEquals("0", result[0], "out:\n" + result[1] + "err:\n" + result[2]);
        assertTrue(result[1].contains("\n\"half-\\ud83d\" Coroutine@"), result[1]);
    }

    /**
     * When the target's side fails, the caller prints the target's exception (the Attach API passes
     * back only "Agent JAR loaded but agent failed to initialize") and exits with status 1.
     */
    @Test
    void aFailureInTheTargetIsPrintedByTheCallerWithTheTargetsException() throws Exception {
        Path classes = ChildJvm.compile(work, "failing", new String[][] {
                {"io/aioco/Coroutine.java", FAILING_RUNTIME}, {"demo/Holder.java", HOLDER}}, ".");
        String[] result = dumpPidOf(ChildJvm.command("-cp", classes.toString(), "demo.Holder"));
        assertEquals("1", result[0], "out:\n" + result[1] + "err:\n" + result[2]);
        assertEquals("", result[1]);
        assertTrue(result[2].startsWith("aioco dump " + result[3] + ": the dump failed in that JVM:"
                + " java.io.UncheckedIOException: cannot write the coroutine dump to "), result[2]);
        assertTrue(result[2].contains("Caused by: java.io.IOException: no space left on device (a test's fake runtime)"),
                result[2]);
    }

    private static final String TWO_COPIES = """
            package demo;

            import java.net.URL;
            import java.net.URLClassLoader;
            import java.nio.file.Path;

            public class TwoCopies {
                public static void main(String[] args) throws Exception {
                    URL runtime = Path.of(args[0]).toUri().toURL();
                    URL classes = Path.of(args[1]).toUri().toURL();
                    Object[] kept = new Object[2];
                    for (int i = 0; i < 2; i++) {
                        URLClassLoader loader = new URLClassLoader("copy" + i, new URL[] {runtime, classes},
                                ClassLoader.getPlatformClassLoader());
                        kept[i] = loader.loadClass("demo.CopyChild").getMethod("start", String.class)
                                .invoke(null, "in-copy-" + i);
                    }
                    for (Thread t : Thread.getAllStackTraces().keySet()) {
                        if (t.getName().equals("aioco-jmx-registrar")) {
                            t.join(); // each copy registers its MBean on a thread of its own
                        }
                    }
                    var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
                    for (var name : new java.util.TreeSet<>(server.queryNames(
                            new javax.management.ObjectName("io.aioco:type=Coroutines,*"), null))) {
                        String dump = (String) server.invoke(name, "dump", new Object[0], new String[0]);
                        System.out.println("MBEAN " + name + " " + (dump.contains("in-copy-0") ? "in-copy-0" : "")
                                + (dump.contains("in-copy-1") ? "in-copy-1" : ""));
                    }
                    System.out.println("READY " + ProcessHandle.current().pid());
                    System.in.read(); // until the test closes our input
                    System.out.println(kept.length);
                }
            }
            """;

    private static final String COPY_CHILD = """
            package demo;

            import io.aioco.AioContext;
            import io.aioco.Coroutine;

            public class CopyChild {
                public static Object start(String name) {
                    AioContext ctx = AioContext.create();
                    Coroutine co = Coroutine.create(name, () -> { });
                    ctx.coSchedule(co); // scheduled, never polled: listed without probes
                    return new Object[] {ctx, co};
                }
            }
            """;

    /**
     * Two copies of the runtime in two class loaders (review rv17b #10): {@code dump PID} prints a
     * header naming each copy's class loader before its dump (both copies name their first context
     * AioContext-1: without it, nothing says which coroutines are whose).
     */
    @Test
    void twoCopiesOfTheRuntimeAreDumpedEachUnderAHeaderNamingItsClassLoader() throws Exception {
        Path classes = ChildJvm.compile(work, "two-copies", new String[][] {
                {"demo/TwoCopies.java", TWO_COPIES}, {"demo/CopyChild.java", COPY_CHILD}}, ChildJvm.runtime().toString());
        String[] result = dumpPidOf(ChildJvm.command("-cp", classes.toString(), "demo.TwoCopies",
                ChildJvm.runtime().toString(), classes.toString()));
        assertEquals("0", result[0], "out:\n" + result[1] + "err:\n" + result[2]);
        String dump = result[1];
        java.util.regex.Matcher headers = java.util.regex.Pattern.compile(
                "(?m)^=== aioco runtime ([12]) of 2, loaded by \"(copy[01])\" \\(java\\.net\\.URLClassLoader@[0-9a-f]+\\) ===$")
                .matcher(dump);
        List<Integer> starts = new ArrayList<>();
        List<String> loaders = new ArrayList<>();
        while (headers.find()) {
            starts.add(headers.start());
            loaders.add(headers.group(2));
        }
        assertEquals(2, starts.size(), dump);
        starts.add(dump.length());
        for (int i = 0; i < 2; i++) {
            String copy = dump.substring(starts.get(i), starts.get(i + 1));
            String other = loaders.get(i).equals("copy0") ? "in-copy-1" : "in-copy-0";
            assertTrue(copy.contains("\n\"in-copy-" + loaders.get(i).charAt(4) + "\" Coroutine@"), copy);
            assertTrue(!copy.contains(other), copy);
        }
        // JMX: the second copy's MBean under a key naming its loader, each with its own coroutines
        assertEquals(2, before.size(), before.toString());
        java.util.Collections.sort(before);
        assertTrue(before.get(0).matches("MBEAN io\\.aioco:type=Coroutines in-copy-[01]"), before.toString());
        assertTrue(before.get(1).matches("MBEAN io\\.aioco:type=Coroutines,loader=\"copy[01] java\\.net\\.URLClassLoader@[0-9a-f]+\""
                + " in-copy-[01]"), before.toString());
        assertTrue(!before.get(0).substring(before.get(0).length() - 1).equals(before.get(1).substring(before.get(1).length() - 1)),
                "each MBean dumps its own copy: " + before);
    }
}
