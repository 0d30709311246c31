package io.aioco.internal.kit;

import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;
import io.aioco.internal.CoStack;
import java.lang.invoke.MethodType;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * A coroutine entry that calls a {@code @CoroutineFn} method through reflection, for the test kit
 * ({@code io.aioco.test.CoroutineTest} runs a test method as a coroutine). Reflection is a frame
 * that is not instrumented, but it calls nothing of its own in between, so this frame arms the
 * call exactly as instrumented code would ({@link CoStack#arm}: the method's token, its name and
 * descriptor, the receiver) and the woven method admits it, suspends and resumes through it. The
 * runtime is not instrumented, so this frame follows the protocol of {@link CoStack} by hand, as
 * {@code io.aioco.SpawnEntry} does: its only suspension point is the call, and it saves nothing.
 *
 * <p>The outcome (returned, or the exception the method threw) is kept for the driver: the
 * coroutine itself always ends normally. Threads: run by the coroutine's thread; {@link #isDone()}
 * and {@link #failure()} read by the thread that drives the coroutine's context.
 */
public final class MethodEntry implements CoroutineEntry {
    private static final int RUN_TOKEN = CoStack.token("run", "()V");

    private final Object target;
    private final Method method;
    private final Object[] args;
    private final int token;
    private final String callee;
    /** The entry to call instead of a method ({@link #of(CoroutineEntry)}), else null. */
    private final CoroutineEntry entry;

    private volatile boolean done;
    private volatile Throwable failure;

    private MethodEntry(Object target, Method method, Object[] args, CoroutineEntry entry) {
        this.target = target;
        this.method = method;
        this.args = args;
        this.entry = entry;
        if (method != null) {
            String descriptor = MethodType.methodType(method.getReturnType(), method.getParameterTypes())
                    .toMethodDescriptorString();
            this.token = CoStack.token(method.getName(), descriptor);
            this.callee = (method.getName() + descriptor).intern(); // NOTE: admit compares identity
        } else {
            this.token = RUN_TOKEN;
            this.callee = "run()V";
        }
    }

    /**
     * @param target the receiver (null for a static method)
     * @param method a {@code @CoroutineFn} method, made accessible by the caller if needed
     * @param args its arguments
     * @return an entry that calls {@code target.method(args)}
     */
    public static MethodEntry of(Object target, Method method, Object[] args) {
        return new MethodEntry(target, java.util.Objects.requireNonNull(method, "method"), args.clone(), null);
    }

    /**
     * @param entry the code to run
     * @return an entry that runs {@code entry} and keeps its outcome
     */
    public static MethodEntry of(CoroutineEntry entry) {
        return new MethodEntry(null, null, null, java.util.Objects.requireNonNull(entry, "entry"));
    }

    /** Whether the method returned or threw. Any thread. */
    public boolean isDone() {
        return done;
    }

    /** What the method threw, or null. Any thread, once {@link #isDone()}. */
    public Throwable failure() {
        return failure;
    }

    @Override
    @CoroutineFn
    public void run() {
        CoStack stack = CoStack.enter("io.aioco.internal.kit.MethodEntry.run()");
        int arrival = stack.arrive(RUN_TOKEN, this);
        int value = arrival == CoStack.RESUMED ? token | CoStack.RESUME : token;
        try {
            if (entry != null) {
                stack.arm(value, callee, entry);
                entry.run();
            } else {
                stack.arm(value, callee, target != null ? target : method.getDeclaringClass());
                method.invoke(target, args);
            }
        } catch (Throwable thrown) {
            stack.signal = 0;
            failure = thrown instanceof InvocationTargetException ite && ite.getCause() != null ? ite.getCause() : thrown;
            done = true;
            return;
        }
        if (stack.signal == CoStack.SUSPEND) {
            return; // the method saved its frames; Coroutine.enter sees SUSPEND, and so does the next resume
        }
        stack.signal = 0;
        done = true;
    }
}
