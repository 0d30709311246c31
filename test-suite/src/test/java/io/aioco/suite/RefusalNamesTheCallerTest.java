package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.Coroutine;
import io.aioco.CoroutineCallable;
import java.lang.invoke.MethodHandleProxies;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/**
 * Issue 15 review (rv15): a refused suspension still names the user's
 * caller first, whatever the coroutine function (yield, sleepNs, await, withTimeoutNs) and however
 * the coroutine was started (plain thread, Coroutine.enter, AioContext.spawn).
 */
class RefusalNamesTheCallerTest {
    private static final String ME = RefusalNamesTheCallerTest.class.getName();

    private static void check(String what, Throwable e) {
        System.out.println("[refusal] " + what + ": " + e);
        assertTrue(e instanceof IllegalStateException, what + ": " + e);
        String m = e.getMessage();
        // the first frame the message names after "was called from" is this class's code
        if (m.contains("was called from")) {
            String named = m.substring(m.indexOf("was called from") + "was called from ".length());
            assertTrue(named.startsWith(ME), what + ": names " + named);
            if (what.startsWith("spawn/") && !what.equals("spawn/proxy")) {
                // the refused function is the one the plain lambda called, named first
                String fn = what.substring("spawn/".length());
                assertTrue(m.startsWith("cannot suspend coroutine: io.aioco.Coroutine." + fn + "("), what + ": " + m);
            }
        }
        StackTraceElement first = null;
        for (StackTraceElement f : e.getStackTrace()) {
            if (!f.getClassName().startsWith("io.aioco.") || f.getClassName().startsWith("io.aioco.suite.")) {
                first = f;
                break;
            }
        }
        assertTrue(first != null && first.getClassName().startsWith(ME), what + ": first user frame " + first);
    }

    @Test
    void outsideACoroutine() {
        check("yield", assertThrows(IllegalStateException.class, () -> Coroutine.yield()));
        check("sleepNs", assertThrows(IllegalStateException.class, () -> Coroutine.sleepNs(ClockType.REALTIME, 1)));
        check("await", assertThrows(IllegalStateException.class,
                () -> Coroutine.await(new CompletableFuture<Object>())));
        check("withTimeoutNs", assertThrows(IllegalStateException.class,
                () -> Coroutine.withTimeoutNs(ClockType.REALTIME, 1, () -> null)));
    }

    private static Throwable inSpawn(Runnable plain) throws Exception {
        try (AioContext ctx = AioContext.create()) {
            CompletableFuture<Object> f = ctx.spawn(() -> {
                plain.run();
                return null;
            });
            for (int i = 0; i < 1000 && !f.isDone(); i++) {
                ctx.poll(false);
            }
            ExecutionException e = assertThrows(ExecutionException.class, f::get);
            return e.getCause();
        }
    }

    @Test
    void fromAPlainLambdaInASpawnedCoroutine() throws Exception {
        check("spawn/yield", inSpawn(() -> Coroutine.yield()));
        check("spawn/sleepNs", inSpawn(() -> Coroutine.sleepNs(ClockType.REALTIME, 1_000_000)));
        check("spawn/await", inSpawn(() -> Coroutine.await(new CompletableFuture<Object>())));
        check("spawn/withTimeoutNs", inSpawn(() -> {
            try {
                Coroutine.withTimeoutNs(ClockType.REALTIME, 1_000_000_000L, () -> {
                    Coroutine.yield();
                    return null;
                });
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }));
    }

    public static Object yieldingBody() {
        Coroutine.yield();
        return null;
    }

    /** A spawned body that is not instrumented (a proxy made at run time) and suspends. */
    @Test
    void aSpawnedBodyMadeAtRunTime() throws Throwable {
        CoroutineCallable<?> body = MethodHandleProxies.asInterfaceInstance(CoroutineCallable.class,
                MethodHandles.lookup().findStatic(RefusalNamesTheCallerTest.class, "yieldingBody",
                        MethodType.methodType(Object.class)));
        try (AioContext ctx = AioContext.create()) {
            CompletableFuture<?> f = ctx.spawn(body);
            for (int i = 0; i < 1000 && !f.isDone(); i++) {
                ctx.poll(false);
            }
            Throwable e = assertThrows(ExecutionException.class, f::get).getCause();
            System.out.println("[refusal] spawn/proxy: " + e);
            assertTrue(e.getMessage() != null && !e.getMessage().contains("SpawnEntry"), e.getMessage());
        }
    }

    /** A plain lambda inside a coroutine entered by hand. */
    @Test
    void fromAPlainLambdaInAnEnteredCoroutine() {
        Runnable[] plains = {() -> Coroutine.yield(), () -> Coroutine.await(new CompletableFuture<Object>())};
        for (Runnable plain : plains) {
            Throwable[] seen = new Throwable[1];
            Coroutine co = Coroutine.create(() -> {
                try {
                    plain.run();
                } catch (Throwable t) {
                    seen[0] = t;
                }
            });
            co.enter();
            check("entered", seen[0]);
        }
    }
}
