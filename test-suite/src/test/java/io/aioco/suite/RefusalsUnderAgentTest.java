package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/** INSTRUMENTATION.md's "What must be refused" and "At run time", as the agent applies them. */
class RefusalsUnderAgentTest {
    private final Drive drive = new Drive();
    private final Object lock = new Object();

    @CoroutineFn
    void suspendsHoldingAMonitor() {
        drive.log("before");
        synchronized (lock) {
            Coroutine.yield();
        }
    }

    @CoroutineFn
    synchronized void synchronizedAndSuspending() {
        Coroutine.yield();
    }

    @CoroutineFn
    void monitorReleasedBeforeSuspending() {
        synchronized (lock) {
            drive.log("locked");
        }
        Coroutine.yield();
        drive.log("after");
    }

    @Test
    void suspensionInsideSynchronizedBlockThrowsTheDiagnosticAtTheFirstCall() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> drive.run(this::suspendsHoldingAMonitor));
        assertTrue(e.getMessage().startsWith("io/aioco/suite/RefusalsUnderAgentTest.java:22: "
                + "io.aioco.suite.RefusalsUnderAgentTest.suspendsHoldingAMonitor()V: call to coroutine function"
                + " io.aioco.Coroutine.yield()V inside a synchronized block"), e.getMessage());
        assertEquals("", String.join(",", drive.trace)); // the refused body never ran
    }

    @Test
    void synchronizedMethodThatSuspendsThrowsTheDiagnostic() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> drive.run(this::synchronizedAndSuspending));
        assertTrue(e.getMessage().contains("synchronizedAndSuspending()V: a synchronized method cannot suspend"),
                e.getMessage());
    }

    @Test
    void monitorsReleasedBeforeTheSuspensionAreFine() {
        assertEquals("locked,|,after", drive.run(this::monitorReleasedBeforeSuspending));
    }

    @CoroutineFn
    public static void yieldsOnce() {
        Coroutine.yield();
    }

    @Test
    void suspensionThroughReflectionIsRefusedAtRunTimeNamingTheFrame() throws NoSuchMethodException {
        Method method = RefusalsUnderAgentTest.class.getMethod("yieldsOnce");
        RuntimeException e = assertThrows(RuntimeException.class, () -> drive.run(() -> method.invoke(null)));
        Throwable cause = e.getCause() instanceof InvocationTargetException ite ? ite.getCause() : e;
        assertTrue(cause instanceof IllegalStateException, String.valueOf(cause));
        assertTrue(cause.getMessage().contains("RefusalsUnderAgentTest.yieldsOnce()V was called from"), cause.getMessage());
        assertTrue(cause.getMessage().contains("not instrumented"), cause.getMessage());
    }

    @Test
    void nonSuspendingCallThroughReflectionWorks() throws Exception {
        Method method = RefusalsUnderAgentTest.class.getDeclaredMethod("answer");
        Object[] result = new Object[1];
        drive.run(() -> result[0] = method.invoke(null));
        assertEquals(42, result[0]);
    }

    @CoroutineFn
    static int answer() {
        return 42;
    }
}
