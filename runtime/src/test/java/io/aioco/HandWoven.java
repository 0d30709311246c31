package io.aioco;

import io.aioco.internal.CoStack;
import java.util.List;

/**
 * A coroutine entry written the way the instrumenter writes one, for the runtime's own tests (the
 * runtime's tests run without the agent): a sequence of calls to coroutine functions, each of which
 * may suspend; a suspended call is called again with its resume signal. Follows the caller side of
 * {@link CoStack}'s protocol by hand, in this one place.
 *
 * <p>A hook can run between a callee's suspension and the entry's return (the yield): the window
 * in which a wake-up published too early finds the coroutine still running.
 */
final class HandWoven implements CoroutineEntry {
    private static final int RUN_TOKEN = CoStack.token("run", "()V");

    /**
     * One step: a call to a coroutine function (its name and descriptor give its token) or, with
     * no name, plain code that never suspends; with {@code repeatWhile}, repeated while it holds
     * (checked before each call and after each call that returns).
     */
    record Call(String name, String descriptor, Object target, Runnable body,
            java.util.function.BooleanSupplier repeatWhile) {}

    /**
     * A call to a coroutine function: {@code target} is the callee's receiver, or its class for a
     * static function (the protocol arms a call for exactly that receiver).
     */
    static Call call(String name, String descriptor, Object target, Runnable body) {
        return new Call(name, descriptor, target, body, null);
    }

    /** Plain code, which must not suspend. */
    static Call plain(Runnable body) {
        return new Call(null, null, null, body, null);
    }

    /** {@code call}, repeated while {@code condition} holds (a condition-variable loop). */
    static Call callWhile(java.util.function.BooleanSupplier condition, String name, String descriptor, Object target,
            Runnable body) {
        return new Call(name, descriptor, target, body, condition);
    }

    static Call yieldCall() {
        return call("yield", "()V", Coroutine.class, Coroutine::yield);
    }

    private final List<Call> calls;
    private int index;
    private int hookAt = -1;
    private Runnable hook;
    private volatile boolean finished;
    /** How many times a call of this entry suspended. */
    private volatile int suspensions;

    HandWoven(Call... calls) {
        this.calls = List.of(calls);
    }

    /** Runs {@code beforeYield} once, after call {@code callIndex} first suspends and before the yield. */
    HandWoven beforeYieldAt(int callIndex, Runnable beforeYield) {
        this.hookAt = callIndex;
        this.hook = beforeYield;
        return this;
    }

    boolean finished() {
        return finished;
    }

    int suspensions() {
        return suspensions;
    }

    @Override
    public void run() {
        CoStack stack = CoStack.current();
        boolean resume = stack.signal == (RUN_TOKEN | CoStack.RESUME);
        stack.signal = 0;
        while (index < calls.size()) {
            Call call = calls.get(index);
            if (call.name() == null) {
                call.body().run();
                index++;
                continue;
            }
            if (!resume && call.repeatWhile() != null && !call.repeatWhile().getAsBoolean()) {
                index++;
                continue;
            }
            int token = CoStack.token(call.name(), call.descriptor());
            stack.arm(resume ? token | CoStack.RESUME : token, (call.name() + call.descriptor()).intern(), call.target());
            resume = false;
            call.body().run();
            if (stack.signal == CoStack.SUSPEND) {
                suspensions++;
                if (index == hookAt && hook != null) {
                    Runnable beforeYield = hook;
                    hook = null;
                    beforeYield.run();
                }
                return; // SUSPEND stays for Coroutine.enter: the coroutine yields
            }
            stack.signal = 0;
            if (call.repeatWhile() == null) {
                index++;
            }
        }
        finished = true;
    }
}
