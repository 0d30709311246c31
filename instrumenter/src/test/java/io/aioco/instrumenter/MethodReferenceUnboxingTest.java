package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * A method reference with primitive parameters, used through a generic coroutine interface: the
 * JDK's lambda proxy gets boxed values. On resume the caller passes dummy arguments (null for a
 * reference); the proxy must not unbox them (it threw {@code NullPointerException}), the
 * forwarder the instrumenter puts between does it, and only on a fresh call.
 */
class MethodReferenceUnboxingTest {

    @Test
    void everyPrimitiveParameterThroughAGenericInterfaceSuspendsAndResumes() {
        assertEquals("z,|,false,c,|,d,b,|,8,s,|,10,i,|,42,f,|,3.0,j,|,12,d,|,5.0,"
                + "widen,|,14,bound,|,19,unbound,|,7,two,|,11",
                Fixtures.run("Refs", """
                public class Refs {
                    interface Fn<A, R> { @CoroutineFn R apply(A a); }
                    interface Fn2<A, B, R> { @CoroutineFn R apply(A a, B b); }
                    final int base;
                    Refs(int base) { this.base = base; }
                    @CoroutineFn static boolean not(boolean x) { Driver.log("z"); Coroutine.yield(); return !x; }
                    @CoroutineFn static char next(char x) { Driver.log("c"); Coroutine.yield(); return (char) (x + 1); }
                    @CoroutineFn static byte twice(byte x) { Driver.log("b"); Coroutine.yield(); return (byte) (2 * x); }
                    @CoroutineFn static short twice(short x) { Driver.log("s"); Coroutine.yield(); return (short) (2 * x); }
                    @CoroutineFn static int twice(int x) { Driver.log("i"); Coroutine.yield(); return 2 * x; }
                    @CoroutineFn static float twice(float x) { Driver.log("f"); Coroutine.yield(); return 2 * x; }
                    @CoroutineFn static long twice(long x) { Driver.log("j"); Coroutine.yield(); return 2 * x; }
                    @CoroutineFn static double twice(double x) { Driver.log("d"); Coroutine.yield(); return 2 * x; }
                    @CoroutineFn static long widened(long x) { Driver.log("widen"); Coroutine.yield(); return 2 * x; }
                    @CoroutineFn int plus(int x) { Driver.log("bound"); Coroutine.yield(); return base + x; }
                    @CoroutineFn int minus(int x) { Driver.log("unbound"); Coroutine.yield(); return base - x; }
                    @CoroutineFn static int sum(int a, long b) { Driver.log("two"); Coroutine.yield(); return (int) (a + b); }
                    @CoroutineFn static void body() {
                        Fn<Boolean, Boolean> z = Refs::not;
                        Driver.log(z.apply(true));
                        Fn<Character, Character> c = Refs::next;
                        Driver.log(c.apply('c'));
                        Fn<Byte, Byte> b = Refs::twice;
                        Driver.log(b.apply((byte) 4));
                        Fn<Short, Short> s = Refs::twice;
                        Driver.log(s.apply((short) 5));
                        Fn<Integer, Integer> i = Refs::twice;
                        Driver.log(i.apply(21));
                        Fn<Float, Float> f = Refs::twice;
                        Driver.log(f.apply(1.5f));
                        Fn<Long, Long> j = Refs::twice;
                        Driver.log(j.apply(6L));
                        Fn<Double, Double> d = Refs::twice;
                        Driver.log(d.apply(2.5));
                        Fn<Integer, Long> widen = Refs::widened;   // Integer, unboxed, then widened to long
                        Driver.log(widen.apply(7));
                        Fn<Integer, Integer> bound = new Refs(10)::plus;
                        Driver.log(bound.apply(9));
                        Fn2<Refs, Integer, Integer> unbound = Refs::minus;
                        Driver.log(unbound.apply(new Refs(10), 3));
                        Fn2<Integer, Long, Integer> two = Refs::sum;
                        Driver.log(two.apply(4, 7L));
                    }
                    public static Object run() { return Driver.drive(Refs::body); }
                }
                """));
    }
}
