package io.aioco.instrumenter;

import static io.aioco.instrumenter.Fixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Every item of INSTRUMENTATION.md's "What must be supported", with exact results after many enters. */
class SupportedShapesTest {

    @Test
    void tableAndLookupSwitchesAcrossYields() {
        assertEquals("a0,|,b1,|,d,|,x7,|,y1000,|,z,|", run("Switches", """
                public class Switches {
                    @CoroutineFn static void body() {
                        for (int i = 0; i < 3; i++) {
                            switch (i) { case 0: Driver.log("a" + i); break; case 1: Driver.log("b" + i); break; default: Driver.log("d"); }
                            Coroutine.yield();
                        }
                        int[] keys = {7, 1000, -5};
                        for (int k : keys) {
                            switch (k) { case 7 -> { Driver.log("x" + k); } case 1000 -> Driver.log("y" + k); default -> Driver.log("z"); }
                            Coroutine.yield();
                        }
                    }
                    public static Object run() { return Driver.drive(Switches::body); }
                }
                """));
    }

    @Test
    void stringAndEnumSwitchesWithYieldInsideCases() {
        assertEquals("one,|,after1,two,|,after2,RED,|,GREEN,|,done", run("StringEnum", """
                public class StringEnum {
                    enum Color { RED, GREEN }
                    @CoroutineFn static void body() {
                        for (String s : new String[] {"one", "two"}) {
                            switch (s) {
                                case "one": Driver.log(s); Coroutine.yield(); Driver.log("after1"); break;
                                case "two": Driver.log(s); Coroutine.yield(); Driver.log("after2"); break;
                            }
                        }
                        for (Color c : Color.values()) {
                            switch (c) { case RED -> { Driver.log(c); Coroutine.yield(); } case GREEN -> { Driver.log(c); Coroutine.yield(); } }
                        }
                        Driver.log("done");
                    }
                    public static Object run() { return Driver.drive(StringEnum::body); }
                }
                """));
    }

    @Test
    void tryCatchFinallySpanningSuspensionPoints() {
        assertEquals("try,|,throwing,caught boom,|,finally,|,after", run("TryCatch", """
                public class TryCatch {
                    @CoroutineFn static void body() {
                        try {
                            Driver.log("try");
                            Coroutine.yield();
                            Driver.log("throwing");
                            throw new IllegalStateException("boom");
                        } catch (IllegalStateException e) {
                            Driver.log("caught " + e.getMessage());
                            Coroutine.yield();
                        } finally {
                            Driver.log("finally");
                            Coroutine.yield();
                        }
                        Driver.log("after");
                    }
                    public static Object run() { return Driver.drive(TryCatch::body); }
                }
                """));
    }

    @Test
    void exceptionThrownByCalleeAfterResumeIsCaughtByCaller() {
        assertEquals("callee,|,caught 42,after", run("Across", """
                public class Across {
                    @CoroutineFn static int callee(int x) {
                        Driver.log("callee");
                        Coroutine.yield();
                        if (x > 0) throw new ArithmeticException(String.valueOf(x));
                        return x;
                    }
                    @CoroutineFn static void body() {
                        try { callee(42); } catch (ArithmeticException e) { Driver.log("caught " + e.getMessage()); }
                        Driver.log("after");
                    }
                    public static Object run() { return Driver.drive(Across::body); }
                }
                """));
    }

    @Test
    void tryWithResourcesClosesAfterResume() {
        assertEquals("open,|,use,|,close,done", run("Resources", """
                public class Resources {
                    static class Res implements AutoCloseable {
                        Res() { Driver.log("open"); }
                        public void close() { Driver.log("close"); }
                    }
                    @CoroutineFn static void body() {
                        try (Res r = new Res()) {
                            Coroutine.yield();
                            Driver.log("use");
                            Coroutine.yield();
                        }
                        Driver.log("done");
                    }
                    public static Object run() { return Driver.drive(Resources::body); }
                }
                """));
    }

    @Test
    void longDoubleArraysInLocalsAndOnTheOperandStack() {
        assertEquals("|,|,|,result 1.2345678901E10 2.75 [1, 2, 3] x7", run("Wide", """
                public class Wide {
                    @CoroutineFn static long l(long v) { Coroutine.yield(); return v; }
                    @CoroutineFn static double d(double v) { Coroutine.yield(); return v; }
                    @CoroutineFn static int[] a() { Coroutine.yield(); return new int[] {1, 2, 3}; }
                    @CoroutineFn static void body() {
                        long big = 12345678901L;
                        double half = 0.5;
                        String s = "x";
                        // operand stack below each call: a long, a double, a String
                        double sum = big + d(1.0) - 1.0;
                        double third = half * 7.0 + l(1L) - 0.75 - 1;
                        int[] arr = a();
                        Driver.log("result " + sum + " " + third + " " + Arrays.toString(arr) + " " + s + (arr.length + 4));
                    }
                    public static Object run() { return Driver.drive(Wide::body); }
                }
                """));
    }

    @Test
    void uninitializedObjectOnTheStackAtSuspensionPoint() {
        assertEquals("|,|,Pair(Box[v=5], 6)", run("Uninit", """
                public class Uninit {
                    record Box(int v) {}
                    record Pair(Object a, Object b) { public String toString() { return "Pair(" + a + ", " + b + ")"; } }
                    @CoroutineFn static int next(int v) { Coroutine.yield(); return v + 1; }
                    @CoroutineFn static void body() {
                        Pair p = new Pair(new Box(next(4)), next(5));
                        Driver.log(p);
                    }
                    public static Object run() { return Driver.drive(Uninit::body); }
                }
                """));
    }

    @Test
    void instancePrivateFinalAndInterfaceMethods() {
        assertEquals("|,|,|,|,sum 1111", run("Members", """
                public class Members {
                    interface Api {
                        @CoroutineFn int value();
                        @CoroutineFn default int twice() { Coroutine.yield(); return 2 * value(); }
                        @CoroutineFn static int hundred() { Coroutine.yield(); return 100; }
                    }
                    static final class Impl implements Api {
                        private final int base;
                        Impl(int base) { this.base = base; }
                        public int value() { Coroutine.yield(); return base; }   // implicitly a coroutine function
                        @CoroutineFn private int secret() { Coroutine.yield(); return 1000; }
                        @CoroutineFn final int all() { return secret() + twice() + Api.hundred(); }
                    }
                    @CoroutineFn static void body() {
                        Impl impl = new Impl(5);
                        Driver.log("sum " + (impl.all() + 1));
                    }
                    public static Object run() { return Driver.drive(Members::body); }
                }
                """));
    }

    @Test
    void innerAnonymousRecordEnumGenericsAndVarargs() {
        assertEquals("|,inner 3,|,anon 4,|,rec 5,|,enum B6,|,gen [a, b],|,var 3", run("Kinds", """
                public class Kinds {
                    interface Step { @CoroutineFn String go(int x); }
                    class Inner implements Step { public String go(int x) { Coroutine.yield(); return "inner " + x; } }
                    record Rec(int v) { @CoroutineFn String go() { Coroutine.yield(); return "rec " + v; } }
                    enum E { A, B; @CoroutineFn String go(int x) { Coroutine.yield(); return "enum " + this + x; } }
                    @CoroutineFn static <T> List<T> gen(List<T> in) { Coroutine.yield(); return new ArrayList<>(in); }
                    @CoroutineFn static int var(String... xs) { Coroutine.yield(); return xs.length; }
                    @CoroutineFn void body() {
                        Driver.log(new Inner().go(3));
                        Step anon = new Step() { public String go(int x) { Coroutine.yield(); return "anon " + x; } };
                        Driver.log(anon.go(4));
                        Driver.log(new Rec(5).go());
                        Driver.log(E.B.go(6));
                        Driver.log("gen " + gen(List.of("a", "b")));
                        Driver.log("var " + var("x", "y", "z"));
                    }
                    public static Object run() { return Driver.drive(new Kinds()::body); }
                }
                """));
    }

    @Test
    void recursionSuspendsAtEveryDepth() {
        assertEquals("|,|,|,|,|,fib 5", run("Recursion", """
                public class Recursion {
                    @CoroutineFn static int fib(int n) {
                        if (n < 2) { if (n == 1) Coroutine.yield(); return n; }
                        return fib(n - 1) + fib(n - 2);
                    }
                    @CoroutineFn static void body() { Driver.log("fib " + fib(5)); }
                    public static Object run() { return Driver.drive(Recursion::body); }
                }
                """));
    }

    @Test
    void lambdasAndMethodReferencesToCoroutineInterfaces() {
        assertEquals("|,lambda 2,|,captured 10 3,|,bound 4,|,unbound 5,|,entry", run("Lambdas", """
                public class Lambdas {
                    interface Fn { @CoroutineFn int apply(int x); }
                    interface Gen<T, R> { @CoroutineFn R apply(T x); }
                    int base = 3;
                    @CoroutineFn int plus(int x) { Coroutine.yield(); return x + 1; }
                    @CoroutineFn static String show(Lambdas self) { Coroutine.yield(); return "unbound " + 5; }
                    @CoroutineFn void body() throws Exception {
                        Fn f = x -> { Coroutine.yield(); return x * 2; };
                        Driver.log("lambda " + f.apply(1));
                        int ten = 10;
                        Gen<String, String> g = s -> { Coroutine.yield(); return s + " " + ten + " " + base; };
                        Driver.log(g.apply("captured"));
                        Fn bound = this::plus;
                        Driver.log("bound " + bound.apply(3));
                        Gen<Lambdas, String> unbound = Lambdas::show;
                        Driver.log(unbound.apply(this));
                        CoroutineEntry e = () -> { Coroutine.yield(); Driver.log("entry"); };
                        e.run();
                    }
                    public static Object run() { return Driver.drive(() -> new Lambdas().body()); }
                }
                """));
    }

    @Test
    void nestedCoroutinesYieldToTheirEnterer() {
        assertEquals("outer1,inner1,back-in-outer,|,inner2,outer-end,|,inner-done,outer-done", run("Nested", """
                public class Nested {
                    @CoroutineFn static void body() {
                        Coroutine inner = Coroutine.create(() -> {
                            Driver.log("inner1"); Coroutine.yield();
                            Driver.log("inner2"); Coroutine.yield();
                            Driver.log("inner-done");
                        });
                        Driver.log("outer1");
                        inner.enter();
                        Driver.log("back-in-outer");
                        Coroutine.yield();
                        inner.enter();
                        Driver.log("outer-end");
                        Coroutine.yield();
                        inner.enter();
                        Driver.log("outer-done");
                    }
                    public static Object run() { return Driver.drive(Nested::body); }
                }
                """));
    }

    @Test
    void java8ClassFilesAreInstrumented() {
        assertEquals("|,|,java8 3", run("Old", """
                public class Old {
                    @CoroutineFn static int two() { Coroutine.yield(); return 2; }
                    @CoroutineFn static void body() { int one = 1; Coroutine.yield(); Driver.log("java8 " + (one + two())); }
                    public static Object run() { return Driver.drive(new CoroutineEntry() { public void run() { body(); } }); }
                }
                """, "--release", "8"));
    }

    @Test
    void superCallsNestmatePrivateCallsAndStaticCallsAcrossClasses() {
        assertEquals("|,|,base 1+sub,|,private 2,|,|,other 3", run("Calls", """
                public class Calls {
                    static class Base { @CoroutineFn String name(int n) { Coroutine.yield(); return "base " + n; } }
                    static class Sub extends Base {
                        @Override String name(int n) { String b = super.name(n); Coroutine.yield(); return b + "+sub"; }
                    }
                    @CoroutineFn private int secret(int v) { Coroutine.yield(); return v + 1; }
                    class Inner { @CoroutineFn int reach() { return secret(1); } }   // a private method of the nest host
                    @CoroutineFn private static int other() { return Other.three(); }
                    @CoroutineFn void body() {
                        Driver.log(new Sub().name(1));
                        Driver.log("private " + new Inner().reach());
                        Driver.log("other " + other());
                    }
                    public static Object run() { return Driver.drive(new Calls()::body); }
                }
                class Other { @CoroutineFn static int three() { Coroutine.yield(); Coroutine.yield(); return 3; } }
                """));
    }
}
