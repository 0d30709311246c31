package io.aioco.instrumenter.random;

/**
 * The fixed part of every generated program: class {@code gen.Rt}, compiled with the generated
 * class {@code gen.Prog} (for the same {@code --release}, from 8 on: Java 8 source). It holds the
 * trace, the yield switch and schedule, the yield helpers used inside expressions (one per type),
 * the exceptions, the helper class with an instance coroutine function and a default coroutine
 * method, the generic coroutine interface {@code Fn<A, R>} for method references, the service
 * {@code Svc} with its leaf, its plain superclass path ({@code Sub extends Base}) and its decorator
 * {@code Deco} (which the instrumented runs exclude), the resources, and the driver that enters the
 * coroutine until it ends.
 *
 * <p>The model of a crossing: a plain run with {@code simulated} set consumes the yield schedule
 * exactly as the instrumented run does, and where a yield is taken below a plain frame ({@code
 * Base.get}, or {@code Deco.get} when excluded), it throws the documented {@code
 * IllegalStateException} naming that frame, which is where the instrumented run must throw it;
 * {@code caught()} traces that error by the frame it names, not by its wording.
 */
public final class ProgramSupport {
    private ProgramSupport() {}

    /** Dotted name of the support class. */
    public static final String CLASS_NAME = "gen.Rt";

    /** Source of {@code gen.Rt}. */
    public static final String SOURCE = """
            package gen;

            import io.aioco.*;
            import java.util.Arrays;

            public final class Rt {
                static final StringBuilder TRACE = new StringBuilder();
                /** false: yieldPoint() never yields (the reference run). */
                static boolean yielding;
                /** Per call of yieldPoint(): yield or not, cycled; null or empty: always. */
                static boolean[] schedule;
                static int scheduleIndex;
                /** Yields actually taken. */
                static int yields;
                /** Calls left before the program is stopped (keeps recursion and loops bounded). */
                static int fuel;
                public static String result;
                /**
                 * The reference run of a yielding mode: yieldPoint() consumes the schedule and counts
                 * as in the instrumented run but goes straight on, except inside a crossing region,
                 * where it throws the error the instrumented run must throw there.
                 */
                public static boolean simulated;
                /** Plain frames (Base.get, Deco.get) between the caller and a suspending Svc.get. */
                static int crossing;
                /** The innermost such frame, as Class.method. */
                static String crossingFrame;
                /** Yields taken inside a crossing region: each must end in the crossing error. */
                static int crossings;

                /** Stops a run that got too big; an Error so that generated catch clauses miss it. */
                public static final class OutOfFuel extends Error {
                    public OutOfFuel(String message) { super(message); }
                }
                public static final class Boom extends RuntimeException {
                    public Boom(String message) { super(message); }
                }
                public static final class CheckedBoom extends Exception {
                    public CheckedBoom(String message) { super(message); }
                }
                public enum Color { RED, GREEN, BLUE }

                /** A generic coroutine interface: method references to int functions go through boxing. */
                public interface Fn<A, R> {
                    @CoroutineFn R apply(A a) throws Exception;
                }

                /** A coroutine interface method with implementations behind plain or excluded frames. */
                public interface Svc {
                    @CoroutineFn int get(int k) throws Exception;
                }

                public static final class Leaf implements Svc {
                    @CoroutineFn @Override public int get(int k) {
                        t("leaf get " + k);
                        yieldPoint();
                        t("leaf got " + k);
                        return k * 7 + 1;
                    }
                }

                /** Not a Svc: its get is plain, and becomes Sub's implementation of Svc.get. */
                public static class Base {
                    final Svc inner;
                    public Base(Svc inner) { this.inner = inner; }
                    public int get(int k) throws Exception {
                        t("base get " + k);
                        String outer = crossingFrame;
                        crossingFrame = "gen.Rt$Base.get";
                        crossing++;
                        try {
                            int r = inner.get(k);
                            t("base got " + r);
                            return r;
                        } finally {
                            crossing--;
                            crossingFrame = outer;
                        }
                    }
                }

                public static final class Sub extends Base implements Svc {
                    public Sub(Svc inner) { super(inner); }
                }

                /** An annotated decorator that the instrumented runs exclude from instrumentation. */
                public static final class Deco implements Svc {
                    final Svc inner;
                    public Deco(Svc inner) { this.inner = inner; }
                    @CoroutineFn @Override public int get(int k) throws Exception {
                        t("deco get " + k);
                        String outer = crossingFrame;
                        crossingFrame = "gen.Rt$Deco.get";
                        crossing++;
                        try {
                            int r = inner.get(k);
                            t("deco got " + r);
                            return r;
                        } finally {
                            crossing--;
                            crossingFrame = outer;
                        }
                    }
                }

                public interface IntFn {
                    @CoroutineFn int apply(int v) throws Exception;
                }

                public interface Stepper {
                    int base();

                    @CoroutineFn default int step(int by) {
                        yieldPoint();
                        int r = base() * 2 + by;
                        t("step " + r);
                        return r;
                    }
                }

                public static final class Holder implements Stepper {
                    int value;

                    public Holder(int value) { this.value = value; t("new H" + value); }

                    @CoroutineFn public int bump(int by) {
                        yieldPoint();
                        value += by;
                        t("bump H" + value);
                        return value;
                    }

                    @Override public int base() { return value; }

                    @Override public String toString() { return "H" + value; }
                }

                public static final class Res implements AutoCloseable {
                    final String name;
                    public Res(String name) { this.name = name; t("open " + name); }
                    @Override public void close() { t("close " + name); }
                }

                public static final class CoRes implements AutoCloseable {
                    final String name;
                    public CoRes(String name) { this.name = name; t("co-open " + name); }
                    @CoroutineFn @Override public void close() { yieldPoint(); t("co-close " + name); }
                }

                @CoroutineFn public static void yieldPoint() {
                    if (yielding && (schedule == null || schedule.length == 0
                            || schedule[scheduleIndex++ % schedule.length])) {
                        yields++;
                        if (crossing > 0) {
                            crossings++;
                        }
                        if (simulated) {
                            if (crossing > 0) {
                                throw new IllegalStateException("cannot suspend coroutine: (simulated) was called from "
                                        + crossingFrame + "(Rt.java), which is not instrumented");
                            }
                            return;
                        }
                        Coroutine.yield();
                    }
                }

                @CoroutineFn public static int yI(int v) { yieldPoint(); return v; }
                @CoroutineFn public static long yJ(long v) { yieldPoint(); return v; }
                @CoroutineFn public static double yD(double v) { yieldPoint(); return v; }
                @CoroutineFn public static boolean yZ(boolean v) { yieldPoint(); return v; }
                @CoroutineFn public static String yS(String v) { yieldPoint(); return v; }
                @CoroutineFn public static int[] yA(int[] v) { yieldPoint(); return v; }
                @CoroutineFn public static Object yO(Object v) { yieldPoint(); return v; }
                @CoroutineFn public static byte yB(byte v) { yieldPoint(); return v; }
                @CoroutineFn public static short yH(short v) { yieldPoint(); return v; }
                @CoroutineFn public static char yC(char v) { yieldPoint(); return v; }
                @CoroutineFn public static float yF(float v) { yieldPoint(); return v; }
                @CoroutineFn public static long[] yLA(long[] v) { yieldPoint(); return v; }
                @CoroutineFn public static String[] ySA(String[] v) { yieldPoint(); return v; }

                public static void t(String event) {
                    if (TRACE.length() > 100_000) {
                        throw new OutOfFuel("trace too long");
                    }
                    TRACE.append(event).append('\\n');
                }

                public static void enter(String call) {
                    if (--fuel < 0) {
                        throw new OutOfFuel("out of fuel at " + call);
                    }
                    t(call);
                }

                public static String cap(String s) { return s.length() > 40 ? s.substring(0, 40) : s; }

                public static String show(int v) { return String.valueOf(v); }
                public static String show(long v) { return v + "L"; }
                public static String show(double v) { return v + "D"; }
                public static String show(boolean v) { return String.valueOf(v); }
                public static String show(String v) { return '"' + v + '"'; }
                public static String show(int[] v) { return Arrays.toString(v); }
                public static String show(Object v) { return "(Object) " + v; }
                public static String show(byte v) { return v + "B"; }
                public static String show(short v) { return v + "S"; }
                public static String show(char v) { return "'" + v + "'"; }
                public static String show(float v) { return v + "F"; }
                public static String show(long[] v) { return Arrays.toString(v); }
                public static String show(String[] v) { return Arrays.toString(v); }

                public static int ret(String site, int v) { t(site + " return " + show(v)); return v; }
                public static long ret(String site, long v) { t(site + " return " + show(v)); return v; }
                public static double ret(String site, double v) { t(site + " return " + show(v)); return v; }
                public static boolean ret(String site, boolean v) { t(site + " return " + show(v)); return v; }
                public static String ret(String site, String v) { t(site + " return " + show(v)); return v; }
                public static int[] ret(String site, int[] v) { t(site + " return " + show(v)); return v; }
                public static Object ret(String site, Object v) { t(site + " return " + show(v)); return v; }
                public static byte ret(String site, byte v) { t(site + " return " + show(v)); return v; }
                public static short ret(String site, short v) { t(site + " return " + show(v)); return v; }
                public static char ret(String site, char v) { t(site + " return " + show(v)); return v; }
                public static float ret(String site, float v) { t(site + " return " + show(v)); return v; }
                public static long[] ret(String site, long[] v) { t(site + " return " + show(v)); return v; }
                public static String[] ret(String site, String[] v) { t(site + " return " + show(v)); return v; }

                /**
                 * A caught exception as traced: the crossing error as the frame it names (its wording
                 * is free), everything else as toString().
                 */
                public static String caught(Throwable e) {
                    String message = e.getMessage();
                    if (e instanceof IllegalStateException && message != null
                            && message.startsWith("cannot suspend coroutine")) {
                        int at = message.indexOf(" was called from ");
                        if (at < 0) {
                            return "crossing error naming no frame: " + message;
                        }
                        String frame = message.substring(at + " was called from ".length());
                        int end = 0;
                        while (end < frame.length() && frame.charAt(end) != '(' && frame.charAt(end) != ','
                                && frame.charAt(end) != ' ') {
                            end++;
                        }
                        return "crossing error naming " + frame.substring(0, end);
                    }
                    return String.valueOf(e);
                }

                static String describe(Throwable failure) {
                    if (failure == null) {
                        return "none";
                    }
                    if (failure instanceof CoroutineException && failure.getCause() != null) {
                        return "wrapped " + describe(failure.getCause());
                    }
                    if (failure.getMessage() != null && failure.getMessage().startsWith("cannot suspend coroutine")) {
                        return caught(failure);
                    }
                    return failure.getClass().getName() + ": " + failure.getMessage();
                }

                /**
                 * Runs the entry in a fresh coroutine, entering it until it terminates. Returns
                 * {trace, result, enters, yields, terminated, failure, crossings}.
                 */
                public static Object[] drive(CoroutineEntry entry, boolean yieldingMode, boolean[] yieldSchedule) {
                    TRACE.setLength(0);
                    yields = 0;
                    crossing = 0;
                    crossingFrame = null;
                    crossings = 0;
                    fuel = 300;
                    result = null;
                    yielding = yieldingMode;
                    schedule = yieldSchedule;
                    scheduleIndex = 0;
                    Coroutine co = Coroutine.create(entry);
                    int enters = 0;
                    Throwable failure = null;
                    try {
                        do {
                            enters++;
                            co.enter();
                        } while (!co.isTerminated() && enters < 1_000_000);
                    } catch (Throwable e) {
                        failure = e;
                    }
                    return new Object[] {TRACE.toString(), result, enters, yields, co.isTerminated(), describe(failure),
                            crossings};
                }
            }
            """;
}
