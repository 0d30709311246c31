package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code Impl} declares a private {@code get()} and was compiled when {@code Svc} had no methods;
 * {@code Svc} later gains a coroutine default {@code get()}. The JVM (11 and later) never selects a
 * private method for invokeinterface or invokevirtual (JVMS 5.4.6: a private method overrides
 * nothing), so the call runs the default method; the wrapper's entry check must agree and admit
 * the instrumented caller's signal (it refused it, and the default ran as a foreign call whose
 * suspension was reported as a crossed frame).
 */
class PrivateVersusDefaultTest {

    @Test
    void aPrivateMethodOfTheReceiversClassNeverHidesADefaultCoroutineFunction() {
        Map<String, String> before = new LinkedHashMap<>();
        before.put("t.Svc", "package t; public interface Svc {}");
        before.put("t.Impl", """
                package t;
                public class Impl implements Svc {
                    private int get() { Driver.log("private"); return -1; }
                    static int use(Impl i) { return i.get(); }
                }
                """);
        before.put("t.Driver", Fixtures.DRIVER);
        Map<String, String> after = new LinkedHashMap<>();
        after.put("t.Driver", Fixtures.DRIVER);
        after.put("t.Svc", Fixtures.HEADER
                + "public interface Svc { @CoroutineFn default int get() { Driver.log(\"default\"); Coroutine.yield(); return 42; } }");
        after.put("t.Impl", "package t; public class Impl implements Svc {}");
        after.put("t.Main", Fixtures.HEADER + """
                public class Main {
                    @CoroutineFn static int call(Svc s) { return s.get(); }
                    public static Object run() {
                        try {
                            return Driver.drive(() -> Driver.log("r=" + call(new Impl())));
                        } catch (Throwable refused) {
                            return refused.toString();
                        }
                    }
                }
                """);
        Map<String, byte[]> classes = new HashMap<>(TestCompiler.compile(after));
        classes.put("t/Impl", TestCompiler.compile(before).get("t/Impl")); // the stale class file
        assertEquals("default,|,r=42", new InstrumentingLoader(classes).callStatic("t.Main", "run"));
    }
}
