package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;

/**
 * Reviewer rv13b: probes of the inline cache of virtual and interface calls
 * ({@code CoLinker.linkVirtual}) for silent wrong answers: every expected value is what the
 * JVM's own dispatch of the call as written gives. No agent runs here: the caches are on only
 * with {@code -Daioco.inlineCache=true} (this module's surefire configuration; the tests that
 * need them set it themselves too).
 */
class InlineCacheHostileTest {

    /** Runs {@code action} with the system property {@code aioco.inlineCache} set to {@code value} (null: unset). */
    static <T> T withInlineCache(String value, Callable<T> action) throws Exception {
        String old = System.getProperty("aioco.inlineCache");
        if (value == null) {
            System.clearProperty("aioco.inlineCache");
        } else {
            System.setProperty("aioco.inlineCache", value);
        }
        try {
            return action.call();
        } finally {
            if (old == null) {
                System.clearProperty("aioco.inlineCache");
            } else {
                System.setProperty("aioco.inlineCache", old);
            }
        }
    }

    private static Map<String, byte[]> weaveAll(Map<String, byte[]> compiled) {
        return GuardedCrossClassCallTest.weave(compiled, name -> !name.equals("t/Driver"));
    }

    private static Object run(Map<String, byte[]> classes, String method) throws Exception {
        return new GuardedCrossClassCallTest.MapLoader(InlineCacheHostileTest.class.getClassLoader(), classes)
                .loadClass("t.Main").getMethod(method).invoke(null);
    }

    /**
     * Separate compilation: {@code J} re-declares the default method {@code I.get} abstract in a
     * later version, after {@code C implements J, K} (K inherits I's default) was compiled. The
     * JVM's maximally-specific method for C is the abstract J.get: the call throws
     * AbstractMethodError (JVMS 5.4.6). Dispatch.select skipped J (abstract, not recursed) and
     * found I.get through K: the cache ran I's woven body instead.
     */
    @Test
    void reAbstractedDefaultThrowsAbstractMethodErrorAsThePlainCall() throws Exception {
        String iSource = "public interface I { @CoroutineFn default int get(int k) { Driver.log(\"I.get\"); return k + 1; } }\n";
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.I", iSource,
                "t.J", "public interface J extends I {}\n",
                "t.K", "public interface K extends I {}\n",
                "t.C", "public class C implements J, K {}\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(I i, int k) { return i.get(k); }
                            @CoroutineFn static void body() {
                                try { Driver.log("=" + call(new C(), 1)); } catch (AbstractMethodError e) { Driver.log("AME"); }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                            public static Object plain() {
                                try { return "=" + ((I) new C()).get(1); } catch (AbstractMethodError e) { return "AME"; }
                            }
                        }
                        """);
        Map<String, byte[]> v2 = GuardedCrossClassCallTest.compile(
                "t.I", iSource,
                "t.J", "public interface J extends I { @CoroutineFn int get(int k); }\n");
        compiled.put("t/J", v2.get("t/J"));
        Map<String, byte[]> woven = weaveAll(compiled);
        // the JVM's answer, the call as written (before it reaches any wrapper)
        assertEquals("AME", run(woven, "plain"));
        assertEquals("AME", withInlineCache("true", () -> run(woven, "run")));
    }

    /**
     * Where the JVM does select a default next to abstract declarations: D implements J (a
     * default) and I (its abstract superinterface, not maximally specific); E implements A (an
     * abstract declaration, separate compilation) and L (a default): exactly one
     * maximally-specific method is not abstract (JVMS 5.4.6). G inherits two unrelated defaults
     * (separate compilation): the call throws IncompatibleClassChangeError. Receivers alternate
     * at one interface site; the unwoven classes give the JVM's own answers for E and G.
     */
    @Test
    void maximallySpecificDefaultsAsTheJvmSelects() throws Exception {
        String i = "public interface I { @CoroutineFn int get(int k); }\n";
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.I", i,
                "t.J", "public interface J extends I { @CoroutineFn default int get(int k) { Coroutine.yield(); return k + 1; } }\n",
                "t.A", "public interface A {}\n",
                "t.L", "public interface L extends I { @CoroutineFn default int get(int k) { return k + 2; } }\n",
                "t.M", "public interface M extends I {}\n",
                "t.D", "public class D implements J, I {}\n",
                "t.E", "public class E implements A, L {}\n",
                "t.G", "public class G implements J, M {}\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(I i, int k) { return i.get(k); }
                            @CoroutineFn static void body() {
                                I[] all = {new D(), new E(), new G(), new D(), new E(), new G()};
                                for (I i : all) {
                                    try { Driver.log("=" + call(i, 1)); } catch (IncompatibleClassChangeError e) { Driver.log(e.getClass().getSimpleName()); }
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                            public static Object plain() {
                                StringBuilder b = new StringBuilder();
                                for (I i : new I[] {new E(), new G()}) {
                                    try { b.append('=').append(i.get(1)); } catch (IncompatibleClassChangeError e) { b.append(e.getClass().getSimpleName()); }
                                    b.append(';');
                                }
                                return b.toString();
                            }
                        }
                        """);
        // A and M compiled again: A declares get abstract, M a default of its own
        Map<String, byte[]> v2 = GuardedCrossClassCallTest.compile(
                "t.I", i,
                "t.A", "public interface A { @CoroutineFn int get(int k); }\n",
                "t.M", "public interface M extends I { @CoroutineFn default int get(int k) { return k + 3; } }\n");
        compiled.put("t/A", v2.get("t/A"));
        compiled.put("t/M", v2.get("t/M"));
        // NOTE: E selects L's default (the only non-abstract maximally-specific one); G's two
        // defaults conflict, and the JVM throws an IncompatibleClassChangeError (HotSpot: its
        // subclass AbstractMethodError through invokeinterface): the woven run must throw the same
        String plain = (String) run(new HashMap<>(compiled), "plain");
        assertTrue(plain.matches("=3;=?(IncompatibleClassChangeError|AbstractMethodError);"), plain);
        String conflict = plain.substring(3, plain.length() - 1).replace("=", "");
        Map<String, byte[]> woven = weaveAll(compiled);
        String expected = "|,=2,=3," + conflict + ",|,=2,=3," + conflict;
        assertEquals(expected, withInlineCache("true", () -> run(woven, "run")));
        assertEquals(expected, withInlineCache("false", () -> run(woven, "run")));
    }

    /** Control of the above: with -Daioco.inlineCache=false the call as written throws, as the JVM does. */
    @Test
    void reAbstractedDefaultWithoutTheCache() throws Exception {
        String iSource = "public interface I { @CoroutineFn default int get(int k) { Driver.log(\"I.get\"); return k + 1; } }\n";
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.I", iSource,
                "t.J", "public interface J extends I {}\n",
                "t.K", "public interface K extends I {}\n",
                "t.C", "public class C implements J, K {}\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(I i, int k) { return i.get(k); }
                            @CoroutineFn static void body() {
                                try { Driver.log("=" + call(new C(), 1)); } catch (AbstractMethodError e) { Driver.log("AME"); }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> v2 = GuardedCrossClassCallTest.compile(
                "t.I", iSource,
                "t.J", "public interface J extends I { @CoroutineFn int get(int k); }\n");
        compiled.put("t/J", v2.get("t/J"));
        Map<String, byte[]> woven = weaveAll(compiled);
        assertEquals("AME", withInlineCache("false", () -> run(woven, "run")));
    }

    /**
     * A nestmate's call of a private coroutine function ({@code invokevirtual} since Java 11)
     * always runs that private method (JVMS 5.4.6: a private resolved method is the selected one),
     * whatever the receiver's class declares. When the instrumenter could not read the callee's
     * class (the agent's lookup of a class defined from memory), the call is given an inline cache,
     * which picks the receiver's own public method of that name instead.
     */
    @Test
    void aPrivateNestmateMethodIsNotOverriddenBySubclassMethod() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.Outer", """
                        public class Outer {
                            @CoroutineFn private int p(int k) { Driver.log("Outer.p"); return k + 1; }
                            public static class Inner { @CoroutineFn public static int call(Outer o, int k) { return o.p(k); } }
                        }
                        """,
                "t.Sub", "public class Sub extends Outer { @CoroutineFn public int p(int k) { Driver.log(\"Sub.p\"); return -1; } }\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static void body() { Driver.log("=" + Outer.Inner.call(new Sub(), 1)); }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = weaveAll(compiled);
        // with the callee's class readable, the call is linked directly: right
        assertEquals("Outer.p,=2", run(woven, "run"));
        // Inner woven by an instrumenter that cannot read Outer (as the agent for a class defined from memory)
        ClassLookup blind = ClassLookup.chain(name -> name.equals("t/Outer") ? null : compiled.get(name),
                ClassLookup.ofClassLoader(InlineCacheHostileTest.class.getClassLoader()));
        Instrumenter instrumenter = new Instrumenter(blind, new Instrumenter.Options(false, false, compiled::containsKey));
        InstrumentationResult inner = instrumenter.instrument(compiled.get("t/Outer$Inner"));
        Map<String, byte[]> mixed = new HashMap<>(woven);
        mixed.put("t/Outer$Inner", inner.bytes() != null ? inner.bytes() : compiled.get("t/Outer$Inner"));
        assertEquals("Outer.p,=2", run(mixed, "run"));
    }

    /**
     * A null receiver: the NullPointerException is thrown at the call, from the caller's frame at
     * the call's line, as the plain call's. Its helpful message names the local the rewrite keeps
     * the receiver in ({@code "<localN>"}), not the source's variable or expression (documented:
     * README, "Under a debugger"), with the cache on and off alike.
     */
    @Test
    void aNullReceiverThrowsANullPointerExceptionAtTheCall() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", "public class W { @CoroutineFn public int get(int k) { return k + 1; } }\n",
                "t.Main", """
                        public class Main {
                            static W make() { return null; }
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static int call2(int k) { return make().get(k); }
                            @CoroutineFn static void body() {
                                try { call(null, 1); } catch (NullPointerException e) { Driver.log(e.getMessage() + " at " + e.getStackTrace()[0]); }
                                try { call2(1); } catch (NullPointerException e) { Driver.log(e.getMessage() + " at " + e.getStackTrace()[0]); }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                            public static Object plain() {
                                StringBuilder b = new StringBuilder();
                                try { plainCall(null, 1); } catch (NullPointerException e) { b.append(e.getMessage()).append(" at ").append(e.getStackTrace()[0].getLineNumber()); }
                                return b.toString();
                            }
                            static int plainCall(W w, int k) { return w.get(k); }
                        }
                        """);
        Map<String, byte[]> woven = weaveAll(compiled);
        Map<String, byte[]> unwoven = new HashMap<>(compiled);
        String plain = (String) run(unwoven, "plain");
        assertEquals("Cannot invoke \"t.W.get(int)\" because \"w\" is null at 19", plain);
        String expected = "Cannot invoke \"t\\.W\\.get\\(int\\)\" because \"<local\\d+>\" is null at t\\.Main\\.call\\(Main\\.java:7\\),"
                + "Cannot invoke \"t\\.W\\.get\\(int\\)\" because \"<local\\d+>\" is null at t\\.Main\\.call2\\(Main\\.java:8\\)";
        for (String cache : new String[] {"true", "false"}) {
            String thrown = (String) withInlineCache(cache, () -> run(woven, "run"));
            assertTrue(thrown.matches(expected), cache + ": " + thrown);
        }
    }

    /**
     * More than {@link io.aioco.internal.CoLinker} tests for (16 classes): the ClassValue path,
     * with an unwoven override and a class inheriting from a woven one after the site went
     * megamorphic.
     */
    @Test
    void megamorphicSiteKeepsEveryClassItsOwnMethod() throws Exception {
        String[] pairs = new String[2 * 22 + 4];
        int n = 0;
        pairs[n++] = "t.W";
        pairs[n++] = "public class W { @CoroutineFn public int get(int k) { Coroutine.yield(); return k; } }\n";
        StringBuilder all = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            pairs[n++] = "t.S" + i;
            pairs[n++] = "public class S" + i + " extends W { @CoroutineFn public int get(int k) { return k + " + (i + 1) + "; } }\n";
            all.append("new S").append(i).append("(), ");
        }
        pairs[n++] = "t.Plain";
        pairs[n++] = "public class Plain extends S3 { public int get(int k) { return -1000; } }\n";
        pairs[n++] = "t.Inh";
        pairs[n++] = "public class Inh extends S5 {}\n";
        pairs[n++] = "t.Main";
        pairs[n++] = """
                public class Main {
                    @CoroutineFn static int call(W w, int k) { return w.get(k); }
                    @CoroutineFn static void body() {
                        W[] all = {ALL new W(), new Plain(), new Inh(), new S3(), new Plain()};
                        int sum = 0;
                        for (W w : all) { sum = sum * 3 + call(w, 100); }
                        Driver.log(sum);
                    }
                    public static Object run() { return Driver.drive(Main::body); }
                }
                """.replace("ALL", all.toString());
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(pairs);
        Map<String, byte[]> woven = GuardedCrossClassCallTest.weave(compiled, name -> !name.equals("t/Driver") && !name.equals("t/Plain"));
        int sum = 0;
        int[] values = new int[25];
        for (int i = 0; i < 20; i++) {
            values[i] = 100 + i + 1;
        }
        values[20] = 100;
        values[21] = -1000;
        values[22] = 106;
        values[23] = 104;
        values[24] = -1000;
        for (int v : values) {
            sum = sum * 3 + v;
        }
        assertEquals("|," + sum, run(woven, "run"));
    }

    /**
     * The compact encoding (a caller too large for the usual one): 600 virtual and interface call
     * points whose receivers alternate, data-dependently, between a woven class that suspends on
     * even arguments, a woven override, an unwoven override (NOT_SELECTED: the call as written
     * out of line) and an unwoven class inheriting the woven method. The result must be that of
     * the same arithmetic in plain Java: every point reaches the method Java selects and every
     * resume returns into the body that suspended, with its own arguments.
     */
    @Test
    void compactEncodingMixedReceivers() {
        StringBuilder big = new StringBuilder("@CoroutineFn static int big(W[] a) { int s = 1;\n");
        for (int i = 0; i < 600; i++) {
            big.append(i % 2 == 0 ? "s = s * 31 + a[(s >>> 3) & 3].get(s + " + i + ");\n"
                    : "s = s * 17 + ((Fn) a[(s >>> 5) & 3]).apply(s ^ " + i + ");\n");
        }
        big.append("return s; }\n");
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Fn", Fixtures.HEADER + "public interface Fn { @CoroutineFn int apply(int x); }\n");
        sources.put("t.W", Fixtures.HEADER + """
                public class W implements Fn {
                    @CoroutineFn public int get(int x) { if ((x & 1) == 0) Coroutine.yield(); return x * 3 + 1; }
                    @CoroutineFn public int apply(int x) { if ((x & 2) == 0) Coroutine.yield(); return x * 11 + 5; }
                }
                """);
        sources.put("t.S", Fixtures.HEADER + """
                public class S extends W {
                    @CoroutineFn public int get(int x) { return x * 5 + 2; }
                    @CoroutineFn public int apply(int x) { if ((x & 4) == 0) Coroutine.yield(); return x * 13 + 7; }
                }
                """);
        sources.put("t.P", Fixtures.HEADER + """
                public class P extends W {
                    public int get(int x) { return x * 7 + 3; }
                    public int apply(int x) { return x * 19 + 9; }
                }
                """);
        sources.put("t.Q", Fixtures.HEADER + "public class Q extends W {}\n");
        sources.put("t.Main", Fixtures.HEADER + """
                public class Main {
                    static int result;
                    BIG
                    @CoroutineFn static void body() { result = big(new W[] {new W(), new S(), new P(), new Q()}); }
                    public static Object run() { Driver.drive(Main::body); return result; }
                }
                """.replace("BIG", big));
        InstrumentingLoader loader = InstrumentingLoader.of(sources).exclude("t.P", "t.Q");
        int s = 1;
        for (int i = 0; i < 600; i++) {
            if (i % 2 == 0) {
                int x = s + i;
                int kind = (s >>> 3) & 3;
                s = s * 31 + (kind == 1 ? x * 5 + 2 : kind == 2 ? x * 7 + 3 : x * 3 + 1);
            } else {
                int x = s ^ i;
                int kind = (s >>> 5) & 3;
                s = s * 17 + (kind == 1 ? x * 13 + 7 : kind == 2 ? x * 19 + 9 : x * 11 + 5);
            }
        }
        assertEquals(s, loader.callStatic("t.Main", "run"));
        assertEquals("[]", loader.result("t.Main").diagnostics().toString());
        org.objectweb.asm.tree.ClassNode node = new org.objectweb.asm.tree.ClassNode();
        new org.objectweb.asm.ClassReader(loader.result("t.Main").bytes()).accept(node, 0);
        org.objectweb.asm.tree.MethodNode woven = node.methods.stream()
                .filter(m -> m.name.equals("big") && m.desc.endsWith("I)I")).findFirst().orElseThrow();
        // the calls went through inline caches, in a method large enough to take the compact encoding
        assertEquals(true, io.aioco.instrumenter.rewrite.MethodRewrite.hasVirtualCalls(woven), node.methods.toString());
    }

    /**
     * An exception thrown by the callee after it resumed, and one thrown before any suspension,
     * through a cached call: the trace names the callee and the caller at their lines, with the
     * cache on as with it off.
     */
    @Test
    void exceptionsThroughTheCacheNameTheFrames() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", """
                        public class W {
                            @CoroutineFn public int get(int k) {
                                if (k > 0) Coroutine.yield();
                                throw new IllegalStateException("k=" + k);
                            }
                        }
                        """,
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) {
                                return w.get(k);
                            }
                            @CoroutineFn static void body() {
                                for (int k = 0; k < 2; k++) {
                                    try { call(new W(), k); } catch (IllegalStateException e) {
                                        StringBuilder b = new StringBuilder(e.getMessage());
                                        for (StackTraceElement f : e.getStackTrace()) {
                                            if (f.getClassName().startsWith("t.") && !f.getClassName().equals("t.Driver")) {
                                                b.append(' ').append(f.getClassName()).append('.').append(f.getMethodName()).append(':').append(f.getLineNumber());
                                            }
                                        }
                                        Driver.log(b);
                                    }
                                }
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = weaveAll(compiled);
        String cached = (String) withInlineCache("true", () -> run(woven, "run"));
        String uncached = (String) withInlineCache("false", () -> run(woven, "run"));
        // the wrapper adds a frame of W.get at its declaration's line (7) where the call goes through
        // it (every call without the cache; the resume with it); the other frames are the same
        assertEquals(uncached.replace(" t.W.get:7", ""), cached.replace(" t.W.get:7", ""));
        assertEquals("k=0 t.W.get:8 t.Main.call:7 t.Main.body:11 t.Main.run:22,|,k=1 t.W.get:8 t.Main.call:7 t.Main.body:11 t.Main.run:22",
                cached.replace(" t.W.get:7", "").replaceAll(" t.Main.lambda[^ ,]*", ""));
    }

    /** A woven subclass that overrides the coroutine function with a plain method: its method runs. */
    @Test
    void aWovenSubclassWithAPlainOverride() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", "public class W { @CoroutineFn public int get(int k) { Coroutine.yield(); return k + 1; } }\n",
                "t.Sub", """
                        public class Sub extends W {
                            public int get(int k) { return -k; }
                            @CoroutineFn public int other(int k) { Coroutine.yield(); return k; }
                        }
                        """,
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static void body() {
                                W[] all = {new W(), new Sub(), new W(), new Sub()};
                                for (W w : all) Driver.log("=" + call(w, 5));
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        assertEquals("|,=6,=-5,|,=6,=-5", run(weaveAll(compiled), "run"));
    }

    /**
     * Hidden classes defined from a woven class's bytes (its own override, woven) and from an
     * unwoven override, at a site that cached the woven base class.
     */
    @Test
    void hiddenClassesReachTheirOwnMethods() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", "public class W { @CoroutineFn public int get(int k) { Coroutine.yield(); return k + 1; } }\n",
                "t.HW", "public class HW extends W { @CoroutineFn public int get(int k) { Coroutine.yield(); return k * 100; } }\n",
                "t.HP", "public class HP extends W { public int get(int k) { return k * 1000; } }\n",
                "t.Main", """
                        public class Main {
                            public static byte[] hw, hp;
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            static W hidden(byte[] bytes) {
                                try {
                                    return (W) java.lang.invoke.MethodHandles.lookup().defineHiddenClass(bytes, true)
                                            .lookupClass().getConstructor().newInstance();
                                } catch (ReflectiveOperationException e) { throw new AssertionError(e); }
                            }
                            @CoroutineFn static void body() {
                                W[] all = {new W(), hidden(hw), hidden(hp), new W(), hidden(hw), hidden(hp)};
                                for (W w : all) Driver.log("=" + call(w, 3));
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = weaveAll(compiled);
        GuardedCrossClassCallTest.MapLoader loader = new GuardedCrossClassCallTest.MapLoader(getClass().getClassLoader(), woven);
        Class<?> main = loader.loadClass("t.Main");
        main.getField("hw").set(null, woven.get("t/HW"));
        main.getField("hp").set(null, compiled.get("t/HP"));
        assertEquals("|,=4,|,=300,=3000,|,=4,|,=300,=3000", main.getMethod("run").invoke(null));
    }

    /**
     * The NOT_SELECTED mark left on the stack by a call inside a cached callee (the inner call's
     * receiver is an unwoven override, a lambda, a proxy; its call as written runs plain code that
     * never touches the stack), in tail position, before a suspension, and thrown through: the
     * outer cached call must not take it for its own and make its call again.
     */
    @Test
    void anInnerNotSelectedMarkIsNotTakenByTheOuterCall() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", """
                        public class W {
                            public W inner;
                            @CoroutineFn public int get(int k) { Driver.log("W" + k); return inner.get(k) + 1; }
                        }
                        """,
                "t.P", "public class P extends W { public int get(int k) { Driver.log(\"P\" + k); if (k < 0) throw new IllegalStateException(); return k * 10; } }\n",
                "t.Y", """
                        public class Y extends W {
                            @CoroutineFn public int get(int k) { Driver.log("Y" + k); int r = inner.get(k); Coroutine.yield(); return r + 2; }
                        }
                        """,
                "t.F", "public interface F { @CoroutineFn int apply(int x); }\n",
                "t.G", """
                        public class G implements F {
                            public F inner;
                            @CoroutineFn public int apply(int x) { Driver.log("G" + x); return inner.apply(x); }
                        }
                        """,
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static int callF(F f, int x) { return f.apply(x); }
                            @CoroutineFn static void body() {
                                W w = new W(); w.inner = new P();
                                Y y = new Y(); y.inner = new P();
                                Driver.log("=" + call(w, 5));
                                Driver.log("=" + call(y, 6));
                                try { call(w, -1); } catch (IllegalStateException e) { Driver.log("ISE"); }
                                Driver.log("=" + call(w, 7));
                                G g = new G(); g.inner = x -> { Driver.log("L" + x); return x * 3; };
                                Driver.log("=" + callF(g, 8));
                                G g2 = new G(); g2.inner = (F) java.lang.reflect.Proxy.newProxyInstance(F.class.getClassLoader(),
                                        new Class<?>[] {F.class}, (p, m, a) -> { Driver.log("X" + a[0]); return (Integer) a[0] * 4; });
                                Driver.log("=" + callF(g2, 9));
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = GuardedCrossClassCallTest.weave(compiled, name -> !name.equals("t/Driver") && !name.equals("t/P"));
        assertEquals("W5,P5,=51,Y6,P6,|,=62,W-1,P-1,ISE,W7,P7,=71,G8,L8,=24,G9,X9,=36", run(woven, "run"));
    }

    /**
     * A generic interface method implemented by a default method of a subinterface with a narrower
     * type (javac's bridge is a default method of the interface), a default overriding another
     * default, and an interface implemented through a public method of a superclass that does not
     * implement it; receivers alternate at one interface site.
     */
    @Test
    void interfaceBridgesAndInheritedImplementations() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.Fn", "public interface Fn<T> { @CoroutineFn T apply(T t); }\n",
                "t.StrFn", "public interface StrFn extends Fn<String> { @CoroutineFn default String apply(String s) { Coroutine.yield(); return s + \"!\"; } }\n",
                "t.LoudFn", "public interface LoudFn extends StrFn { @CoroutineFn default String apply(String s) { return s.toUpperCase(); } }\n",
                "t.X", "public class X implements StrFn {}\n",
                "t.Y", "public class Y implements LoudFn {}\n",
                "t.Base", "public class Base { @CoroutineFn public String apply(String s) { return \"base:\" + s; } }\n",
                "t.Z", "public class Z extends Base implements StrFn {}\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static <T> T call(Fn<T> f, T t) { return f.apply(t); }
                            @CoroutineFn static String callStr(StrFn f, String s) { return f.apply(s); }
                            @CoroutineFn static void body() {
                                StrFn[] all = {new X(), new Y(), new Z(), new X(), new Y(), new Z()};
                                for (StrFn f : all) Driver.log(call(f, "a") + "/" + callStr(f, "b"));
                            }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        assertEquals("|,|,a!/b!,A/B,base:a/base:b,|,|,a!/b!,A/B,base:a/base:b", run(weaveAll(compiled), "run"));
    }

    /**
     * The class-path rule asks the thread's context class loader whether Mockito's inline mock
     * maker or Byte Buddy's agent is visible. A context loader that fails with an Error other
     * than a LinkageError (a restricted or broken loader: AssertionError, StackOverflowError,
     * ServiceConfigurationError) must not break the call, which never needed that loader: the
     * plain call as written works. The site's bootstrap let the Error out (the call threw the
     * loader's AssertionError); now such a loader counts as one that sees them (the site's cache
     * stays off). Run with {@code -Daioco.inlineCache=true}: the rule is asked only then without
     * the agent.
     */
    @Test
    void aContextLoaderThatFailsDoesNotBreakTheCall() throws Exception {
        Map<String, byte[]> compiled = GuardedCrossClassCallTest.compile(
                "t.W", "public class W { @CoroutineFn public int get(int k) { Coroutine.yield(); return k + 1; } }\n",
                "t.Main", """
                        public class Main {
                            @CoroutineFn static int call(W w, int k) { return w.get(k); }
                            @CoroutineFn static void body() { Driver.log("=" + call(new W(), 1)); }
                            public static Object run() { return Driver.drive(Main::body); }
                        }
                        """);
        Map<String, byte[]> woven = weaveAll(compiled);
        ClassLoader broken = new ClassLoader(null) {
            @Override
            protected Class<?> loadClass(String name, boolean resolve) {
                throw new AssertionError("this loader may not load " + name);
            }
        };
        Class<?> main = new GuardedCrossClassCallTest.MapLoader(getClass().getClassLoader(), woven).loadClass("t.Main");
        Thread thread = Thread.currentThread();
        ClassLoader saved = thread.getContextClassLoader();
        thread.setContextClassLoader(broken);
        String first;
        String second;
        try {
            first = withInlineCache("true", () -> outcome(main));
        } finally {
            thread.setContextClassLoader(saved);
        }
        // the same call site again, the context loader restored
        second = withInlineCache("true", () -> outcome(main));
        assertEquals("|,=2 then |,=2,|,=2", first + " then " + second);
    }

    private static String outcome(Class<?> main) throws Exception {
        try {
            return (String) main.getMethod("run").invoke(null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause().toString();
        }
    }}
