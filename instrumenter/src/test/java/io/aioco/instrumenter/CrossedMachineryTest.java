package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The crossing error names what was crossed when that is the JDK's machinery between two
 * instrumented frames (or an instrumented frame and aioco's {@code Coroutine.enter}): a method
 * handle, a plain functional interface's method-reference proxy, a lambda proxy made with
 * {@code LambdaMetafactory} at run time. It named the instrumented caller (or
 * {@code io.aioco.Coroutine.runOnce}) and told the user to make that a {@code @CoroutineFn}.
 */
class CrossedMachineryTest {

    private static final String SOURCE = """
            import java.lang.invoke.*;
            public class Wrong {
                @CoroutineFn public static int susp(int k) { Coroutine.yield(); return k; }
                @CoroutineFn public static void task() { Coroutine.yield(); }
                @CoroutineFn static void viaHandle() throws Exception {
                    MethodHandle h = MethodHandles.lookup().findStatic(Wrong.class, "susp", MethodType.methodType(int.class, int.class));
                    try { Driver.log((int) h.invokeExact(1)); } catch (Exception e) { throw e; } catch (Throwable t) { throw new Exception(t); }
                }
                @CoroutineFn static void viaPlainRef() { IntUnaryOperator f = Wrong::susp; Driver.log(f.applyAsInt(2)); }
                static String attempt(CoroutineEntry entry) {
                    try { return Driver.drive(entry); } catch (Throwable t) {
                        while (t.getCause() != null) t = t.getCause();
                        return t.getMessage();
                    }
                }
                public static Object handle() { return attempt(Wrong::viaHandle); }
                public static Object plainRef() { return attempt(Wrong::viaPlainRef); }
                public static Object runtimeProxy() throws Throwable {
                    MethodHandles.Lookup l = MethodHandles.lookup();
                    CallSite site = LambdaMetafactory.metafactory(l, "run", MethodType.methodType(CoroutineEntry.class),
                            MethodType.methodType(void.class), l.findStatic(Wrong.class, "task", MethodType.methodType(void.class)),
                            MethodType.methodType(void.class));
                    return attempt((CoroutineEntry) site.getTarget().invokeExact());
                }
            }
            """;

    private static String run(String entry) {
        return (String) Fixtures.loader("Wrong", SOURCE).callStatic("t.Wrong", entry);
    }

    @Test
    void aMethodHandleIsNamedWithWhereItWasInvoked() {
        String message = run("handle");
        assertTrue(message.startsWith("cannot suspend coroutine: t.Wrong.susp(I)I was called from a method handle"
                + " (java.lang.invoke), invoked at t.Wrong.viaHandle(Wrong.java:"), message);
        assertTrue(message.contains("not through a MethodHandle"), message);
        assertFalse(message.contains("Make the caller a @CoroutineFn"), message);
    }

    @Test
    void aPlainInterfacesProxyIsNamedWithItsInterface() {
        String message = run("plainRef");
        assertTrue(message.startsWith("cannot suspend coroutine: t.Wrong.susp(I)I was called from the lambda proxy t.Wrong$$Lambda"),
                message);
        assertTrue(message.contains(".applyAsInt of java.util.function.IntUnaryOperator, invoked at t.Wrong.viaPlainRef(Wrong.java:"),
                message);
        assertFalse(message.contains("Make the caller a @CoroutineFn"), message);
    }

    @Test
    void aProxyMadeAtRunTimeIsNamedNotTheRuntime() {
        String message = run("runtimeProxy");
        assertTrue(message.startsWith("cannot suspend coroutine: t.Wrong.task()V was called from the lambda proxy t.Wrong$$Lambda"),
                message);
        assertTrue(message.contains(".run of io.aioco.CoroutineEntry, invoked at io.aioco.Coroutine."), message);
        assertTrue(message.contains("not made with LambdaMetafactory at run time"), message);
    }
}
