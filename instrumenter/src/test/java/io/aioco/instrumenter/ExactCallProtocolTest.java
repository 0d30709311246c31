package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A coroutine function accepts its caller's signal only when that caller called exactly it: a
 * frame that was not rewritten, between an instrumented caller and a callee with the same name
 * and descriptor, is never taken for the caller (it would run on with a dummy result, and run
 * again with dummy arguments on resume). The documented error is thrown instead, naming that
 * frame, before it continues.
 */
class ExactCallProtocolTest {

    /** The program of the issue: a service whose call charges an account, reached through a plain frame. */
    private static final String SERVICE = """
            public interface Svc { @CoroutineFn int get(int k); }
            """;
    private static final String IMPL = """
            public class Impl implements Svc {
                public int get(int k) { Driver.log("impl k=" + k); Coroutine.yield(); return 42; }
            }
            """;

    private static InstrumentingLoader loader(Map<String, String> classes, String... excluded) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        classes.forEach((name, body) -> sources.put("t." + name, Fixtures.HEADER + body));
        return InstrumentingLoader.of(sources).exclude(excluded);
    }

    private static String crossedMessage(InstrumentingLoader loader) {
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Main", "run"));
        return thrown.getMessage();
    }

    private static final String MAIN = """
            public class Main {
                @CoroutineFn static void body(Svc svc) {
                    int r = svc.get(2);
                    Driver.log("main r=" + r);
                }
                public static Object run() { return Driver.drive(() -> body(Main.make())); }
                static Svc make() { return new Deco(new Impl()); }
            }
            """;

    @Test
    void excludedDecoratorWithTheSameNameIsNotTakenForTheCaller() {
        InstrumentingLoader loader = loader(Map.of("Svc", SERVICE, "Impl", IMPL, "Main", MAIN, "Deco", """
                public class Deco implements Svc {
                    final Svc inner;
                    Deco(Svc inner) { this.inner = inner; }
                    public int get(int k) { Driver.log("charging k=" + k); int r = inner.get(k); Driver.log("got r=" + r); return r; }
                }
                """), "t.Deco");
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Impl.get(I)I was called from t.Deco.get(Deco.java:"),
                message);
        assertEquals(List.of("charging k=2", "impl k=2"), traceOf(loader), "the plain frame must not continue");
    }

    @Test
    void plainSuperclassMethodImplementingAnnotatedInterfaceMethodIsNotTakenForTheCaller() {
        // Base is plain (not a coroutine function: it implements nothing annotated); Sub inherits it as Svc.get
        InstrumentingLoader loader = loader(Map.of("Svc", SERVICE, "Impl", IMPL, "Main", MAIN.replace(
                "new Deco(new Impl())", "new Sub(new Impl())"), "Base", """
                public class Base {
                    final Svc delegate;
                    Base(Svc delegate) { this.delegate = delegate; }
                    public int get(int k) { Driver.log("charging k=" + k); int r = delegate.get(k); Driver.log("got r=" + r); return r; }
                }
                """, "Sub", """
                public class Sub extends Base implements Svc {
                    Sub(Svc delegate) { super(delegate); }
                }
                """));
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Impl.get(I)I was called from t.Base.get(Base.java:"),
                message);
        assertEquals(List.of("charging k=2", "impl k=2"), traceOf(loader));
    }

    @Test
    void excludedSubclassCallingSuperIsNotTakenForTheCaller() {
        InstrumentingLoader loader = loader(Map.of("Svc", SERVICE, "Impl", IMPL, "Main", MAIN.replace(
                "new Deco(new Impl())", "new Logged()"), "Logged", """
                public class Logged extends Impl {
                    @Override public int get(int k) { Driver.log("charging k=" + k); int r = super.get(k); Driver.log("got r=" + r); return r; }
                }
                """), "t.Logged");
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Impl.get(I)I was called from t.Logged.get(Logged.java:"),
                message);
        assertEquals(List.of("charging k=2", "impl k=2"), traceOf(loader));
    }

    @Test
    void twoMethodsWithTheSameHashAreNeverConfused() {
        // "Aa" and "BB" have the same String.hashCode: the same 30-bit token
        InstrumentingLoader loader = loader(Map.of("Main", """
                public class Main {
                    @CoroutineFn static void body(Two two) { Driver.log("main r=" + two.Aa()); }
                    public static Object run() { return Driver.drive(() -> body(new Plain())); }
                }
                """, "Two", """
                public interface Two { @CoroutineFn int Aa(); }
                """, "Base", """
                public class Base {
                    @CoroutineFn public int BB() { Driver.log("BB"); Coroutine.yield(); return 42; }
                }
                """, "Plain", """
                public class Plain extends Base implements Two {
                    public int Aa() { Driver.log("charging"); int r = BB(); Driver.log("got r=" + r); return r; }
                }
                """), "t.Plain");
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Base.BB()I was called from t.Plain.Aa(Plain.java:"),
                message);
        assertEquals(List.of("charging", "BB"), traceOf(loader));
    }

    @Test
    void hiddenClassDecoratorIsNotTakenForTheCaller() throws Exception {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Svc", Fixtures.HEADER + SERVICE);
        sources.put("t.Impl", Fixtures.HEADER + IMPL);
        sources.put("t.HDeco", Fixtures.HEADER + """
                public class HDeco implements Svc {
                    public static Svc inner;
                    public int get(int k) { Driver.log("charging k=" + k); int r = inner.get(k); Driver.log("got r=" + r); return r; }
                }
                """);
        sources.put("t.Main", Fixtures.HEADER + """
                import java.lang.invoke.MethodHandles;
                public class Main {
                    @CoroutineFn static void body(Svc svc) { Driver.log("main r=" + svc.get(2)); }
                    public static Object run(byte[] deco) throws Exception {
                        Class<?> hidden = MethodHandles.lookup().defineHiddenClass(deco, true).lookupClass();
                        hidden.getField("inner").set(null, new Impl());
                        Svc svc = (Svc) hidden.getConstructor().newInstance();
                        return Driver.drive(() -> body(svc));
                    }
                }
                """);
        Map<String, byte[]> classes = TestCompiler.compile(sources);
        InstrumentingLoader loader = new InstrumentingLoader(classes);
        byte[] deco = classes.get("t/HDeco");
        InvocationTargetException thrown = assertThrows(InvocationTargetException.class,
                () -> loader.load("t.Main").getMethod("run", byte[].class).invoke(null, (Object) deco));
        assertTrue(thrown.getCause() instanceof IllegalStateException, String.valueOf(thrown.getCause()));
        String message = thrown.getCause().getMessage();
        assertTrue(message.startsWith("cannot suspend coroutine: t.Impl.get(I)I was called from t.HDeco"), message);
        assertTrue(message.contains(".get(HDeco.java:"), message);
        assertEquals(List.of("charging k=2", "impl k=2"), traceOf(loader));
    }

    @Test
    void excludedDecoratorOfALambdaOrMethodReferenceIsNotTakenForTheCaller() {
        for (String inner : List.of("k -> { Driver.log(\"impl k=\" + k); Coroutine.yield(); return 42; }", "Main::ref")) {
            InstrumentingLoader loader = loader(Map.of("Svc", SERVICE, "Main", """
                    public class Main {
                        @CoroutineFn static int ref(int k) { Driver.log("impl k=" + k); Coroutine.yield(); return 42; }
                        @CoroutineFn static void body(Svc svc) { Driver.log("main r=" + svc.get(2)); }
                        public static Object run() { Svc inner = INNER; return Driver.drive(() -> body(new Deco(inner))); }
                    }
                    """.replace("INNER", inner), "Deco", """
                    public class Deco implements Svc {
                        final Svc inner;
                        Deco(Svc inner) { this.inner = inner; }
                        public int get(int k) { Driver.log("charging k=" + k); int r = inner.get(k); Driver.log("got r=" + r); return r; }
                    }
                    """), "t.Deco");
            String message = crossedMessage(loader);
            assertTrue(message.contains("was called from t.Deco.get(Deco.java:"), message);
            assertEquals(List.of("charging k=2", "impl k=2"), traceOf(loader), inner);
        }
    }

    @Test
    void plainFrameCallingTheRuntimesOwnFunctionOfTheSameNameIsNotTakenForTheCaller() {
        // CoMutex.lock is written by hand: it tells its caller by token and receiver (CoStack.arrive)
        InstrumentingLoader loader = loader(Map.of("Main", """
                public class Main {
                    public interface Locker { @CoroutineFn void lock(); }
                    @CoroutineFn static void holder(CoMutex mutex) { mutex.lock(); Coroutine.yield(); mutex.unlock(); }
                    @CoroutineFn static void body(Locker locker) { locker.lock(); Driver.log("locked"); }
                    public static Object run() {
                        CoMutex mutex = new CoMutex();
                        Coroutine.create(() -> holder(mutex)).enter(); // holds the lock, suspended
                        Coroutine.create(() -> body(new PlainLocker(mutex))).enter();
                        return "no error";
                    }
                }
                """, "PlainLocker", """
                public class PlainLocker implements Main.Locker {
                    final CoMutex mutex;
                    PlainLocker(CoMutex mutex) { this.mutex = mutex; }
                    public void lock() { Driver.log("plain before"); mutex.lock(); Driver.log("plain after"); }
                }
                """), "t.PlainLocker");
        String message = crossedMessage(loader);
        assertTrue(message.contains("io.aioco.CoMutex.lock() was called from t.PlainLocker.lock(PlainLocker.java:"),
                message);
        assertEquals(List.of("plain before"), traceOf(loader));
    }

    @Test
    void theErrorNamesAPlainOverloadOfTheSameName() {
        InstrumentingLoader loader = loader(Map.of("Main", """
                public class Main {
                    @CoroutineFn static int get(int k) { Driver.log("get " + k); Coroutine.yield(); return k; }
                    static int get(String s) {
                        return get(Integer.parseInt(s));
                    }
                    @CoroutineFn static void body() { Driver.log("r=" + get("7")); }
                    public static Object run() { return Driver.drive(Main::body); }
                }
                """));
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Main.get(I)I was called from t.Main.get(Main.java:8)"),
                message);
    }

    @Test
    void theErrorNamesAPlainRunnableLambdaCallingAWrapper() {
        InstrumentingLoader loader = loader(Map.of("Main", """
                public class Main {
                    @CoroutineFn static int get(int k) { Driver.log("get " + k); Coroutine.yield(); return k; }
                    @CoroutineFn static void body() {
                        Runnable plain = () -> Driver.log("r=" + get(3));
                        plain.run();
                    }
                    public static Object run() { return Driver.drive(Main::body); }
                }
                """));
        String message = crossedMessage(loader);
        assertTrue(message.startsWith("cannot suspend coroutine: t.Main.get(I)I was called from t.Main.lambda$body$"),
                message);
        assertTrue(message.contains("(Main.java:8)"), message);
    }

    @Test
    void callsWithoutAPlainFrameStillSuspendAndResume() {
        // an inherited implementation, an interface default, super.m() from an instrumented
        // override, a lambda and a method reference through the interface: all accepted
        assertEquals("impl k=1,|,impl k=2,|,sub k=3,impl k=3,|,def k=4,|,lambda k=5,|,ref k=6,|,done",
                loader(Map.of("Svc", SERVICE, "Impl", IMPL, "Main", """
                public class Main {
                    static class Inherits extends Impl {}
                    static class Overrides extends Impl {
                        @Override public int get(int k) { Driver.log("sub k=" + k); return super.get(k); }
                    }
                    interface Defaulted extends Svc {
                        default int get(int k) { Driver.log("def k=" + k); Coroutine.yield(); return k; }
                    }
                    static class UsesDefault implements Defaulted {}
                    @CoroutineFn static int ref(int k) { Driver.log("ref k=" + k); Coroutine.yield(); return k; }
                    @CoroutineFn static void body() {
                        int sum = new Impl().get(1) + new Inherits().get(2) + new Overrides().get(3)
                                + new UsesDefault().get(4);
                        Svc lambda = k -> { Driver.log("lambda k=" + k); Coroutine.yield(); return k; };
                        Svc reference = Main::ref;
                        sum += lambda.get(5) + reference.get(6);
                        Driver.log("done");
                    }
                    public static Object run() { return Driver.drive(Main::body); }
                }
                """)).callStatic("t.Main", "run"));
    }

    @Test
    void excludedSubclassThatDoesNotOverrideIsCalledDirectly() {
        // no plain frame between: the JVM dispatches straight to Impl.get's wrapper
        assertEquals("impl k=2,|,main r=42", loader(Map.of("Svc", SERVICE, "Impl", IMPL, "Main", MAIN.replace(
                "new Deco(new Impl())", "new Plain()"), "Plain", """
                public class Plain extends Impl {
                    public String toString() { return "plain"; }
                }
                """), "t.Plain").callStatic("t.Main", "run"));
    }

    private static List<String> traceOf(InstrumentingLoader loader) {
        try {
            @SuppressWarnings("unchecked")
            List<String> trace = (List<String>) loader.load("t.Driver").getField("TRACE").get(null);
            return trace;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }
}
