package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * A method reference to a plain method (or constructor) used through a coroutine interface, whose
 * plain code calls a lambda declared in the same class. The caller arms the call for the interface
 * method and the lambda proxy; the proxy used to forward straight into the plain code with the
 * signal still armed, and the lambda body took it for its own: the plain frame was suspended
 * without being saved and ran again on resume with dummy arguments. Now a forwarder consumes the
 * signal, the lambda is called by plain code, and its suspension is refused as a crossed frame.
 */
class PlainMethodReferenceTest {

    private static final String SOURCE = """
            public class Plain {
                public interface Svc { @CoroutineFn Object apply(Object k); }
                static final Svc inner = k -> { Coroutine.yield(); return "inner(" + k + ")"; };
                static Object charge(Object account) {          // plain: not a coroutine function
                    Driver.log("charge:" + account);
                    return inner.apply(account);
                }
                final Object made;
                Plain(Object account) {                         // plain constructor
                    Driver.log("new:" + account);
                    made = inner.apply(account);
                }
                static final CoroutineEntry step = () -> { Coroutine.yield(); Driver.log("step"); };
                static void worker() throws Exception {         // plain entry of a coroutine
                    Driver.log("worker");
                    step.run();                                 // the same interface method as the entry
                }
                @CoroutineFn static void pay(Svc s) { Driver.log("got:" + s.apply("acct")); }
                static String attempt(CoroutineEntry entry) {
                    try {
                        return Driver.drive(entry);
                    } catch (Throwable refused) {
                        Driver.log(refused.getClass().getSimpleName());
                        return String.join(",", Driver.TRACE);
                    }
                }
                public static Object runStatic() { return attempt(() -> pay(Plain::charge)); }
                public static Object runConstructor() { return attempt(() -> pay(Plain::new)); }
                public static Object runEntry() { return attempt(Plain::worker); }
            }
            """;

    @Test
    void plainStaticMethodReferenceRunsOnceAndItsLambdaCannotSuspendIt() {
        assertEquals("charge:acct,IllegalStateException",
                Fixtures.loader("Plain", SOURCE).callStatic("t.Plain", "runStatic"));
    }

    @Test
    void plainConstructorReferenceRunsOnceAndItsLambdaCannotSuspendIt() {
        assertEquals("new:acct,IllegalStateException",
                Fixtures.loader("Plain", SOURCE).callStatic("t.Plain", "runConstructor"));
    }

    @Test
    void plainCoroutineEntryRunsOnceAndItsLambdaCannotSuspendIt() {
        assertEquals("worker,IllegalStateException",
                Fixtures.loader("Plain", SOURCE).callStatic("t.Plain", "runEntry"));
    }
}
