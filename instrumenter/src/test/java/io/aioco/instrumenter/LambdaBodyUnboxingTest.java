package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Method references that javac does not link directly but desugars into a synthetic
 * {@code lambda$} body (a varargs target, {@code super::m}, a protected method of a superclass in
 * another package, and with {@code --release 8} a private method of the outer class referenced
 * from a nested type): the body keeps the target's primitive parameters, so the JDK's lambda proxy
 * unboxes the interface's boxed arguments before calling it. On resume the caller passes dummy
 * arguments (null for a reference) and the proxy threw {@code NullPointerException}; the body must
 * be reached through a forwarder that takes the boxed values. A target returning a box through an
 * interface returning a primitive had the mirror problem on the suspend path (the proxy unboxed
 * the dummy null result).
 */
class LambdaBodyUnboxingTest {

    private static final String BASE = """
            package p;
            import io.aioco.*;
            public class Base {
                @CoroutineFn protected int prot(int x) { t.Driver.log("prot"); Coroutine.yield(); return x + 100; }
                @CoroutineFn protected static char protNext(char c) { t.Driver.log("pnext"); Coroutine.yield(); return (char) (c + 1); }
            }
            """;

    private static final String REFS = """
            public class Refs extends Mid {
                interface Fn<A, R> { @CoroutineFn R apply(A a); }
                interface IntFn { @CoroutineFn int apply(int a); }
                interface LongFn { @CoroutineFn long apply(int a); }
                @CoroutineFn static int sumI(int... xs) { Driver.log("vi"); Coroutine.yield(); int s = 0; for (int x : xs) s += x; return s; }
                @CoroutineFn static long sumJ(long... xs) { Driver.log("vj"); Coroutine.yield(); long s = 0; for (long x : xs) s += x; return s; }
                @CoroutineFn static double sumD(double... xs) { Driver.log("vd"); Coroutine.yield(); double s = 0; for (double x : xs) s += x; return s; }
                @CoroutineFn static int count(char... xs) { Driver.log("vc"); Coroutine.yield(); return xs.length; }
                @CoroutineFn static long widenVar(long... xs) { Driver.log("vw"); Coroutine.yield(); return xs[0] * 3; }
                @CoroutineFn static Integer boxed(int x) { Driver.log("boxed"); Coroutine.yield(); return x * 5; }
                @CoroutineFn static Integer boxedLong(int x) { Driver.log("boxedL"); Coroutine.yield(); return x * 7; }
                @CoroutineFn @Override boolean not(boolean x) { return false; }
                @CoroutineFn @Override byte twice(byte x) { return 0; }
                @CoroutineFn @Override short twice(short x) { return 0; }
                @CoroutineFn @Override float twice(float x) { return 0; }
                @CoroutineFn @Override long wide(long x) { return 0; }
                @CoroutineFn void body() {
                    Fn<Integer, Integer> vi = Refs::sumI;
                    Driver.log(vi.apply(21));
                    Fn<Long, Long> vj = Refs::sumJ;
                    Driver.log(vj.apply(6L));
                    Fn<Double, Double> vd = Refs::sumD;
                    Driver.log(vd.apply(2.5));
                    Fn<Character, Integer> vc = Refs::count;
                    Driver.log(vc.apply('x'));
                    Fn<Integer, Long> vw = Refs::widenVar;
                    Driver.log(vw.apply(4));
                    Fn<Boolean, Boolean> z = super::not;
                    Driver.log(z.apply(true));
                    Fn<Byte, Byte> b = super::twice;
                    Driver.log(b.apply((byte) 4));
                    Fn<Short, Short> s = super::twice;
                    Driver.log(s.apply((short) 5));
                    Fn<Float, Float> f = super::twice;
                    Driver.log(f.apply(1.5f));
                    Fn<Integer, Long> w = super::wide;
                    Driver.log(w.apply(8));
                    Fn<Integer, Integer> pr = this::prot;
                    Driver.log(pr.apply(1));
                    Fn<Character, Character> pc = p.Base::protNext;
                    Driver.log(pc.apply('a'));
                    IntFn u = Refs::boxed;
                    Driver.log(u.apply(3));
                    LongFn ul = Refs::boxedLong;
                    Driver.log(ul.apply(3));
                }
                public static Object run() { return Driver.drive(() -> new Refs().body()); }
            }
            class Mid extends p.Base {
                @CoroutineFn boolean not(boolean x) { Driver.log("z"); Coroutine.yield(); return !x; }
                @CoroutineFn byte twice(byte x) { Driver.log("b"); Coroutine.yield(); return (byte) (2 * x); }
                @CoroutineFn short twice(short x) { Driver.log("s"); Coroutine.yield(); return (short) (2 * x); }
                @CoroutineFn float twice(float x) { Driver.log("f"); Coroutine.yield(); return 2 * x; }
                @CoroutineFn long wide(long x) { Driver.log("w"); Coroutine.yield(); return 2 * x; }
            }
            """;

    /** The shape the random programs met, compiled as Java 8 does: the nested interface reaches the private method through a lambda body. */
    private static final String PROG = """
            public class Prog {
                public interface Rt { interface Fn<A, R> { @CoroutineFn R apply(A a); } }
                @CoroutineFn private static byte f1(int x) { Driver.log("f1 " + x); Coroutine.yield(); return (byte) (x + 1); }
                @CoroutineFn private static long f2(long x, double y) { Driver.log("f2"); Coroutine.yield(); return x + (long) y; }
                interface Nested {
                    @CoroutineFn default int go(int x) {
                        byte r = ((Rt.Fn<Integer, Byte>) Prog::f1).apply(x);
                        return r + (int) (long) ((Rt.Fn<Long, Long>) y -> f2(y, 0.5)).apply(2L);
                    }
                }
                public static Object run() { return Driver.drive(() -> Driver.log(new Nested() {}.go(41))); }
            }
            """;

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("p.Base", BASE);
        sources.put("t.Refs", Fixtures.HEADER + REFS);
        return sources;
    }

    @Test
    void methodReferencesDesugaredIntoLambdaBodiesWithPrimitiveParametersResume() {
        for (String release : List.of("8", "17")) {
            assertEquals("vi,|,21,vj,|,6,vd,|,2.5,vc,|,1,vw,|,12,z,|,false,b,|,8,s,|,10,f,|,3.0,w,|,16,"
                    + "prot,|,101,pnext,|,b,boxed,|,15,boxedL,|,21",
                    InstrumentingLoader.of(sources(), "--release", release).callStatic("t.Refs", "run"),
                    "--release " + release);
        }
    }

    @Test
    void java8NestedInterfaceReferencingOuterPrivateMethodResumes() {
        for (String release : List.of("8", "17")) {
            assertEquals("f1 41,|,f2,|,44", Fixtures.run("Prog", PROG, "--release", release), "--release " + release);
        }
    }
}
