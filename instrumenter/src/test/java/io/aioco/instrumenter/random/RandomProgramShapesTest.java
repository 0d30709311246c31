package io.aioco.instrumenter.random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.aioco.instrumenter.random.ProgramRunner.Mode;
import io.aioco.instrumenter.random.ProgramRunner.Outcome;
import net.jqwik.api.Example;

/**
 * Tricky shapes met while building the random program generator, pinned down as examples. Each is a
 * {@code gen.Prog} over the support class {@code gen.Rt} (see {@link ProgramSupport}); each must run
 * instrumented exactly as it runs plainly under every yield mode ({@link ProgramRunner#check}), and
 * takes an exact number of yields when every {@code yieldPoint()} yields.
 */
class RandomProgramShapesTest {
    private static final boolean[] EVERY_OTHER = {false, true};

    /** A {@code gen.Prog} with the given functions; {@code run} calls {@code entryCall}. */
    static String program(String functions, String entryCall) {
        return "package gen;\n\nimport io.aioco.*;\n\npublic class Prog {\n" + functions.indent(4)
                + "    public static Object[] run(boolean yielding, boolean[] schedule) {\n"
                + "        return Rt.drive(() -> Rt.result = Rt.show(" + entryCall + "), yielding, schedule);\n"
                + "    }\n}\n";
    }

    /** Checks the program against plain execution and returns its always-yield run. */
    private static Outcome checkAndRunAlwaysYielding(String source) {
        assertNull(ProgramRunner.check(source, EVERY_OTHER));
        return ProgramRunner.runInstrumented(source, Mode.ALWAYS_YIELD, null);
    }

    @Example
    void uninitializedHolderOnStackWhileConstructorArgumentSuspends() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int twice(int v) throws Exception {
                    Rt.yieldPoint();
                    return v * 2;
                }

                @CoroutineFn
                static Object f0(int x) throws Exception {
                    Object o = new Rt.Holder(Rt.yI(x) + twice(x + 1));
                    Rt.t("built " + o);
                    return o;
                }
                """, "f0(3)"));
        assertEquals("(Object) H11", outcome.result());
        assertEquals(2, outcome.yields());
        assertEquals("new H11\nbuilt H11\n", outcome.trace());
    }

    @Example
    void longAndDoubleBelowSuspendingCallsOnOperandStack() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static long f1(long l) throws Exception {
                    Rt.yieldPoint();
                    return l + 1;
                }

                @CoroutineFn
                static double f0(long l, double d) throws Exception {
                    double r = d * 2.5 + (l - Rt.yJ(l * 3)) * f1(l) + Rt.yD(d);
                    Rt.t("r=" + r + " l=" + l + " d=" + d);
                    return r;
                }
                """, "f0(4L, 1.5)"));
        assertEquals("-34.75D", outcome.result());
        assertEquals(3, outcome.yields());
    }

    @Example
    void stringConcatenationWithSuspendingCallsInTheMiddle() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static String f1(int x) throws Exception {
                    Rt.yieldPoint();
                    return "<" + x + ">";
                }

                @CoroutineFn
                static String f0(int x, long l, double d, String s) throws Exception {
                    return "a" + x + Rt.yS(s) + l + d + f1(x) + Rt.show(new int[] {Rt.yI(x), x}) + 'c';
                }
                """, "f0(7, 8L, 0.5, \"s\")"));
        assertEquals("\"a7s80.5<7>[7, 7]c\"", outcome.result());
        assertEquals(3, outcome.yields());
    }

    @Example
    void arrayStoreKeepsArrayAndIndexOnStackWhileValueSuspends() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int[] f0(int n) throws Exception {
                    int[] a = new int[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = Rt.yI(i * 2) + a[Math.max(0, i - 1)];
                    }
                    return a;
                }
                """, "f0(4)"));
        assertEquals("[0, 2, 6, 12]", outcome.result());
        assertEquals(4, outcome.yields());
    }

    @Example
    void yieldInsideFinallyAfterCaughtExceptionResumesIntoFinally() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f1(int x) throws Exception {
                    Rt.yieldPoint();
                    if (x > 0) throw new Rt.Boom("f1 " + x);
                    return x;
                }

                @CoroutineFn
                static int f0(int x) throws Exception {
                    long kept = 40L + x;
                    try {
                        x = f1(x);
                    } catch (Rt.Boom e) {
                        Rt.t("caught " + e.getMessage());
                        Rt.yieldPoint();
                        x = -x;
                    } finally {
                        Rt.yieldPoint();
                        Rt.t("finally x=" + x + " kept=" + kept);
                    }
                    return x;
                }
                """, "f0(2)"));
        assertEquals("-2", outcome.result());
        assertEquals(3, outcome.yields());
        assertEquals("caught f1 2\nfinally x=-2 kept=42\n", outcome.trace());
    }

    @Example
    void exceptionThrownAfterResumeTwoCallsDeepEscapesTheEntryLikePlain() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f2(int x) throws Exception {
                    Rt.yieldPoint();
                    throw new Rt.CheckedBoom("deep " + x);
                }

                @CoroutineFn
                static int f1(int x) throws Exception {
                    try {
                        return f2(x) + 1;
                    } finally {
                        Rt.t("f1 finally");
                    }
                }

                @CoroutineFn
                static int f0(int x) throws Exception {
                    try {
                        return f1(x);
                    } catch (RuntimeException e) {
                        Rt.t("not this one");
                        return 0;
                    }
                }
                """, "f0(5)"));
        assertEquals("wrapped gen.Rt$CheckedBoom: deep 5", outcome.failure());
        assertEquals(1, outcome.yields());
        assertEquals(2, outcome.enters());
    }

    @Example
    void tryWithResourcesWhoseCloseIsACoroutineFunction() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f0(int x) throws Exception {
                    try (Rt.CoRes outer = new Rt.CoRes("outer"); Rt.Res inner = new Rt.Res("inner" + Rt.yI(x))) {
                        Rt.yieldPoint();
                        if (x > 0) throw new Rt.Boom("body");
                    } catch (Rt.Boom e) {
                        Rt.t("caught " + e.getMessage() + " suppressed=" + e.getSuppressed().length);
                    }
                    return x;
                }
                """, "f0(1)"));
        assertEquals("co-open outer\nopen inner1\nclose inner1\nco-close outer\ncaught body suppressed=0\n",
                outcome.trace());
        assertEquals(3, outcome.yields());
    }

    @Example
    void switchesOnStringAndEnumSuspendInsideArmsAndFallThrough() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f0(String s, int k) throws Exception {
                    int r = 0;
                    switch (s) {
                        case "a":
                            r += Rt.yI(1);
                        case "ab":
                            r += Rt.yI(10);
                            break;
                        default:
                            r = -1;
                    }
                    switch (Rt.Color.values()[Math.floorMod(k, 3)]) {
                        case RED -> r += 100;
                        case GREEN -> {
                            Rt.yieldPoint();
                            r += 1000;
                        }
                        default -> r = 0;
                    }
                    return r;
                }
                """, "f0(\"a\", 4)"));
        assertEquals("1011", outcome.result());
        assertEquals(3, outcome.yields());
    }

    @Example
    void switchExpressionArmsSuspendWithOperandBelowOnStack() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static long f0(int x, long l) throws Exception {
                    return l + switch (Math.floorMod(x, 3)) {
                        case 0 -> Rt.yJ(1L);
                        case 1 -> {
                            Rt.yieldPoint();
                            yield Rt.yJ(l * 2);
                        }
                        default -> 3L;
                    };
                }
                """, "f0(4, 5L)"));
        assertEquals("15L", outcome.result());
        assertEquals(2, outcome.yields());
    }

    @Example
    void boundedRecursionYieldsAtEveryLevel() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f0(int depth, String s) throws Exception {
                    Rt.t("enter " + depth);
                    int below = depth > 0 ? f0(depth - 1, s + depth) : Rt.yI(s.length());
                    Rt.yieldPoint();
                    Rt.t("leave " + depth + " s=" + s);
                    return below * 10 + depth;
                }
                """, "f0(3, \"s\")"));
        assertEquals("40123", outcome.result());
        assertEquals(5, outcome.yields());
    }

    @Example
    void coroutineLambdaCalledInsideAnExpression() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f1(int depth, int x) throws Exception {
                    Rt.yieldPoint();
                    return x + depth;
                }

                @CoroutineFn
                static int f0(int depth, int x) throws Exception {
                    return x + ((Rt.IntFn) v -> Rt.yI(v) * 2 + f1(depth, v)).apply(f1(depth, x));
                }
                """, "f0(1, 2)"));
        assertEquals("12", outcome.result());
        assertEquals(3, outcome.yields());
    }

    @Example
    void instanceAndDefaultCoroutineMethodsOnFreshReceivers() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static int f0(int x) throws Exception {
                    return new Rt.Holder(x).step(Rt.yI(2)) + new Rt.Holder(Rt.yI(x + 1)).bump(new Rt.Holder(5).bump(1));
                }
                """, "f0(1)"));
        assertEquals("12", outcome.result());
        assertEquals(5, outcome.yields());
    }

    @Example
    void shortCircuitAndTernaryWithSuspendingOperandsInCallArguments() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static String f1(boolean z, int v) throws Exception {
                    Rt.yieldPoint();
                    return z + ":" + v;
                }

                @CoroutineFn
                static String f0(int x) throws Exception {
                    return f1(x > 0 && Rt.yZ(x % 2 == 0) || Rt.yZ(false), x > 1 ? Rt.yI(x) : -x);
                }
                """, "f0(3)"));
        assertEquals("\"false:3\"", outcome.result());
        assertEquals(4, outcome.yields());
    }

    @Example
    void blockLocalSlotReusedWithAnotherTypeAcrossYields() {
        Outcome outcome = checkAndRunAlwaysYielding(program("""
                @CoroutineFn
                static String f0(int x) throws Exception {
                    String out = "";
                    {
                        long t = 10L * x;
                        Rt.yieldPoint();
                        out += t;
                    }
                    {
                        String u = "u" + x;
                        Rt.yieldPoint();
                        out += u;
                    }
                    {
                        double w = x / 4.0;
                        Rt.yieldPoint();
                        out += w;
                    }
                    return out;
                }
                """, "f0(2)"));
        assertEquals("\"20u20.5\"", outcome.result());
        assertEquals(3, outcome.yields());
    }

    /**
     * The model of a call across a plain frame: the plain run in simulated mode (see {@code
     * Rt.simulated}) predicts the documented crossing error, naming the plain frame, exactly where
     * the instrumented run suspends below it, and counts it; without a yield there, nothing fails.
     */
    @Example
    void plainRunPredictsTheCrossingErrorAtTheYieldBelowAPlainOrExcludedFrame() {
        String source = program("""
                @CoroutineFn
                static int f0(int depth) throws Exception {
                    int r = 0;
                    try {
                        r = ((Rt.Svc) new Rt.Sub(new Rt.Leaf())).get(2);
                    } catch (IllegalStateException e) {
                        Rt.t("caught " + Rt.caught(e));
                    }
                    Rt.yieldPoint();
                    return r + ((Rt.Svc) new Rt.Deco(new Rt.Leaf())).get(3) + ((Rt.Svc) new Rt.Leaf()).get(4);
                }
                """, "f0(0)");
        java.util.Map<String, byte[]> classes = ProgramCompiler.compile(source);
        Outcome predicted = ProgramRunner.run(new ProgramRunner.PlainLoader(classes), classes, true, null, true);
        assertEquals("base get 2\nleaf get 2\ncaught crossing error naming gen.Rt$Base.get\ndeco get 3\nleaf get 3\n",
                predicted.trace());
        assertEquals("crossing error naming gen.Rt$Deco.get", predicted.failure());
        assertEquals(2, predicted.crossings());
        assertEquals(3, predicted.yields());
        Outcome notYielding = ProgramRunner.run(new ProgramRunner.PlainLoader(classes), classes, false, null, false);
        assertEquals("66", notYielding.result());
        assertEquals(0, notYielding.crossings());
    }
}
