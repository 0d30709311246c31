package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A bound method reference whose receiver's static type is a subclass of the class declaring the
 * coroutine function ({@code this::inherited}, {@code new Sub()::get}, {@code sub::get}), in the
 * same package and across packages. The instrumenter's forwarder took the declaring class as its
 * receiver parameter; the metafactory requires a captured argument's type to equal the
 * implementation's parameter exactly, so the first call failed to link
 * ({@code LambdaConversionException: Type mismatch in captured lambda parameter 0}).
 */
class BoundMethodReferenceTest {

    private static final String BASE = """
            package p2;
            import io.aioco.*;
            public class Base {
                @CoroutineFn public String get(String s) { t.Driver.log("get:" + s); Coroutine.yield(); return "base-" + s; }
                @CoroutineFn protected String fetch(String k) { t.Driver.log("fetch:" + k); Coroutine.yield(); return "v-" + k; }
            }
            """;

    private static final String REFS = """
            package t;
            import io.aioco.*;
            public class Refs {
                interface F<T, R> { @CoroutineFn R apply(T t); }
                public static class Sub extends p2.Base { }
                public abstract static class Local { @CoroutineFn String local(String s) { Driver.log("local:" + s); Coroutine.yield(); return "l-" + s; } }
                public static class LocalSub extends Local { }
                public static class Service extends p2.Base {
                    @CoroutineFn String run() { F<String, String> f = this::fetch; return f.apply("k"); }
                }
                public static class Mine extends Local {
                    @CoroutineFn String run() { F<String, String> f = this::local; return f.apply("m"); }
                }
                public static Object run() {
                    return Driver.drive(() -> {
                        F<String, String> a = new Sub()::get;          // another package's method, receiver a subclass
                        Driver.log(a.apply("y"));
                        Sub s = new Sub();
                        F<String, String> b = s::get;
                        Driver.log(b.apply("z"));
                        LocalSub l = new LocalSub();
                        F<String, String> c = l::local;                 // same package
                        Driver.log(c.apply("x"));
                        Driver.log(new Service().run());                // this::inherited protected method
                        Driver.log(new Mine().run());                   // this::inherited, same package
                    });
                }
            }
            """;

    @Test
    void boundReferencesWithASubclassReceiverLinkSuspendAndResume() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("p2.Base", BASE);
        sources.put("t.Refs", REFS);
        assertEquals("get:y,|,base-y,get:z,|,base-z,local:x,|,l-x,fetch:k,|,v-k,local:m,|,l-m",
                InstrumentingLoader.of(sources).callStatic("t.Refs", "run"));
    }
}
