package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

/**
 * The guarded cross-class call ({@code LocalDirectCalls}, {@code CoLinker.hasBody}) against what the
 * linked call did before it: the probes of the hostile review rv18 (test-suite/src/test/resources/rv18)
 * and the regression tests of its findings (too large or too many constants with guards: woven with
 * linked calls; the warning's diagnosis; a callee method removed or not accessible fails as in plain
 * Java).
 */
class GuardedCrossClassCallTest {

    /** Weaves every class of {@code compiled} named by {@code woven}, all taken as woven alike. */
    static Map<String, byte[]> weave(Map<String, byte[]> compiled, Predicate<String> woven) {
        return weave(compiled, woven, compiled::containsKey);
    }

    /** As above, with the classes taken as woven alike ({@code null}: none, every cross-class call linked as on main). */
    static Map<String, byte[]> weave(Map<String, byte[]> compiled, Predicate<String> woven, Predicate<String> alike) {
        ClassLookup lookup = ClassLookup.chain(compiled::get, ClassLookup.ofClassLoader(GuardedCrossClassCallTest.class.getClassLoader()));
        Instrumenter instrumenter = new Instrumenter(lookup, new Instrumenter.Options(false, false, alike));
        Map<String, byte[]> out = new HashMap<>();
        for (Map.Entry<String, byte[]> e : compiled.entrySet()) {
            if (woven.test(e.getKey())) {
                InstrumentationResult r = instrumenter.instrument(e.getValue());
                assertTrue(r.diagnostics().isEmpty(), r.diagnostics().toString());
                out.put(e.getKey(), r.bytes() != null ? r.bytes() : e.getValue());
            } else {
                out.put(e.getKey(), e.getValue());
            }
        }
        return out;
    }

    static Map<String, byte[]> compile(String... nameAndSource) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        for (int i = 0; i < nameAndSource.length; i += 2) {
            sources.put(nameAndSource[i], Fixtures.HEADER + nameAndSource[i + 1]);
        }
        return new HashMap<>(TestCompiler.compile(sources));
    }

    /** Defines the given classes itself (internal names), parent first for everything else. */
    static final class MapLoader extends ClassLoader {
        private final Map<String, byte[]> classes;

        MapLoader(ClassLoader parent, Map<String, byte[]> classes) {
            super(parent);
            this.classes = classes;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    byte[] bytes = classes.get(name.replace('.', '/'));
                    c = bytes != null ? defineClass(name, bytes, 0, bytes.length) : super.loadClass(name, false);
                }
                return c;
            }
        }

        Object run(String className) throws Exception {
            return loadClass(className).getMethod("run").invoke(null);
        }
    }

    /** Collects what the logger io.aioco gets. */
    static final class Captured extends Handler implements AutoCloseable {
        final List<String> messages = new ArrayList<>();
        private final Logger logger = Logger.getLogger("io.aioco");

        Captured() {
            logger.addHandler(this);
        }

        @Override
        public synchronized void publish(LogRecord record) {
            messages.add(record.getMessage());
        }

        @Override
        public void flush() {}

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }

    // ---------------------------------------------------------------- finding: too-large margin

    private static String manyCalls(int n) {
        StringBuilder calls = new StringBuilder();
        for (int i = 0; i < n; i++) {
            calls.append("        s = Other.f(s);\n");
        }
        return "public class Caller {\n    @CoroutineFn static int big(int s) {\n" + calls + "        return s;\n    }\n}\n";
    }

    /**
     * A coroutine function of 880 calls to a suspending static coroutine function of another class
     * (about 4.6 KB of bytecode) weaves with linked calls (as before the guard, or for a callee not
     * woven alike); with the guard (about 12 more bytes per call site, in the body and in the fresh
     * body) it would pass 64 KiB: it is woven again with its calls linked, as they were, and not
     * refused (rv18 finding 1).
     */
    @Test
    void aFunctionTooLargeWithItsGuardsWeavesWithLinkedCalls() {
        Map<String, byte[]> classes = compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { Coroutine.yield(); return x + 1; } }",
                "t.Caller", manyCalls(880));
        ClassLookup lookup = ClassLookup.chain(classes::get, ClassLookup.ofClassLoader(getClass().getClassLoader()));
        InstrumentationResult linked = new Instrumenter(lookup, new Instrumenter.Options(false, false, null))
                .instrument(classes.get("t/Caller"));
        assertEquals(List.of(), linked.diagnostics(), "without guards the function weaves");
        InstrumentationResult guarded = new Instrumenter(lookup, new Instrumenter.Options(false, false, classes::containsKey))
                .instrument(classes.get("t/Caller"));
        assertEquals(List.of(), guarded.diagnostics(), "with the guards the same function weaves");
        assertArrayEquals(linked.bytes(), guarded.bytes(), "its calls linked, as without guards");
    }

    /** Only the method too large with its guards loses them: a small function of the same class keeps its guarded call. */
    @Test
    void onlyTheFunctionTooLargeWithItsGuardsLosesThem() {
        String caller = manyCalls(880).replace("public class Caller {",
                "public class Caller {\n    @CoroutineFn static int small(int s) { return Other.f(s); }");
        Map<String, byte[]> classes = compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { Coroutine.yield(); return x + 1; } }",
                "t.Caller", caller);
        ClassLookup lookup = ClassLookup.chain(classes::get, ClassLookup.ofClassLoader(getClass().getClassLoader()));
        InstrumentationResult guarded = new Instrumenter(lookup, new Instrumenter.Options(false, false, classes::containsKey))
                .instrument(classes.get("t/Caller"));
        assertEquals(List.of(), guarded.diagnostics());
        Map<String, Integer> guards = guardsPerMethod(guarded.bytes());
        assertEquals(0, guards.getOrDefault("big", 0), guards.toString());
        assertEquals(2, guards.getOrDefault("small", 0), "its fresh body and its body: " + guards);
    }

    /** @return the number of guards ({@code ldc} of a dynamic constant) in the methods of each name */
    private static Map<String, Integer> guardsPerMethod(byte[] classBytes) {
        org.objectweb.asm.tree.ClassNode node = new org.objectweb.asm.tree.ClassNode();
        new org.objectweb.asm.ClassReader(classBytes).accept(node, 0);
        Map<String, Integer> guards = new HashMap<>();
        for (org.objectweb.asm.tree.MethodNode method : node.methods) {
            for (org.objectweb.asm.tree.AbstractInsnNode insn : method.instructions) {
                if (insn instanceof org.objectweb.asm.tree.LdcInsnNode ldc && ldc.cst instanceof org.objectweb.asm.ConstantDynamic) {
                    guards.merge(method.name, 1, Integer::sum);
                }
            }
        }
        return guards;
    }

    // ---------------------------------------------------------------- finding: the warning's diagnosis

    private static final String CALLER = """
            public class Caller {
                @CoroutineFn static void go() { Driver.log("got " + Other.f(1)); }
                public static Object run() { return Driver.drive(Caller::go); }
            }
            """;

    /**
     * Caller was woven against a release of Other whose f was a coroutine function; Other is then
     * upgraded (a library jar, woven by the plugin) to a release whose f is a plain static method.
     * The call works (linked to the original), and the warning says what happened: Other has no
     * woven body for f, which is not a coroutine function in the version loaded; not that Other
     * "is not woven", loaded before the agent or compiled again without the plugin (rv18 finding 3).
     * It names the caller's method and line.
     */
    @Test
    void aCalleeMadePlainByItsNextReleaseIsReportedAsSuch() throws Exception {
        Map<String, byte[]> v1 = weave(compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { Driver.log(\"f\"); return x + 1; } }",
                "t.Caller", CALLER), name -> true);
        Map<String, byte[]> v2 = weave(compile("t.Other", "public class Other { public static int f(int x) { Driver.log(\"plain f\"); return x + 10; }"
                + " @CoroutineFn public static void g() { Coroutine.yield(); } }", "t.Caller", CALLER), name -> true);
        Map<String, byte[]> mixed = new HashMap<>(v1);
        mixed.put("t/Other", v2.get("t/Other"));
        try (Captured log = new Captured()) {
            assertEquals("plain f,got 11", new MapLoader(getClass().getClassLoader(), mixed).run("t.Caller"));
            assertEquals(1, log.messages.size(), log.messages.toString());
            String warning = log.messages.get(0);
            assertTrue(warning.startsWith("aioco: t.Other has no woven body for f(I)I: it is not a @CoroutineFn in the version of t.Other loaded"), warning);
            assertTrue(!warning.contains("is not woven"), "Other is woven: " + warning);
            assertTrue(warning.contains("(first: t.Caller calling f(I)I from go, line 6)"), warning);
        }
    }

    // ---------------------------------------------------------------- probes that held

    /** A suspends through the fast path, B (loaded unwoven) runs as plain code, in one coroutine. */
    @Test
    void fastAndSlowPathInOneCoroutineResume() throws Exception {
        Map<String, byte[]> classes = weave(compile(
                "t.A", "public class A { @CoroutineFn public static int f(int x) { Driver.log(\"a\" + x); Coroutine.yield(); Driver.log(\"a'\" + x); return x + 1; } }",
                "t.B", "public class B { @CoroutineFn public static int g(int x) { Driver.log(\"b\" + x); return x * 10; } }",
                "t.Caller", """
                public class Caller {
                    @CoroutineFn static void go() { int x = A.f(1); x = B.g(x); x = A.f(x); Driver.log("got " + x); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """), name -> !name.equals("t/B"));
        try (Captured log = new Captured()) {
            assertEquals("a1,|,a'1,b2,a20,|,a'20,got 21", new MapLoader(getClass().getClassLoader(), classes).run("t.Caller"));
            assertEquals(1, log.messages.size(), log.messages.toString());
            assertTrue(log.messages.get(0).startsWith("aioco: t.B is not woven: "), log.messages.toString());
            assertTrue(log.messages.get(0).contains("(first: t.Caller calling g(I)I from go, line 6)"), log.messages.toString());
        }
    }

    private static List<String> trace(Map<String, byte[]> classes) throws Exception {
        try {
            new MapLoader(GuardedCrossClassCallTest.class.getClassLoader(), classes).run("t.Caller");
        } catch (java.lang.reflect.InvocationTargetException e) {
            List<String> frames = new ArrayList<>();
            for (StackTraceElement element : e.getCause().getStackTrace()) {
                if (element.getClassName().startsWith("t.") && !element.getClassName().equals("t.Driver")) {
                    frames.add(element.getClassName() + "." + element.getMethodName() + ":" + element.getLineNumber());
                }
            }
            return frames;
        }
        throw new AssertionError("did not throw");
    }

    /** The same exception, thrown after a resume, through the fast path and through the slow path. */
    @Test
    void stackTracesAreTheSameThroughBothPaths() throws Exception {
        // the header is four lines: line 1 of a source below is line 5 of its file
        Map<String, byte[]> suspendsInCallee = compile(
                "t.A", "public class A {\n@CoroutineFn public static int f(int x) {\nCoroutine.yield();\nif (x > 0) throw new IllegalStateException(\"x\");\nreturn x; } }",
                "t.Caller", "public class Caller {\n@CoroutineFn static void go() {\nint y = 1;\nDriver.log(A.f(y));\n}\npublic static Object run() { return Driver.drive(Caller::go); } }");
        List<String> fast = trace(weave(suspendsInCallee, name -> true));
        assertEquals(List.of("t.A.f:8", "t.Caller.go:8"), fast.subList(0, 2), fast.toString());
        Map<String, byte[]> suspendsInCaller = compile(
                "t.A", "public class A {\n@CoroutineFn public static int f(int x) {\nDriver.log(\"f\");\nif (x > 0) throw new IllegalStateException(\"x\");\nreturn x; } }",
                "t.Caller", "public class Caller {\n@CoroutineFn static void go() {\nCoroutine.yield();\nDriver.log(A.f(1));\n}\npublic static Object run() { return Driver.drive(Caller::go); } }");
        List<String> viaGuard = trace(weave(suspendsInCaller, name -> true));
        List<String> viaLink = trace(weave(suspendsInCaller, name -> !name.equals("t/A")));
        assertEquals(List.of("t.A.f:8", "t.Caller.go:8"), viaGuard.subList(0, 2), viaGuard.toString());
        assertEquals(viaGuard, viaLink);
    }

    /** A private static coroutine function of a nestmate, and a private static interface one. */
    @Test
    void privateNestmatesAndInterfaceStatics() throws Exception {
        Map<String, byte[]> classes = weave(compile(
                "t.I", """
                public interface I {
                    @CoroutineFn static int pub(int x) { Driver.log("pub"); Coroutine.yield(); return priv(x) + 1; }
                    @CoroutineFn private static int priv(int x) { Driver.log("priv"); Coroutine.yield(); return x * 2; }
                    class Nested { @CoroutineFn static int viaNest(int x) { return priv(x) + 100; } }
                }
                """,
                "t.Caller", """
                public class Caller {
                    static class Inner { @CoroutineFn private static int hidden(int x) { Driver.log("hidden"); Coroutine.yield(); return x - 1; } }
                    @CoroutineFn static void go() { Driver.log("got " + I.pub(1) + " " + I.Nested.viaNest(2) + " " + Inner.hidden(5)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """), name -> true);
        try (Captured log = new Captured()) {
            assertEquals("pub,|,priv,|,priv,|,hidden,|,got 3 104 4", new MapLoader(getClass().getClassLoader(), classes).run("t.Caller"));
            assertEquals(List.of(), log.messages);
        }
    }

    /**
     * Two loaders: the parent holds Other woven, the caller's child-first loader an unwoven copy of
     * the same name. The guard must look at the copy the caller's invokestatic resolves to.
     */
    @Test
    void theGuardChecksTheClassTheCallerResolves() throws Exception {
        Map<String, byte[]> compiled = compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { Driver.log(\"f\"); return x + 1; } }",
                "t.Caller", CALLER);
        Map<String, byte[]> woven = weave(compiled, name -> true);
        MapLoader parent = new MapLoader(getClass().getClassLoader(), Map.of("t/Other", woven.get("t/Other"), "t/Driver", woven.get("t/Driver")));
        MapLoader child = new MapLoader(parent, Map.of("t/Other", compiled.get("t/Other"), "t/Caller", woven.get("t/Caller")));
        parent.loadClass("t.Other"); // the woven one is loaded first
        try (Captured log = new Captured()) {
            assertEquals("f,got 2", child.run("t.Caller"));
            assertEquals(1, log.messages.size(), log.messages.toString());
        }
    }

    /** Other's static initializer runs a coroutine that calls back into Other (class initialization in progress). */
    @Test
    void recursiveInitializationAndFailedInitialization() throws Exception {
        Map<String, byte[]> classes = weave(compile(
                "t.Other", """
                public class Other {
                    static int base = 5;
                    static final Object INIT = Driver.drive(Caller::early);
                    @CoroutineFn public static int f(int x) { Coroutine.yield(); return x + base; }
                }
                """,
                "t.Bad", """
                public class Bad {
                    static { if (true) throw new IllegalStateException("bad init"); }
                    @CoroutineFn public static int f(int x) { return x; }
                }
                """,
                "t.Caller", """
                public class Caller {
                    @CoroutineFn static void early() { Driver.log("early " + Other.f(1)); }
                    @CoroutineFn static void go() {
                        Driver.log("got " + Other.f(2));
                        for (int i = 0; i < 2; i++) {
                            try { Bad.f(1); } catch (Throwable t) { Driver.log(t.getClass().getSimpleName()); }
                        }
                    }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """), name -> true);
        assertEquals("|,early 6,|,got 7,ExceptionInInitializerError,NoClassDefFoundError", new MapLoader(getClass().getClassLoader(), classes).run("t.Caller"));
    }

    /** An optional dependency: the callee's class is missing at run time; the program catches NoClassDefFoundError. */
    @Test
    void aMissingCalleeClassThrowsWhatPlainJavaThrows() throws Exception {
        Map<String, byte[]> compiled = compile("t.Missing", "public class Missing { @CoroutineFn public static int f(int x) { return x; } }",
                "t.Caller", """
                public class Caller {
                    @CoroutineFn static void go() {
                        for (int i = 0; i < 2; i++) {
                            try { Missing.f(1); } catch (NoClassDefFoundError e) { Driver.log("fallback"); }
                        }
                    }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """);
        Map<String, byte[]> classes = weave(compiled, name -> true);
        classes.remove("t/Missing");
        assertEquals("fallback,fallback", new MapLoader(getClass().getClassLoader(), classes).run("t.Caller"));
    }

    /**
     * The guards' constant-pool entries (a dynamic constant, its name and type, a method reference
     * per distinct callee: about 3 more entries per callee, 10 against 7) would overflow the pool
     * of a caller of 6,500 distinct static coroutine functions of another class (130 functions of
     * 50 calls each) that weaves without them: the class is woven again with its calls linked, as
     * it was, instead of its small functions being refused one by one as "method too large", the
     * whole class woven again for each (rv18 finding 2).
     */
    @Test
    void aClassWhosePoolOverflowsWithGuardsWeavesWithLinkedCalls() {
        int m = 6500;
        StringBuilder other = new StringBuilder("public class Other {\n");
        StringBuilder caller = new StringBuilder("public class Caller {\n");
        for (int i = 0; i < m; i++) {
            other.append("@CoroutineFn public static int f").append(i).append("(int x) { return x + 1; }\n");
            if (i % 50 == 0) {
                caller.append(i == 0 ? "" : "return s; }\n").append("@CoroutineFn static int g").append(i).append("(int s) {\n");
            }
            caller.append("s = Other.f").append(i).append("(s);\n");
        }
        caller.append("return s; }\n}\n");
        other.append("}\n");
        Map<String, byte[]> classes = compile("t.Other", other.toString(), "t.Caller", caller.toString());
        ClassLookup lookup = ClassLookup.chain(classes::get, ClassLookup.ofClassLoader(getClass().getClassLoader()));
        InstrumentationResult linked = new Instrumenter(lookup, new Instrumenter.Options(false, false, null))
                .instrument(classes.get("t/Caller"));
        assertEquals(List.of(), linked.diagnostics(), "without guards the class weaves");
        InstrumentationResult guarded = new Instrumenter(lookup, new Instrumenter.Options(false, false, classes::containsKey))
                .instrument(classes.get("t/Caller"));
        assertEquals(List.of(), guarded.diagnostics(), "with the guards the class weaves too");
        assertArrayEquals(linked.bytes(), guarded.bytes(), "its calls linked, as without guards");
    }

    private static String failure(Map<String, byte[]> classes) throws Exception {
        MapLoader parent = new MapLoader(GuardedCrossClassCallTest.class.getClassLoader(), Map.of("t/Other", classes.get("t/Other"), "t/Driver", classes.get("t/Driver")));
        MapLoader child = new MapLoader(parent, Map.of("t/Caller", classes.get("t/Caller")));
        try {
            return String.valueOf(child.run("t.Caller"));
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause().getClass().getName();
        }
    }

    /**
     * Package-private across loaders: t.Caller (child loader) and t.Other (parent loader) are in
     * two runtime packages of the same name. Plain Java throws IllegalAccessError; the woven
     * program throws the same, guarded or linked (hasBody says null, and the linked call's
     * bootstrap throws an IllegalAccessError, which leaves it as it is: it threw an
     * IllegalAccessException, wrapped in a BootstrapMethodError, before; rv18 finding 5).
     */
    @Test
    void packagePrivateAcrossLoadersThrowsIllegalAccessErrorAsPlainJava() throws Exception {
        Map<String, byte[]> compiled = compile("t.Other", "public class Other { @CoroutineFn static int f(int x) { Driver.log(\"f\"); return x + 1; } }",
                "t.Caller", CALLER);
        String plain = failure(compiled);
        assertEquals("java.lang.IllegalAccessError", plain);
        try (Captured log = new Captured()) {
            assertEquals(plain, failure(weave(compiled, name -> true)), "guarded");
            assertEquals(plain, failure(weave(compiled, name -> true, null)), "linked");
            assertEquals(List.of(), log.messages);
        }
    }

    /**
     * Separate compilation: Other's next release drops f altogether (a binary-incompatible change).
     * Plain Java throws NoSuchMethodError at the call; so does the woven caller, guarded or linked,
     * and without a warning that Other "is not woven" (rv18 finding 4: it warned, then threw
     * BootstrapMethodError).
     */
    @Test
    void aRemovedCalleeMethodThrowsNoSuchMethodErrorWithoutAWarning() throws Exception {
        String v2 = "public class Other { @CoroutineFn public static void g() { Coroutine.yield(); } }";
        Map<String, byte[]> plain = compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { return x + 1; } }", "t.Caller", CALLER);
        plain.put("t/Other", compile("t.Other", v2).get("t/Other"));
        Map<String, byte[]> compiled = compile("t.Other", "public class Other { @CoroutineFn public static int f(int x) { return x + 1; } }", "t.Caller", CALLER);
        Map<String, byte[]> woven = weave(compiled, name -> true);
        Map<String, byte[]> linked = weave(compiled, name -> true, null);
        woven.put("t/Other", weave(compile("t.Other", v2), name -> true).get("t/Other"));
        linked.put("t/Other", woven.get("t/Other"));
        String plainFailure = failure(plain);
        assertEquals("java.lang.NoSuchMethodError", plainFailure);
        try (Captured log = new Captured()) {
            assertEquals(plainFailure, failure(woven), "guarded");
            assertEquals(plainFailure, failure(linked), "linked");
            assertEquals(List.of(), log.messages);
        }
    }

    private static String outcome(Map<String, byte[]> classes) throws Exception {
        try {
            return String.valueOf(new MapLoader(GuardedCrossClassCallTest.class.getClassLoader(), classes).run("t.Caller"));
        } catch (java.lang.reflect.InvocationTargetException e) {
            return e.getCause().toString();
        }
    }

    /** Callees at the parameter limit (254 and 253 int slots, plus the stack, plus the signal): guarded as linked. */
    @Test
    void calleesAtTheParameterLimitBehaveAsLinked() throws Exception {
        for (int n : new int[] {253, 254}) {
            StringBuilder params = new StringBuilder();
            StringBuilder args = new StringBuilder();
            for (int i = 0; i < n; i++) {
                params.append(i == 0 ? "" : ", ").append("int a").append(i);
                args.append(i == 0 ? "" : ", ").append(i);
            }
            Map<String, byte[]> compiled = compile(
                    "t.Other", "public class Other { @CoroutineFn public static int f(" + params + ") { Driver.log(\"f\"); Coroutine.yield(); return a1 + a" + (n - 1) + "; } }",
                    "t.Caller", "public class Caller { @CoroutineFn static void go() { Driver.log(\"got \" + Other.f(" + args + ")); }\n"
                            + " public static Object run() { return Driver.drive(Caller::go); } }");
            String guardedOutcome;
            String linkedOutcome;
            try {
                guardedOutcome = outcome(weave(compiled, name -> true));
            } catch (AssertionError refused) {
                guardedOutcome = "refused at weaving: " + refused.getMessage();
            }
            try {
                linkedOutcome = outcome(weave(compiled, name -> true, null));
            } catch (AssertionError refused) {
                linkedOutcome = "refused at weaving: " + refused.getMessage();
            }
            assertEquals(linkedOutcome, guardedOutcome, n + " parameters");
        }
    }

    /** A guarded call among a constructor's arguments (an uninitialized object on the stack at the guard's jumps). */
    @Test
    void aGuardedCallAsAConstructorArgument() throws Exception {
        Map<String, byte[]> compiled = compile(
                "t.Other", """
                public class Other {
                    @CoroutineFn public static int plain(int x) { return x + 1; }
                    @CoroutineFn public static int yields(int x) { Coroutine.yield(); return x + 2; }
                }
                """,
                "t.Caller", """
                public class Caller {
                    record Box(int a, int b) {}
                    @CoroutineFn static void go() {
                        Box b = new Box(Other.plain(1), Other.yields(10));
                        Driver.log(b);
                        try { Driver.log(new Box(Other.yields(Other.plain(3)), Other.plain(7))); } finally { Driver.log("fin"); }
                    }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """);
        String expected = "|,Box[a=2, b=12],|,Box[a=6, b=8],fin";
        assertEquals(expected, outcome(weave(compiled, name -> true)));
        assertEquals(expected, outcome(weave(compiled, name -> true, null)));
    }

    /** A Java 8 interface's static coroutine function called from a Java 17 caller: guarded, suspends, resumes. */
    @Test
    void aJava8InterfaceStaticCallee() throws Exception {
        String iface = "public interface I { @CoroutineFn static int f(int x) { Driver.log(\"f\"); Coroutine.yield(); return x + 1; } }";
        Map<String, byte[]> compiled = compile("t.I", iface, "t.Caller", """
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + I.f(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """);
        Map<String, String> old = new LinkedHashMap<>();
        old.put("t.Driver", Fixtures.DRIVER);
        old.put("t.I", Fixtures.HEADER + iface);
        byte[] java8 = TestCompiler.compile(old, "--release", "8").get("t/I");
        assertEquals(52, ((java8[6] & 0xff) << 8) | (java8[7] & 0xff));
        compiled.put("t/I", java8);
        try (Captured log = new Captured()) {
            assertEquals("f,|,got 2", outcome(weave(compiled, name -> true)));
            assertEquals(List.of(), log.messages);
        }
    }
}
