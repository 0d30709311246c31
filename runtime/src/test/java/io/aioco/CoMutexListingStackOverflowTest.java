package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv14a: a StackOverflowError inside one of CoMutex's LISTING sections (the spin bit of its
 * state word that guards the waiter list since 852d4d4) must not leave LISTING set. A monitor is
 * released by the JVM however its block ends; the spin bit is cleared only by the {@code finally}'s
 * {@code STATE.setRelease}, itself a call (a VarHandle's, several frames deep when interpreted):
 * when the stack overflows inside the section, that call overflows too, or the section's method
 * is never entered after the CAS that took the bit (release() calls handOff() outside its try).
 * The bit then stays set for good and every later lock(), unlock() and cancel() of that mutex spins
 * in its LISTING loop forever (an IOThread burning a core and running nothing else).
 *
 * <p>Each of the three sections (an unlock's hand-off, a canceller's claim, a waiter's publication)
 * is called at every stack depth from the deepest up, on a fresh mutex each time (one waiter
 * queued behind a holder), until a call completes; calls that overflow are caught. Then, with no
 * thread in any section, no mutex may have LISTING set (an exact invariant). Run in a child JVM in
 * interpreted mode: the frames' sizes are then those of the cold code a program runs first, the
 * same in every run (the test JVM's JIT has compiled CoMutex by the time this runs in the suite).
 */
@Timeout(120)
class CoMutexListingStackOverflowTest {

    @Test
    void aStackOverflowInsideAListingSectionLeavesTheBitClear() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(java, "-Xint", "-cp", System.getProperty("java.class.path"),
                Child.class.getName()).redirectErrorStream(true).start();
        try {
            String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int code = child.waitFor();
            List<String> lines = out.lines().filter(l -> l.startsWith("RV14A ")).toList();
            assertEquals(List.of("RV14A release: LISTING left set on 0 mutexes",
                    "RV14A claimCancel: LISTING left set on 0 mutexes",
                    "RV14A publish: LISTING left set on 0 mutexes"), lines.stream()
                            .map(l -> l.replaceAll(" \\(.*", "")).toList(),
                    "exit " + code + ", child output:\n" + out);
        } finally {
            child.destroyForcibly();
        }
    }

    /** The child JVM. */
    static final class Child {
        private static final int LISTING = 2;
        private static final int LEVELS = 400;
        private static Runnable[] ops;
        private static int next;
        private static int overflowed;

        public static void main(String[] args) throws Exception {
            Field state = CoMutex.class.getDeclaredField("state");
            state.setAccessible(true);
            for (String kind : List.of("release", "claimCancel", "publish")) {
                List<CoMutex> mutexes = new ArrayList<>();
                ops = new Runnable[LEVELS];
                for (int i = 0; i < LEVELS; i++) {
                    CoMutex mutex = new CoMutex();
                    Coroutine holder = Coroutine.create(() -> {});
                    Coroutine waiter = Coroutine.create(() -> {});
                    if (!mutex.tryLock(holder)) {
                        throw new AssertionError("a fresh mutex is free");
                    }
                    CoWait wait = mutex.newWaiter(waiter);
                    if (!kind.equals("publish") && wait.publish() != null) {
                        throw new AssertionError("the waiter queues behind the holder");
                    }
                    mutexes.add(mutex);
                    ops[i] = switch (kind) {
                        case "release" -> () -> mutex.release(holder);
                        case "claimCancel" -> wait::claimCancel;
                        default -> wait::publish;
                    };
                }
                next = 0;
                overflowed = 0;
                Thread t = new Thread(null, Child::descend, "probe", 1 << 20);
                t.start();
                t.join();
                int stuck = 0;
                for (CoMutex mutex : mutexes) {
                    if ((state.getInt(mutex) & LISTING) != 0) {
                        stuck++;
                    }
                }
                System.out.println("RV14A " + kind + ": LISTING left set on " + stuck + " mutexes ("
                        + overflowed + " calls overflowed, " + next + " made)");
            }
        }

        /** Recurses until the stack overflows, then calls the next section at each depth on the way up. */
        private static void descend() {
            try {
                descend();
            } catch (StackOverflowError e) {
                // the deepest level: the calls start here
            }
            if (next < ops.length && (next == 0 || lastOverflowed)) {
                Runnable op = ops[next++];
                lastOverflowed = false;
                try {
                    op.run();
                } catch (StackOverflowError e) {
                    overflowed++;
                    lastOverflowed = true;
                }
            }
        }

        private static boolean lastOverflowed;
    }
}
