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
}
