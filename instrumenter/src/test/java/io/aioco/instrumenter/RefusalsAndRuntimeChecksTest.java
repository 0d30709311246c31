package io.aioco.instrumenter;

import static io.aioco.instrumenter.Fixtures.loader;
import static io.aioco.instrumenter.Fixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.CoroutineException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.junit.jupiter.api.Test;

/** INSTRUMENTATION.md's "What must be refused" and "At run time". */
class RefusalsAndRuntimeChecksTest {

    @Test
    void suspensionInsideSynchronizedBlockIsRefusedWithLocation() {
        InstrumentingLoader loader = loader("Sync", """
                public class Sync {
                    static final Object LOCK = new Object();
                    @CoroutineFn static void body() {
                        Driver.log("before");
                        synchronized (LOCK) {
                            Coroutine.yield();
                        }
                    }
                    @CoroutineFn static void fine() { synchronized (LOCK) { Driver.log("no suspension"); } Coroutine.yield(); }
                    public static Object run() { return Driver.drive(Sync::body); }
                    public static Object runFine() { return Driver.drive(Sync::fine); }
                }
                """);
        InstrumentationResult result = loader.result("t.Sync");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
        List<Diagnostic> errors = result.diagnostics();
        assertEquals(1, errors.size(), errors.toString());
        Diagnostic error = errors.get(0);
        assertEquals("body", error.methodName());
        assertEquals(10, error.line());
        assertTrue(error.format().startsWith("t/Sync.java:10: t.Sync.body()V: call to coroutine function"
                + " io.aioco.Coroutine.yield()V inside a synchronized block"), error.format());
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Sync", "run"));
        assertEquals(error.format(), thrown.getMessage());
        assertEquals("no suspension,|", loader.callStatic("t.Sync", "runFine"));
    }

    @Test
    void synchronizedMethodThatSuspendsIsRefused() {
        InstrumentingLoader loader = loader("SyncMethod", """
                public class SyncMethod {
                    @CoroutineFn synchronized void body() { Coroutine.yield(); }
                    @CoroutineFn synchronized void harmless() { Driver.log("ok"); }
                    public static Object run() { SyncMethod m = new SyncMethod(); return Driver.drive(m::harmless) + Driver.drive(m::body); }
                }
                """);
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> loader.callStatic("t.SyncMethod", "run"));
        assertTrue(thrown.getMessage().contains("t.SyncMethod.body()V: a synchronized method cannot suspend"),
                thrown.getMessage());
        assertEquals(1, loader.result("t.SyncMethod").diagnostics().size());
    }

    @Test
    void constructorAndStaticInitializerMarkedAsCoroutineFunctionsAreRefused() {
        // javac refuses the marker on constructors (@Target(METHOD)); other compilers and generators may not
        Map<String, byte[]> classes = TestCompiler.compile(Map.of("t.Ctor", Fixtures.HEADER + """
                public class Ctor {
                    static int counter;
                    static { counter = 1; }
                    public Ctor() { counter++; }
                    public static Object run() { return new Ctor(); }
                }
                """));
        ClassNode node = new ClassNode();
        new ClassReader(classes.get("t/Ctor")).accept(node, 0);
        for (MethodNode method : node.methods) {
            if (method.name.startsWith("<")) {
                method.visibleAnnotations = new ArrayList<>(List.of(new AnnotationNode("Lio/aioco/CoroutineFn;")));
            }
        }
        ClassWriter writer = new ClassWriter(0);
        node.accept(writer);
        classes.put("t/Ctor", writer.toByteArray());
        InstrumentingLoader loader = new InstrumentingLoader(classes);
        InstrumentationResult result = loader.result("t.Ctor");
        assertEquals(2, result.diagnostics().size(), result.diagnostics().toString());
        assertTrue(result.diagnostics().stream().anyMatch(d -> d.format().contains(
                "t.Ctor.<init>()V: a constructor cannot be a coroutine function")), result.diagnostics().toString());
        assertTrue(result.diagnostics().stream().anyMatch(d -> d.format().contains(
                "t.Ctor.<clinit>()V: a static initializer cannot be a coroutine function")), result.diagnostics().toString());
        Throwable thrown = assertThrows(Throwable.class, () -> loader.callStatic("t.Ctor", "run"));
        assertTrue(String.valueOf(thrown.getCause()).contains("a static initializer cannot be a coroutine function"),
                String.valueOf(thrown));
    }

    @Test
    void coroutineFunctionCalledOutsideCoroutineThrowsNamingIt() {
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> run("Outside", """
                public class Outside {
                    @CoroutineFn static int compute() { return 42; }
                    public static Object run() { return compute(); }
                }
                """));
        assertTrue(thrown.getMessage().startsWith("t.Outside.compute()I is a @CoroutineFn and was called outside a coroutine"),
                thrown.getMessage());
    }

    @Test
    void suspensionThroughReflectionThrowsNamingTheFrame() {
        CoroutineException wrapped = assertThrows(CoroutineException.class, () -> run("Reflect", """
                public class Reflect {
                    @CoroutineFn public static void target() { Driver.log("target"); Coroutine.yield(); Driver.log("never"); }
                    @CoroutineFn static void body() throws Exception {
                        Reflect.class.getMethod("target").invoke(null);
                    }
                    public static Object run() { return Driver.drive(Reflect::body); }
                }
                """));
        // Method.invoke wraps it in InvocationTargetException, which the coroutine wraps as a checked exception
        Throwable thrown = wrapped.getCause().getCause();
        assertTrue(thrown instanceof IllegalStateException, String.valueOf(thrown));
        assertTrue(thrown.getMessage().contains("t.Reflect.target()V was called from"), thrown.getMessage());
        assertTrue(thrown.getMessage().contains("invoke"), thrown.getMessage());
        assertTrue(thrown.getMessage().contains("not instrumented"), thrown.getMessage());
    }

    @Test
    void suspensionFromPlainLambdaThrowsNamingTheLambda() {
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> run("Plain", """
                public class Plain {
                    @CoroutineFn static void body() {
                        Runnable r = () -> Coroutine.yield();
                        r.run();
                    }
                    public static Object run() { return Driver.drive(Plain::body); }
                }
                """));
        assertTrue(thrown.getMessage().contains("io.aioco.Coroutine.yield() was called from t.Plain.lambda$body$"),
                thrown.getMessage());
    }

    @Test
    void nonSuspendingCallsFromPlainCodeInsideCoroutineStillWork() {
        assertEquals("42,|", run("PlainOk", """
                public class PlainOk {
                    @CoroutineFn static int compute() { return 42; }
                    @CoroutineFn static void body() {
                        Supplier<Integer> s = () -> compute();   // not a coroutine lambda, but compute() never suspends
                        Driver.log(s.get());
                        Coroutine.yield();
                    }
                    public static Object run() { return Driver.drive(PlainOk::body); }
                }
                """));
    }

    @Test
    void methodTooLargeOnceInstrumentedIsRefusedAloneAndTheRestOfTheClassWorks() {
        // 40 live long locals saved and restored at each of 4,000 yields (about 36 KiB of code): past
        // 64 KiB once rewritten even in the compact encoding (a function under 8 KiB never is:
        // CodeGrowthTest)
        StringBuilder big = new StringBuilder("@CoroutineFn static long big() {\n");
        for (int i = 0; i < 40; i++) {
            big.append("long v").append(i).append(" = ").append(i).append("L;\n");
        }
        for (int y = 0; y < 4000; y++) {
            big.append("Coroutine.yield(); v").append(y % 40).append("++;\n");
        }
        big.append("return v0");
        for (int i = 1; i < 40; i++) {
            big.append(" + v").append(i);
        }
        big.append(";\n}\n");
        InstrumentingLoader loader = loader("Big", "public class Big {\n" + big + """
                    @CoroutineFn static void small() { Driver.log("small"); Coroutine.yield(); Driver.log("resumed"); }
                    public static Object run() { return Driver.drive(() -> big()); }
                    public static Object runSmall() { return Driver.drive(Big::small); }
                }
                """);
        InstrumentationResult result = loader.result("t.Big");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
        List<Diagnostic> errors = result.diagnostics();
        assertEquals(1, errors.size(), errors.toString());
        assertEquals("big", errors.get(0).methodName());
        assertTrue(errors.get(0).format().contains("t.Big.big()J: method too large once instrumented"),
                errors.get(0).format());
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Big", "run"));
        assertEquals(errors.get(0).format(), thrown.getMessage());
        assertEquals("small,|,resumed", loader.callStatic("t.Big", "runSmall"));
    }
}
