package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * javac before 11 ({@code --release 8} and older) reaches a private method of another class of
 * the same nest through a synthetic {@code access$NNN} method of its owner. Such an accessor that
 * only forwards to a coroutine function is one: nested and anonymous classes calling the outer
 * class's private coroutine functions suspend and resume, and the build-time rule check does not
 * ask for a marker on a synthetic method.
 */
class SyntheticAccessorTest {

    private static final String NEST = """
            public class TNest {
                private int base = 40;
                @CoroutineFn private static int secret(int x) { Driver.log("secret " + x); Coroutine.yield(); return x + 1; }
                @CoroutineFn private int plus(int x) { Driver.log("plus " + x); Coroutine.yield(); return base + x; }
                @CoroutineFn private long wide(long a, double b) { Coroutine.yield(); return a + (long) b; }
                static class Inner {
                    @CoroutineFn int call(TNest outer) { return secret(1) + outer.plus(2) + (int) outer.wide(3L, 4.0); }
                }
                class Member {
                    @CoroutineFn int call() { return plus(5); }
                }
                @CoroutineFn static void body() {
                    final TNest outer = new TNest();
                    int a = new Inner().call(outer);
                    int b = outer.new Member().call();
                    Body anonymous = new Body() {
                        @CoroutineFn public int get() { return secret(100); }
                    };
                    Driver.log("a=" + a + " b=" + b + " c=" + anonymous.get());
                }
                interface Body { @CoroutineFn int get(); }
                public static Object run() { return Driver.drive(new CoroutineEntry() {
                    @CoroutineFn public void run() { body(); }
                }); }
            }
            """;

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.TNest", Fixtures.HEADER + NEST);
        return sources;
    }

    @Test
    void nestedClassesCallingPrivateCoroutineFunctionsThroughAccessorsSuspend() {
        for (String release : List.of("8", "11", "17")) {
            InstrumentingLoader loader = InstrumentingLoader.of(sources(), "--release", release);
            assertEquals("secret 1,|,plus 2,|,|,plus 5,|,secret 100,|,a=51 b=45 c=101",
                    loader.callStatic("t.TNest", "run"), "--release " + release);
        }
    }

    @Test
    void theRuleCheckAsksForNoMarkerOnAnAccessor() {
        Map<String, byte[]> classes = TestCompiler.compile(sources(), "--release", "8");
        assertEquals(true, classes.keySet().stream().anyMatch(name -> name.equals("t/TNest")));
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(SyntheticAccessorTest.class.getClassLoader())));
        for (Map.Entry<String, byte[]> entry : classes.entrySet()) {
            assertEquals(List.of(), instrumenter.checkCoroutineFnRule(entry.getValue()), entry.getKey());
        }
    }
}
