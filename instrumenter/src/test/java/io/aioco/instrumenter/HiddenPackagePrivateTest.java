package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A package-private coroutine function {@code q1.A.m} hidden, not overridden (JVMS 5.4.5), by
 * {@code q2.B.m}, which implements the coroutine interface method {@code q3.Svc.m} but is not
 * rewritten (excluded), and calls {@code A.m} on the same receiver through a plain helper of q1.
 * A call through {@code Svc} arms the signal for {@code B.m}; {@code A.m}'s wrapper took it as its
 * own (its class and {@code B} both selectable for that receiver), suspended below the plain
 * frames, and {@code B.m} ran again on resume with a dummy 0. Expected: the crossing error naming
 * {@code q2.B.m}, every body run once. A rewritten caller of q1 that calls {@code A.m} on a
 * {@code B} itself still suspends and resumes.
 */
class HiddenPackagePrivateTest {

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("q3.Svc", "package q3; import io.aioco.*; public interface Svc { @CoroutineFn int m(); }");
        sources.put("q1.A", """
                package q1;
                import io.aioco.*;
                public class A {
                    @CoroutineFn int m() { t.Driver.log("A.m"); Coroutine.yield(); return 1; }
                    @CoroutineFn public static int direct(A a) { return a.m(); }
                }
                """);
        sources.put("q1.Helper", "package q1; public class Helper { public static int call(A a) { return a.m(); } }");
        sources.put("q2.B", """
                package q2;
                public class B extends q1.A implements q3.Svc {
                    public int m() { t.Driver.log("B.m"); int r = q1.Helper.call(this); t.Driver.log("B.m r=" + r); return r + 10; }
                }
                """);
        sources.put("q3.Main", """
                package q3;
                import io.aioco.*;
                public class Main {
                    @CoroutineFn static void work() { Svc s = new q2.B(); t.Driver.log("got=" + s.m()); }
                    @CoroutineFn static void direct() { t.Driver.log("got=" + q1.A.direct(new q2.B())); }
                    public static Object throughSvc() {
                        try { return t.Driver.drive(Main::work); }
                        catch (IllegalStateException e) { t.Driver.log(e.getMessage()); return String.join(",", t.Driver.TRACE); }
                    }
                    public static Object throughA() { return t.Driver.drive(Main::direct); }
                }
                """);
        return sources;
    }

    @Test
    void aCallArmedForTheHidingPlainMethodIsNotTakenByTheHiddenOne() {
        InstrumentingLoader loader = new InstrumentingLoader(TestCompiler.compile(sources())).exclude("q2.B");
        String trace = (String) loader.callStatic("q3.Main", "throughSvc");
        assertTrue(trace.startsWith("B.m,A.m,cannot suspend coroutine: q1.A.m()I was called from"), trace);
        assertTrue(trace.contains("was called from q1.Helper.call(Helper.java:1) (itself called from q2.B.m(B.java:3)),"),
                trace); // the crossed frames up to the instrumented caller
        assertEquals(-1, trace.indexOf("B.m r="), trace); // the plain frame never ran on with a dummy value
    }

    @Test
    void aRewrittenCallerOfTheHiddenMethodSuspendsAndResumes() {
        InstrumentingLoader loader = new InstrumentingLoader(TestCompiler.compile(sources())).exclude("q2.B");
        assertEquals("A.m,|,got=1", loader.callStatic("q3.Main", "throughA"));
    }
}
