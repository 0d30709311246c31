package io.aioco;

import io.aioco.internal.CoStack;
import java.util.function.Supplier;

/**
 * A {@link CoroutineCallable} written the way the instrumenter writes one, for the runtime's own
 * tests: its body makes one call to a coroutine function (named by {@code name} and {@code
 * descriptor}), which may suspend, and returns a value. Follows the callee and caller sides of
 * {@link CoStack}'s protocol by hand, as {@link HandWoven} does for entries.
 */
final class HandCallable<T> implements CoroutineCallable<T> {
    private static final int CALL_TOKEN = CoStack.token("call", "()Ljava/lang/Object;");

    private final int token;
    private final String method;
    private final Object target;
    private final Supplier<T> body;

    /** @param target the callee's receiver, or its class for a static function (main's exact protocol) */
    HandCallable(String name, String descriptor, Object target, Supplier<T> body) {
        this.token = CoStack.token(name, descriptor);
        this.method = (name + descriptor).intern();
        this.target = target;
        this.body = body;
    }

    @Override
    public T call() {
        CoStack stack = CoStack.current();
        int arrival = stack.arrive(CALL_TOKEN, this);
        if (arrival == CoStack.FOREIGN) {
            stack.signal = 0;
        } else {
            stack.arm(arrival == CoStack.RESUMED ? token | CoStack.RESUME : token, method, target);
        }
        T value = body.get();
        if (stack.signal == CoStack.SUSPEND) {
            return null; // suspended: nothing of ours to save
        }
        stack.signal = 0;
        return value;
    }

    /** @return whether the call in progress on this thread's coroutine suspended (its value is a dummy) */
    static boolean suspended() {
        return CoStack.current().signal == CoStack.SUSPEND;
    }
}
