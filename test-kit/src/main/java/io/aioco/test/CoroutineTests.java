package io.aioco.test;

import io.aioco.CoroutineEntry;
import io.aioco.internal.kit.MethodEntry;
import java.util.Objects;

/**
 * The test kit's plain entry points, for jqwik properties and other frameworks: {@link #run}
 * does for a body what {@link CoroutineTest} does for a JUnit 5 method. The body is usually a
 * lambda in the test class (woven by the agent or the Maven plugin, as any {@link CoroutineEntry}).
 */
public final class CoroutineTests {
    private CoroutineTests() {}

    /**
     * Runs {@code body} as a coroutine on a fresh {@link io.aioco.AioContext} with its own virtual
     * time, polls the context on the calling thread until the body returns, and checks that nothing
     * was left behind: see {@link CoroutineTest} for the time, the deadlock and the leak checks. The
     * counterpart of QEMU's qtest driving {@code QEMU_CLOCK_VIRTUAL} with {@code clock_step}.
     *
     * <p>Called from any thread that is not inside a coroutine or a context's callback (each call
     * polls a context of its own; calls from several threads at once are independent).
     *
     * @param body the test's code
     * @throws Exception what the body threw (unchanged); an {@link AssertionError} for a deadlock
     *     or for work left on the context
     */
    public static void run(CoroutineEntry body) throws Exception {
        Driver.run("CoroutineTests.run(" + body.getClass().getName() + ")", false,
                MethodEntry.of(Objects.requireNonNull(body, "body")));
    }

    /**
     * As {@link #run}, on the machine's clocks: timers fire when their real deadline comes ({@link
     * CoroutineTest#realTime()}). Called from the same threads as {@link #run}.
     *
     * @param body the test's code
     * @throws Exception as {@link #run}
     */
    public static void runRealTime(CoroutineEntry body) throws Exception {
        Driver.run("CoroutineTests.runRealTime(" + body.getClass().getName() + ")", true,
                MethodEntry.of(Objects.requireNonNull(body, "body")));
    }
}
