package io.aioco.internal;

import io.aioco.internal.loop.TestTime;
import java.util.List;

/**
 * The test kit's way into {@code AioContext} (module {@code aioco-test}, package {@code
 * io.aioco.test}): what a test driver needs that is no public API. Internal: the kit is its only
 * user, and it may change with the runtime. Implemented by {@code io.aioco.AioContextTestAccess},
 * which {@code AioContext} registers when its class initializes.
 *
 * <p>The public types appear as type parameters only, so that this package imports nothing public
 * (no import cycle between the runtime's packages): {@code C} is {@code io.aioco.AioContext},
 * {@code K} is {@code io.aioco.Coroutine}.
 *
 * <p>Threads: {@link #create} from any thread; the rest from the context's loop thread between
 * polls (the test kit's driver), except {@link #untilNextDeadlineNs} and {@link #threadPoolBusy},
 * which any thread may call.
 */
public abstract class TestAccess<C, K> {
    private static volatile TestAccess<?, ?> instance;

    /** Called once, by AioContext's class initializer. */
    protected static void register(TestAccess<?, ?> access) {
        instance = access;
    }

    /**
     * The implementation, initializing {@code AioContext} if needed.
     *
     * @param <C> {@code io.aioco.AioContext}
     * @param <K> {@code io.aioco.Coroutine}
     * @return the test kit's access
     */
    @SuppressWarnings("unchecked") // the one implementation is TestAccess<AioContext, Coroutine>
    public static <C, K> TestAccess<C, K> get() {
        TestAccess<?, ?> a = instance;
        if (a == null) {
            try {
                // named, not linked: this package imports nothing public
                Class.forName(PublicNames.AIO_CONTEXT, true, TestAccess.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
            a = instance;
        }
        return (TestAccess<C, K>) a;
    }

    /** A new context whose clocks all read {@code time} (null: the machine's clocks). */
    public abstract C create(String name, TestTime time);

    /**
     * How far the context's time must move for its earliest timer (any clock) to be due: 0 if
     * one is due, -1 if none is armed.
     */
    public abstract long untilNextDeadlineNs(C ctx);

    /** Whether the context's thread pool has work queued or running. */
    public abstract boolean threadPoolBusy(C ctx);

    /**
     * Whether a coroutine of the context (with its own time only) awaits a future ({@code
     * Coroutine.await}) that another thread may complete: not complete yet, and not spawned on
     * this context.
     */
    public abstract boolean awaitsInFlight(C ctx);

    /** One line per bottom half scheduled and not run, timer armed and fd handler installed. */
    public abstract List<String> pending(C ctx);

    /** Whether the context has fd handlers installed (a peer may make progress the test cannot see). */
    public abstract boolean hasFdHandlers(C ctx);

    /** What {@code co} waits for right now ("the completion of ..."), or null if it waits for nothing known. */
    public abstract String describeWait(K co);

    /**
     * Writes {@code co} as the coroutine dump ({@code Coroutine.dump}) shows it: label, context,
     * state and wait, and its suspended stack, one {@code at} line per frame, then an empty line.
     *
     * @throws java.io.IOException what {@code out} throws
     */
    public abstract void dump(K co, Appendable out) throws java.io.IOException;

    /** Whether {@code co} has yielded and not terminated (entered once, not running now). */
    public abstract boolean isSuspended(K co);
}
