package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.internal.observe.Jfr;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import jdk.jfr.FlightRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12b, item 5 (the JFR listener's install/uninstall; Jfr.java itself predates int12b): a
 * lock-order inversion between aioco's {@code Jfr.class} monitor and JFR's {@code PlatformRecorder.class}.
 * {@code Jfr.uninstall()} (the last context's close, under LoopObserve.LOCK) and {@code Jfr.install()}
 * (the watcher thread, at the first context) are {@code static synchronized} and call {@code
 * FlightRecorder.removeListener/addListener}, which lock {@code PlatformRecorder.class}. JFR's first
 * initialization in the process ({@code FlightRecorder.getFlightRecorder()}: the first {@code new
 * Recording()}, {@code jcmd JFR.start}) holds {@code PlatformRecorder.class} for its whole start and
 * calls the listeners' {@code recorderInitialized} in it, and aioco's takes {@code Jfr.class}. A last
 * close (or a first open's install) during that start deadlocks both threads, and the closing thread
 * holds LoopObserve.LOCK: every later context creation and close in the process blocks too.
 *
 * <p>Run in a child JVM (JFR can be initialized once per process, and the deadlocked threads would
 * hang any later JFR test). Deterministic: the initializing thread takes {@code PlatformRecorder.class}
 * first (as JFR's slow start holds it), the last close runs into it, then the initialization goes on;
 * the two threads are then each seen blocked on a monitor the other owns (ThreadMXBean), no sleeps.
 */
@Timeout(120)
class JfrFirstStartDuringLastCloseTest {

    @Test
    void jfrsFirstInitializationDuringTheLastCloseDoesNotDeadlock() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Child.class.getName()).redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = child.waitFor();
            List<String> lines = out.lines().filter(l -> l.startsWith("RV12B ")).toList();
            assertEquals(List.of("RV12B OK"), lines, "exit " + code + ", child output:\n" + out);
        } finally {
            child.destroyForcibly();
        }
    }

    /** The child JVM. */
    static final class Child {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

        /** Whether {@code t} is blocked on a monitor owned by {@code owner}; spins until it is or ends. */
        @SuppressWarnings("deprecation")
        static boolean blockedBy(Thread t, Thread owner) {
            for (;;) {
                Thread.State s = t.getState();
                if (s == Thread.State.TERMINATED) {
                    return false;
                }
                if (s == Thread.State.BLOCKED) {
                    ThreadInfo info = THREADS.getThreadInfo(t.getId());
                    if (info != null && info.getLockOwnerId() == owner.getId()) {
                        return true;
                    }
                }
                Thread.onSpinWait();
            }
        }

        static void await(CountDownLatch latch) {
            try {
                latch.await();
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }

        public static void main(String[] args) throws Exception {
            AioContext ctx = AioContext.create();
            LoopObserve.awaitJfrListener(); // the watcher thread installed aioco's JFR listener
            if (FlightRecorder.isInitialized()) {
                System.out.println("RV12B PRECONDITION: JFR initialized already");
                Runtime.getRuntime().halt(3);
            }
            Object platformRecorder = Class.forName("jdk.jfr.internal.PlatformRecorder");
            CountDownLatch initStarted = new CountDownLatch(1);
            CountDownLatch closerBlocked = new CountDownLatch(1);
            Thread init = new Thread(() -> {
                synchronized (platformRecorder) { // JFR's first start holds it throughout (getFlightRecorder)
                    initStarted.countDown();
                    await(closerBlocked);
                    FlightRecorder.getFlightRecorder(); // notifies the listeners: aioco's takes Jfr.class
                }
            }, "rv12b-jfr-first-start");
            init.setDaemon(true);
            init.start();
            initStarted.await();
            Thread closer = new Thread(ctx::close, "rv12b-last-close"); // Jfr.uninstall: Jfr.class, then removeListener
            closer.setDaemon(true);
            closer.start();
            boolean closerWaits = blockedBy(closer, init);
            closerBlocked.countDown();
            boolean initWaits = blockedBy(init, closer);
            boolean closerStill = closer.getState() == Thread.State.BLOCKED;
            if (closerWaits && initWaits && closerStill) {
                System.out.println("RV12B DEADLOCK: " + closer.getName() + " holds " + Jfr.class.getName()
                        + " and waits for PlatformRecorder.class, which " + init.getName() + " holds while it waits"
                        + " for " + Jfr.class.getName());
                for (ThreadInfo info : THREADS.dumpAllThreads(true, true)) {
                    if (info.getThreadName().startsWith("rv12b-")) {
                        System.out.print(info);
                    }
                }
                Runtime.getRuntime().halt(1);
            }
            init.join();
            closer.join();
            System.out.println("RV12B OK");
            Runtime.getRuntime().halt(0);
        }
    }
}
