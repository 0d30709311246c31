package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The inline cache of a virtual or interface call from instrumented code ({@code
 * CoLinker.linkVirtual}): a receiver whose class selects a woven coroutine function runs its fresh
 * body, without the wrapper (the callee sees one frame of its own on the stack, not two); every
 * other receiver takes the call as written, through the wrapper, as before the cache: a class
 * loaded unwoven that overrides the method (its override runs, not the woven method above it), a
 * lambda, a {@code java.lang.reflect.Proxy}, a method hidden (not overridden) by a package-private
 * one of another package, a class of another loader. Each test alternates receivers at one call
 * site, so that a cache that kept the first receiver's method for the next one fails.
 */
class VirtualCallCacheTest {

    /** Counts the frames of a method on the stack: 1 when the call reached its fresh body, 2 through its wrapper. */
    private static final String FRAMES = """
            public final class Frames {
                public static long of(String type, String method) {
                    return StackWalker.getInstance().walk(s -> s.filter(f -> f.getClassName().equals(type)
                            && f.getMethodName().equals(method)).count());
                }
            }
            """;

    private static InstrumentingLoader loader(Map<String, String> classes, String... excluded) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Frames", Fixtures.HEADER + FRAMES);
        classes.forEach((name, body) -> sources.put(name.contains(".") ? name : "t." + name,
                name.contains(".") ? body : Fixtures.HEADER + body));
        return InstrumentingLoader.of(sources).exclude(excluded);
    }

    private static final String BASE = """
            public abstract class Base { @CoroutineFn public abstract int get(int k); }
            """;

    /**
     * Woven receivers of two classes, one of them inheriting its method, alternating at one call
     * site through an abstract class and through an interface: each runs its own method's fresh
     * body (one frame), suspends and resumes.
     */
    @Test
    void wovenReceiversReachTheirFreshBodies() {
        InstrumentingLoader loader = loader(Map.of("Base", BASE,
                "A", """
                        public class A extends Base implements Svc {
                            @CoroutineFn public int get(int k) { Driver.log("A" + Frames.of("t.A", "get")); Coroutine.yield(); return k + 1; }
                        }
                        """,
                "B", """
                        public class B extends A {
                            @CoroutineFn public int get(int k) { Driver.log("B" + Frames.of("t.B", "get")); Coroutine.yield(); return k + 2; }
                        }
                        """,
                "C", "public class C extends B {}\n",
                "Svc", "public interface Svc { @CoroutineFn int get(int k); }\n",
                "Main", """
                        public class Main {
                            @CoroutineFn static int viaBase(Base b, int k) { return b.get(k); }
                            @CoroutineFn static int viaSvc(Svc s, int k) { return s.get(k); }
                            @CoroutineFn static void body() {
                                Base[] all = {new A(), new B(), new C(), new A()};
                                for (Base b : all) {
                                    Driver.log("base=" + viaBase(b, 10));
                                    Driver.log("svc=" + viaSvc((Svc) b, 20));
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """));
        assertEquals("A1,|,base=11,A1,|,svc=21,B1,|,base=12,B1,|,svc=22,B1,|,base=12,B1,|,svc=22,A1,|,base=11,A1,|,svc=21",
                loader.callStatic("t.Main", "run"));
    }

    /**
     * Without the aioco agent (nothing here watches retransformations) the caches are off unless
     * {@code -Daioco.inlineCache=true}: every call goes through the wrapper (two frames of the
     * callee), since another agent could have put code into it unseen; with the property, the
     * site calls the fresh body (one frame); {@code false} turns them off.
     */
    @Test
    void withoutTheAgentTheCachesAreOffUnlessTheUserOptsIn() throws Exception {
        Map<String, String> classes = Map.of(
                "W", """
                        public class W {
                            @CoroutineFn public int get(int k) { Driver.log("W" + Frames.of("t.W", "get")); return k + 1; }
                        }
                        """,
                "Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static void body() { W w = new W(); Driver.log("=" + call(w, 1)); Driver.log("=" + call(w, 2)); }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        assertEquals(null, System.getProperty("aioco.agent.watchesRetransformation"), "no agent here");
        assertEquals("W2,=2,W2,=3", InlineCacheHostileTest.withInlineCache(null, () -> loader(classes).callStatic("t.Main", "run")));
        assertEquals("W1,=2,W1,=3", InlineCacheHostileTest.withInlineCache("true", () -> loader(classes).callStatic("t.Main", "run")));
        assertEquals("W2,=2,W2,=3", InlineCacheHostileTest.withInlineCache("false", () -> loader(classes).callStatic("t.Main", "run")));
        assertEquals("W2,=2,W2,=3", InlineCacheHostileTest.withInlineCache("yes", () -> loader(classes).callStatic("t.Main", "run")));
    }

    /**
     * A subclass loaded unwoven (excluded) that overrides a woven coroutine function: the call runs
     * its override (which calls the woven method with {@code super.}), not the woven method the
     * site found for the first receiver; a subclass loaded unwoven that only inherits the method
     * runs the woven method's fresh body.
     */
    @Test
    void anUnwovenOverrideIsNotSkipped() {
        InstrumentingLoader loader = loader(Map.of(
                "W", """
                        public class W {
                            @CoroutineFn public int get(int k) { Driver.log("W" + Frames.of("t.W", "get")); return k + 1; }
                        }
                        """,
                "Over", """
                        public class Over extends W {
                            public int get(int k) { Driver.log("Over"); return super.get(k) * 10; }
                        }
                        """,
                "Inherits", "public class Inherits extends W {}\n",
                "Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static void body() {
                                W[] all = {new W(), new Over(), new Inherits(), new Over(), new W()};
                                for (W w : all) {
                                    Driver.log("=" + call(w, 1));
                                    Coroutine.yield();
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """), "t.Over", "t.Inherits");
        // NOTE: Over's super.get reaches W's wrapper, then its body: two frames of W.get
        assertEquals("W1,=2,|,Over,W2,=20,|,W1,=2,|,Over,W2,=20,|,W1,=2,|", loader.callStatic("t.Main", "run"));
    }

    /**
     * A lambda and a {@code java.lang.reflect.Proxy} implementing an interface coroutine function,
     * next to a woven implementation at the same site: the lambda (whose body suspends) and the
     * proxy take the call as written (through the proxy's method), with their own results.
     */
    @Test
    void lambdasAndProxiesTakeTheCallAsWritten() {
        InstrumentingLoader loader = loader(Map.of(
                "Step", "public interface Step { @CoroutineFn int apply(int x); }\n",
                "Woven", """
                        public class Woven implements Step {
                            @CoroutineFn public int apply(int x) { Driver.log("woven" + Frames.of("t.Woven", "apply")); return x + 1; }
                        }
                        """,
                "Main", """
                        public class Main {
                            @CoroutineFn static int call(Step s, int x) { return s.apply(x); }
                            @CoroutineFn static void body() {
                                Step lambda = x -> { Driver.log("lambda"); Coroutine.yield(); return x * 2; };
                                Step proxy = (Step) java.lang.reflect.Proxy.newProxyInstance(Step.class.getClassLoader(),
                                        new Class<?>[] {Step.class}, (p, m, a) -> (Integer) a[0] * 100);
                                Step[] all = {new Woven(), lambda, proxy, new Woven(), lambda, proxy};
                                for (Step s : all) {
                                    Driver.log("=" + call(s, 3));
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """));
        assertEquals("woven1,=4,lambda,|,=6,=300,woven1,=4,lambda,|,=6,=300", loader.callStatic("t.Main", "run"));
    }

    /**
     * A default coroutine function: a class that inherits it runs the interface's fresh body; a
     * class loaded unwoven that overrides it runs its override; a bridge (a generic interface
     * method implemented with a narrower type) reaches the woven method through the woven bridge.
     */
    @Test
    void defaultMethodsAndBridges() {
        InstrumentingLoader loader = loader(Map.of(
                "Dflt", """
                        public interface Dflt {
                            @CoroutineFn default int get(int k) { Driver.log("dflt" + Frames.of("t.Dflt", "get")); Coroutine.yield(); return k + 1; }
                        }
                        """,
                "Uses", "public class Uses implements Dflt {}\n",
                "Overrides", """
                        public class Overrides implements Dflt {
                            public int get(int k) { Driver.log("overrides"); return -k; }
                        }
                        """,
                "Fn", "public interface Fn<T> { @CoroutineFn T apply(T t); }\n",
                "Upper", """
                        public class Upper implements Fn<String> {
                            @CoroutineFn public String apply(String s) { Coroutine.yield(); return s.toUpperCase(); }
                        }
                        """,
                "Lower", """
                        public class Lower implements Fn<String> {
                            @CoroutineFn public String apply(String s) { return s.toLowerCase(); }
                        }
                        """,
                "Main", """
                        public class Main {
                            @CoroutineFn static int get(Dflt d, int k) { return d.get(k); }
                            @CoroutineFn static <T> T apply(Fn<T> f, T t) { return f.apply(t); }
                            @CoroutineFn static void body() {
                                Dflt[] all = {new Uses(), new Overrides(), new Uses(), new Overrides()};
                                for (Dflt d : all) {
                                    Driver.log("=" + get(d, 5));
                                }
                                Driver.log(apply(new Upper(), "aB") + apply(new Lower(), "aB") + apply(new Upper(), "cD"));
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """), "t.Overrides");
        assertEquals("dflt1,|,=6,overrides,=-5,dflt1,|,=6,overrides,=-5,|,|,ABabCD", loader.callStatic("t.Main", "run"));
    }

    /**
     * A package-private coroutine function of package {@code a}, hidden (not overridden) by a
     * method of the same name and descriptor in a subclass of package {@code b}: a call from
     * package {@code a} on such a receiver selects {@code a.Base.get} (JVMS 5.4.6), as the cache
     * must, whatever it found for a receiver of {@code a.Base} before.
     */
    @Test
    void aHiddenPackagePrivateMethodIsNotTakenForTheSelectedOne() {
        Map<String, String> classes = new HashMap<>();
        classes.put("a.Base", """
                package a;
                import io.aioco.*;
                public class Base {
                    @CoroutineFn int get(int k) { t.Driver.log("a.Base"); Coroutine.yield(); return k + 1; }
                }
                """);
        classes.put("b.Sub", """
                package b;
                import io.aioco.*;
                public class Sub extends a.Base {
                    @CoroutineFn int get(int k) { t.Driver.log("b.Sub"); return -1; }
                }
                """);
        classes.put("a.Main", """
                package a;
                import io.aioco.*;
                public class Main {
                    @CoroutineFn static int call(Base b, int k) { return b.get(k); }
                    @CoroutineFn static void body() {
                        Base[] all = {new Base(), new b.Sub(), new Base(), new b.Sub()};
                        for (Base b : all) {
                            t.Driver.log("=" + call(b, 1));
                        }
                    }
                    public static Object run() { return t.Driver.drive(Main::body); }
                }
                """);
        assertEquals("a.Base,|,=2,a.Base,|,=2,a.Base,|,=2,a.Base,|,=2", loader(classes).callStatic("a.Main", "run"));
    }

    /**
     * Receivers of a woven class defined by another loader (a child of the caller's), and of a
     * class of that loader loaded unwoven that overrides the method, at a site that saw a
     * receiver of the caller's loader first: the woven one reaches its fresh body, the unwoven
     * one runs its override.
     */
    @Test
    void receiversOfAnotherLoader() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.Frames", FRAMES,
                "t.W", """
                        public class W {
                            @CoroutineFn public int get(int k) { Driver.log("W" + Frames.of("t.W", "get")); Coroutine.yield(); return k + 1; }
                        }
                        """,
                "t.Child", """
                        public class Child extends W {
                            @CoroutineFn public int get(int k) { Driver.log("Child" + Frames.of("t.Child", "get")); return k + 2; }
                        }
                        """,
                "t.PlainChild", """
                        public class PlainChild extends W {
                            public int get(int k) { Driver.log("PlainChild"); return k + 3; }
                        }
                        """,
                "t.Main", """
                        public class Main {
                            public static W[] others;
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static void body() {
                                W[] all = {new W(), others[0], others[1], new W(), others[0], others[1]};
                                for (W w : all) {
                                    Driver.log("=" + call(w, 1));
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = GuardedCrossClassCallTest.weave(compiled, name -> !name.equals("t/PlainChild"));
        Map<String, byte[]> parentClasses = new HashMap<>(woven);
        parentClasses.remove("t/Child");
        parentClasses.remove("t/PlainChild");
        GuardedCrossClassCallTest.MapLoader parent = new GuardedCrossClassCallTest.MapLoader(getClass().getClassLoader(), parentClasses);
        GuardedCrossClassCallTest.MapLoader child = new GuardedCrossClassCallTest.MapLoader(parent,
                Map.of("t/Child", woven.get("t/Child"), "t/PlainChild", woven.get("t/PlainChild")));
        Object[] others = {child.loadClass("t.Child").getConstructor().newInstance(),
            child.loadClass("t.PlainChild").getConstructor().newInstance()};
        Class<?> main = parent.loadClass("t.Main");
        Class<?> w = parent.loadClass("t.W");
        Object array = java.lang.reflect.Array.newInstance(w, 2);
        java.lang.reflect.Array.set(array, 0, others[0]);
        java.lang.reflect.Array.set(array, 1, others[1]);
        main.getField("others").set(null, array);
        assertEquals("W1,|,=2,Child1,=3,PlainChild,=4,W1,|,=2,Child1,=3,PlainChild,=4", main.getMethod("run").invoke(null));
    }
}
