package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Serializable lambdas keep their implementation method (deserialization names it), so a
 * serializable method reference to a plain method gets no forwarder: its proxy calls the plain
 * method with the caller's signal still armed. A lambda of the same class that the plain method
 * calls must not take that signal for its own (it was meant for the proxy's implementation, the
 * plain method): it must find that the proxy's implementation is another method, run as called
 * by plain code, and have its suspension refused, never suspend the plain frame (which would run
 * again on resume with dummy arguments).
 */
class SerializableMethodReferenceTest {

    private static final String SOURCE = """
            public class Ser {
                public interface Svc extends java.io.Serializable { @CoroutineFn Object apply(Object k); }
                static final Svc inner = k -> { Coroutine.yield(); return "inner(" + k + ")"; };
                static Object charge(Object account) {          // plain: not a coroutine function
                    Driver.log("charge:" + account);
                    return inner.apply(account);
                }
                @CoroutineFn static Object twice(Object k) { Driver.log("twice"); Coroutine.yield(); return k + "" + k; }
                @CoroutineFn static void pay(Svc s) { Driver.log("got:" + s.apply("acct")); }
                static String attempt(CoroutineEntry entry) {
                    try {
                        return Driver.drive(entry);
                    } catch (Throwable refused) {
                        Driver.log(refused.getClass().getSimpleName());
                        return String.join(",", Driver.TRACE);
                    }
                }
                static Svc roundTrip(Svc s) throws Exception {
                    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
                    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bytes)) { out.writeObject(s); }
                    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
                            new java.io.ByteArrayInputStream(bytes.toByteArray())) {
                        @Override protected Class<?> resolveClass(java.io.ObjectStreamClass d) throws java.io.IOException, ClassNotFoundException {
                            return Class.forName(d.getName(), false, Ser.class.getClassLoader());
                        }
                    }) { return (Svc) in.readObject(); }
                }
                public static Object runPlain() { return attempt(() -> pay(Ser::charge)); }
                public static Object runLambda() throws Exception {
                    Svc copy = roundTrip(inner);
                    return attempt(() -> { pay(inner); pay(copy); });
                }
                public static Object runCoroutineFn() { return attempt(() -> pay(Ser::twice)); }
            }
            """;

    @Test
    void plainSerializableMethodReferenceRunsOnceAndTheSameClassLambdaCannotSuspendIt() {
        assertEquals("charge:acct,IllegalStateException",
                Fixtures.loader("Ser", SOURCE).callStatic("t.Ser", "runPlain"));
    }

    @Test
    void serializableCoroutineLambdaSuspendsAlsoAfterDeserialization() {
        assertEquals("|,got:inner(acct),|,got:inner(acct)",
                Fixtures.loader("Ser", SOURCE).callStatic("t.Ser", "runLambda"));
    }

    /**
     * Not supported yet (a serializable reference keeps its target as implementation, which then
     * finds the signal armed for the interface method): the suspension is refused with the
     * documented error, and nothing runs twice.
     */
    @Test
    void serializableReferenceToCoroutineFunctionIsRefusedNotRunTwice() {
        assertEquals("twice,IllegalStateException",
                Fixtures.loader("Ser", SOURCE).callStatic("t.Ser", "runCoroutineFn"));
    }
}
