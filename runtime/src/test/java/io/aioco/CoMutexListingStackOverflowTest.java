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
 * queued behind a holder), until a call completes; calls that overflow are caught. The sweep is
 * made twelve times, the section called through a frame one slot (8 bytes) bigger each time, so the
 * overflow meets every part of the sections. Then, with no thread in any section, no mutex may have
 * LISTING set (an exact invariant). Run in a child JVM in
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
        private static final int PADDINGS = 12;
        private static int pad;
        private static int sink;

        public static void main(String[] args) throws Exception {
            Field state = CoMutex.class.getDeclaredField("state");
            state.setAccessible(true);
            for (String kind : List.of("release", "claimCancel", "publish")) {
                int stuck = 0;
                int overflows = 0;
                // NOTE: each sweep calls the section through a frame 8 bytes bigger than the last,
                // so that, together, they meet the overflow at every 8 bytes of stack, not only at
                // every frame of descend()
                for (int padding = 0; padding < PADDINGS; padding++) {
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
                    lastOverflowed = false;
                    pad = padding;
                    Thread t = new Thread(null, Child::descend, "probe", 1 << 20);
                    t.start();
                    t.join();
                    overflows += overflowed;
                    for (CoMutex mutex : mutexes) {
                        if ((state.getInt(mutex) & LISTING) != 0) {
                            stuck++;
                        }
                    }
                }
                System.out.println("RV14A " + kind + ": LISTING left set on " + stuck + " mutexes ("
                        + overflows + " calls overflowed)");
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
                    padded(op);
                } catch (StackOverflowError e) {
                    overflowed++;
                    lastOverflowed = true;
                }
            }
        }

        private static boolean lastOverflowed;

        /** Calls {@code op} through a frame of {@link #pad} more int locals than the smallest. */
        private static void padded(Runnable op) {
            switch (pad) {
                case 0 -> pad0(op);
                case 1 -> pad1(op);
                case 2 -> pad2(op);
                case 3 -> pad3(op);
                case 4 -> pad4(op);
                case 5 -> pad5(op);
                case 6 -> pad6(op);
                case 7 -> pad7(op);
                case 8 -> pad8(op);
                case 9 -> pad9(op);
                case 10 -> pad10(op);
                case 11 -> pad11(op);
                default -> throw new AssertionError(pad);
            }
        }

        private static void pad0(Runnable op) {
            op.run();
            sink += 0;
        }

        private static void pad1(Runnable op) {
            int a0 = 0;
            op.run();
            sink += a0;
        }

        private static void pad2(Runnable op) {
            int a0 = 0; int a1 = 1;
            op.run();
            sink += a0 + a1;
        }

        private static void pad3(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2;
            op.run();
            sink += a0 + a1 + a2;
        }

        private static void pad4(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3;
            op.run();
            sink += a0 + a1 + a2 + a3;
        }

        private static void pad5(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4;
        }

        private static void pad6(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5;
        }

        private static void pad7(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            int a6 = 6;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5 + a6;
        }

        private static void pad8(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            int a6 = 6; int a7 = 7;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
        }

        private static void pad9(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            int a6 = 6; int a7 = 7; int a8 = 8;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8;
        }

        private static void pad10(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            int a6 = 6; int a7 = 7; int a8 = 8; int a9 = 9;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9;
        }

        private static void pad11(Runnable op) {
            int a0 = 0; int a1 = 1; int a2 = 2; int a3 = 3; int a4 = 4; int a5 = 5;
            int a6 = 6; int a7 = 7; int a8 = 8; int a9 = 9; int a10 = 10;
            op.run();
            sink += a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10;
        }
    }
}
