package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.classfile.ClassHierarchy;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A package-private method is overridden only from its own package (JVMS 5.4.5): a method of the
 * same name and descriptor in a subclass in another package is a different method, and it is a
 * coroutine function only if it is one by itself. The transitive case: a method in the first
 * package again, below the other package's method, overrides both.
 */
class PackagePrivateOverrideTest {

    private static final String A = """
            package p1;
            import io.aioco.*;
            public class A {
                @CoroutineFn int m() { t.Driver.log("A.m"); Coroutine.yield(); return 1; }
                @CoroutineFn public static int viaA(A a) { return a.m(); }
            }
            """;
    private static final String B = """
            package p2;
            import io.aioco.*;
            public class B extends p1.A {
                int m() { return 2; }
                public static Object run() { return new B().m(); }
                public static Object runThroughA() { return t.Driver.drive(new CoroutineEntry() {
                    @CoroutineFn public void run() { t.Driver.log("r=" + p1.A.viaA(new B())); }
                }); }
            }
            """;
    /** Overrides A.m (same package), not B's (package-private in another package). */
    private static final String C = """
            package p1;
            import io.aioco.*;
            public class C extends p2.B {
                @CoroutineFn public int m() { t.Driver.log("C.m"); Coroutine.yield(); return 3; }
                public static Object run() { return t.Driver.drive(new CoroutineEntry() {
                    @CoroutineFn public void run() { t.Driver.log("r=" + A.viaA(new C())); }
                }); }
            }
            """;

    /**
     * Overrides C's public method, so A's through it (the transitive case), and B's of its own
     * package: a coroutine function that overrides a plain method.
     */
    private static final String D = """
            package p2;
            import io.aioco.*;
            public class D extends p1.C {
                @CoroutineFn public int m() { t.Driver.log("D.m"); Coroutine.yield(); return 4; }
                public static Object run() { return t.Driver.drive(new CoroutineEntry() {
                    @CoroutineFn public void run() { t.Driver.log("r=" + p1.A.viaA(new D())); }
                }); }
            }
            """;

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("p1.A", A);
        sources.put("p2.B", B);
        sources.put("p1.C", C);
        sources.put("p2.D", D);
        return sources;
    }

    @Test
    void aPackagePrivateMethodOfAnotherPackageStaysPlain() {
        InstrumentingLoader loader = InstrumentingLoader.of(sources());
        assertEquals(2, loader.callStatic("p2.B", "run"));
    }

    @Test
    void aCallOfTheMarkedMethodOnTheOtherPackagesSubclassSuspendsInIt() {
        InstrumentingLoader loader = InstrumentingLoader.of(sources());
        assertEquals("A.m,|,r=1", loader.callStatic("p2.B", "runThroughA"));
    }

    @Test
    void aMethodOfTheFirstPackageBelowOverridesTheMarkedOneThroughTheOther() {
        InstrumentingLoader loader = InstrumentingLoader.of(sources());
        assertEquals("C.m,|,r=3", loader.callStatic("p1.C", "run"));
    }

    @Test
    void aMethodOfTheOtherPackageOverridesTheMarkedOneThroughAPublicOneInBetween() {
        InstrumentingLoader loader = InstrumentingLoader.of(sources());
        assertEquals("D.m,|,r=4", loader.callStatic("p2.D", "run"));
    }

    @Test
    void theHierarchyFollowsJvms545() {
        Map<String, byte[]> classes = TestCompiler.compile(sources());
        ClassHierarchy hierarchy = new ClassHierarchy(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(PackagePrivateOverrideTest.class.getClassLoader())), false);
        assertTrue(hierarchy.isCoroutineFn("p1/A", "m", "()I"));
        assertEquals(false, hierarchy.isCoroutineFn("p2/B", "m", "()I"));
        assertTrue(hierarchy.isCoroutineFn("p1/C", "m", "()I"));
        assertTrue(hierarchy.isCoroutineFn("p2/D", "m", "()I"));
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(PackagePrivateOverrideTest.class.getClassLoader())));
        assertEquals(List.of(), instrumenter.checkCoroutineFnRule(classes.get("p2/B")));
        assertEquals(List.of(), instrumenter.checkCoroutineFnRule(classes.get("p1/C")));
        List<Diagnostic> onD = instrumenter.checkCoroutineFnRule(classes.get("p2/D"));
        assertEquals(1, onD.size(), onD.toString());
        assertTrue(onD.get(0).format().contains("overrides p2.B.m"), onD.toString());
    }
}
