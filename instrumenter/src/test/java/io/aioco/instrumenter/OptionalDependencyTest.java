package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A coroutine function called on a receiver whose class (or a class between it and the declaring
 * one) has another method naming a class that is missing at run time, as libraries with optional
 * dependencies have. The wrapper's exact check asked reflection for every declared method of those
 * classes, which throws {@code NoClassDefFoundError}; the call was then taken for a foreign one
 * and the legal suspension refused as a crossed frame.
 */
class OptionalDependencyTest {

    private static final String SOURCE = """
            public class Opt {
                public static class Base { @CoroutineFn public int get() { Driver.log("get"); Coroutine.yield(); return 1; } }
                public static class Sub extends Base { public void configure(Missing m) { } }
                public interface Svc { @CoroutineFn int get(); }
                public static class Impl implements Svc {
                    public int get() { Driver.log("impl"); Coroutine.yield(); return 2; }
                    public Missing configure() { return null; }
                }
                public static class Impl2 extends Impl { }
                public static Object inherited() { return Driver.drive(() -> Driver.log(new Sub().get())); }
                public static Object throughInterface() { return Driver.drive(() -> { Svc s = new Impl2(); Driver.log(s.get()); }); }
            }
            """;

    private static InstrumentingLoader loaderWithoutMissing() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Missing", "package t; public class Missing { }");
        sources.put("t.Opt", Fixtures.HEADER + SOURCE);
        Map<String, byte[]> classes = new LinkedHashMap<>(TestCompiler.compile(sources));
        classes.remove("t/Missing"); // the optional dependency is not on the run-time class path
        return new InstrumentingLoader(classes);
    }

    @Test
    void anInheritedCoroutineFunctionSuspendsWhenTheSubclassNamesAMissingClass() {
        assertEquals("get,|,1", loaderWithoutMissing().callStatic("t.Opt", "inherited"));
    }

    @Test
    void anInterfaceCallSuspendsWhenTheImplementationNamesAMissingClass() {
        assertEquals("impl,|,2", loaderWithoutMissing().callStatic("t.Opt", "throughInterface"));
    }

    @Test
    void theFixtureReallyLacksTheClass() {
        Class<?> sub = loaderWithoutMissing().load("t.Opt$Sub");
        assertThrows(NoClassDefFoundError.class, sub::getDeclaredMethods);
    }
}
