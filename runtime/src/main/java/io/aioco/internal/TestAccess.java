package io.aioco.internal;

import io.aioco.AioContext;
import io.aioco.internal.loop.TestTime;
import java.util.List;

/**
 * The test kit's way into {@link AioContext} (module {@code aioco-test}, package {@code
 * io.aioco.test}): what a test driver needs that is no public API. Internal: the kit is its only
 * user, and it may change with the runtime. Implemented by {@code AioContext}, which registers
 * itself when its class initializes.
 *
 * <p>Threads: {@link #create} from any thread; the rest from the context's loop thread between
 * polls (the test kit's driver), except {@link #untilNextDeadlineNs} and {@link #threadPoolBusy},
 * which any thread may call.
 */
public abstract class TestAccess {
    private static volatile TestAccess instance;

    /** Called once, by AioContext's class initializer. */
    protected static void register(TestAccess access) {
        instance = access;
    }

    /** The implementation, initializing {@code AioContext} if needed. */
    public static TestAccess get() {
        TestAccess a = instance;
        if (a == null) {
            try {
                Class.forName(AioContext.class.getName(), true, AioContext.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
            a = instance;
        }
        return a;
    }

    /** A new context whose clocks all read {@code time} (null: the machine's clocks). */
    public abstract AioContext create(String name, TestTime time);

    /**
     * How far the context's time must move for its earliest timer (any clock) to be due: 0 if
     * one is due, -1 if none is armed.
     */
    public abstract long untilNextDeadlineNs(AioContext ctx);

    /** Whether the context's thread pool has work queued or running. */
    public abstract boolean threadPoolBusy(AioContext ctx);

    /**
     * Whether a coroutine of the context (with its own time only) awaits a future ({@code
     * Coroutine.await}) that another thread may complete: not complete yet, and not spawned on
     * this context.
     */
    public abstract boolean awaitsInFlight(AioContext ctx);

    /** One line per bottom half scheduled and not run, timer armed and fd handler installed. */
    public abstract List<String> pending(AioContext ctx);

    /** Whether the context has fd handlers installed (a peer may make progress the test cannot see). */
    public abstract boolean hasFdHandlers(AioContext ctx);

    /** What {@code co} waits for right now ("the completion of ..."), or null if it waits for nothing known. */
    public abstract String describeWait(io.aioco.Coroutine co);

    /**
     * Writes {@code co} as the coroutine dump ({@code Coroutine.dump}) shows it: label, context,
     * state and wait, and its suspended stack, one {@code at} line per frame, then an empty line.
     *
     * @throws java.io.IOException what {@code out} throws
     */
    public abstract void dump(io.aioco.Coroutine co, Appendable out) throws java.io.IOException;

    /** Whether {@code co} has yielded and not terminated (entered once, not running now). */
    public abstract boolean isSuspended(io.aioco.Coroutine co);
}
