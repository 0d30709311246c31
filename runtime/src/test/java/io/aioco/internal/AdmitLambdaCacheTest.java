package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.Serializable;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * {@link CoStack#admitLambda} remembers the last receiver it checked (a resumed entry asks about the
 * same proxy at every switch) and {@link CoStack#arm} skips stores of unchanged fields: the answer
 * must still follow the receiver armed last, whatever was cached or stored before.
 */
class AdmitLambdaCacheTest {
    private static final int TOKEN = CoStack.token("run", "()V");
    private static final String RUN = "run()V";

    /** A class of the same nest with lambdas of its own: their proxies' host is this class. */
    static final class Other {
        static Runnable proxy() {
            return () -> {};
        }
    }

    @Test
    void theAnswerFollowsTheReceiverArmedLastNotTheCachedOne() {
        CoStack stack = new CoStack(null);
        Runnable mine = () -> {};
        Runnable other = Other.proxy();

        stack.arm(TOKEN, RUN, mine);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "this class's proxy");
        assertEquals(TOKEN, stack.signal, "admitted: the signal stays");
        stack.arm(TOKEN, RUN, mine);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "the same proxy again (cached)");

        stack.arm(TOKEN, RUN, other);
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "another class's proxy after a hit");
        assertEquals(0, stack.signal, "refused: the signal is cleared");
        stack.arm(TOKEN, RUN, other);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, Other.class, "run()V"), "that proxy, for its own host");

        stack.arm(TOKEN, RUN, new Object());
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "no proxy at all");
        stack.arm(TOKEN, RUN, null);
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "no receiver");

        stack.arm(TOKEN, RUN, mine);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "run()V"), "back to the first proxy");
    }

    @Test
    void aSpareStackAnswersAfreshForItsNextOwner() {
        CoStack stack = new CoStack(null);
        Runnable other = Other.proxy();
        stack.arm(TOKEN, RUN, other);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, Other.class, "run()V"));
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, null); // a fresh owner armed with nothing: no stale receiver admitted
        assertEquals(0, stack.admitLambda(TOKEN, Other.class, "run()V"));
        stack.arm(TOKEN, RUN, other);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, Other.class, "run()V"));
    }

    /**
     * The cache holds a positive answer for one proxy and one body: the same serializable proxy
     * asked about another body of its host (a plain method reference's target, say) must get the
     * full check, which refuses it (the proxy names its implementation).
     */
    @Test
    void aCachedProxyIsAdmittedOnlyForTheBodyItWasAdmittedFor() throws Exception {
        CoStack stack = new CoStack(null);
        Runnable serializable = (Runnable & Serializable) () -> {};
        Method writeReplace = serializable.getClass().getDeclaredMethod("writeReplace");
        writeReplace.setAccessible(true);
        SerializedLambda lambda = (SerializedLambda) writeReplace.invoke(serializable);
        String body = (lambda.getImplMethodName() + lambda.getImplMethodSignature()).intern();

        stack.arm(TOKEN, RUN, serializable);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, body), "its own body");
        stack.arm(TOKEN, RUN, serializable);
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "lambda$other$99()V"),
                "another body of the same host, after the proxy was admitted for its own");
        stack.arm(TOKEN, RUN, serializable);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, body), "its own body again");
        stack.arm(TOKEN, RUN, serializable);
        assertEquals(0, stack.admitLambda(TOKEN, Other.class, body), "the same name, another class");
    }

    /** A serializable proxy capturing {@code n}: every call makes another instance of one proxy class. */
    private static Runnable capturing(int n) {
        return (Runnable & Serializable) () -> Integer.toString(n);
    }

    /**
     * A spare stack keeps, weakly, which proxy class it admitted for which body ({@code
     * admittedClass}: a new coroutine's entry, another instance of the same lambda, is admitted
     * without the class lookups): that answer holds only for that class, body and host; a new
     * instance asked about another body of the host, or the same name of another class, gets the
     * full check, which refuses it.
     */
    @Test
    void aSpareStackAdmitsAnotherInstanceOfTheAdmittedClassOnlyForItsBody() throws Exception {
        CoStack stack = new CoStack(null);
        Runnable first = capturing(1);
        Method writeReplace = first.getClass().getDeclaredMethod("writeReplace");
        writeReplace.setAccessible(true);
        SerializedLambda lambda = (SerializedLambda) writeReplace.invoke(first);
        String body = (lambda.getImplMethodName() + lambda.getImplMethodSignature()).intern();
        stack.arm(TOKEN, RUN, first);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, body), "its own body");
        stack.emptyForSpare();

        Runnable second = capturing(2);
        assertEquals(first.getClass(), second.getClass(), "one proxy class");
        stack.arm(TOKEN, RUN, second);
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, "lambda$other$99()V"),
                "another body of the same host, on a spare that admitted the class for its own");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, capturing(3));
        assertEquals(0, stack.admitLambda(TOKEN, Other.class, body), "the same name, another class");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, capturing(4));
        assertEquals(TOKEN, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, body), "its own body, a new instance");
        assertEquals(TOKEN, stack.signal, "admitted: the signal stays");
        stack.arm(TOKEN, RUN, Other.proxy());
        assertEquals(0, stack.admitLambda(TOKEN, AdmitLambdaCacheTest.class, body), "another proxy class");
    }
}
