package io.aioco;

import io.aioco.internal.CoStack;
import java.util.Objects;

/**
 * A coroutine: a computation that can suspend itself ({@link #yield()}) and be resumed later
 * ({@link #enter()}), as in QEMU's {@code qemu/coroutine.h}.
 *
 * <p>The code a coroutine runs is plain Java: its entry and every method it calls that may suspend
 * are marked {@link CoroutineFn} and rewritten by the aioco agent ({@code -javaagent}) or the Maven
 * plugin into resumable state machines. No thread is created: {@code enter()} runs the coroutine on
 * the calling thread until it yields or terminates.
 *
 * <p>Coroutines nest: a coroutine may enter another, and the inner one's {@code yield()} returns to
 * the outer one. A coroutine is not thread-safe: it runs on whichever thread enters it, one thread
 * at a time.
 */
public final class Coroutine {
    // States. NOTE: only the entering thread writes them; a coroutine is driven by one thread at a time.
    /** Created, never entered. */
    private static final int CREATED = 0;
    /** Entered: running, or on the stack of the running coroutine (qemu_coroutine_entered). */
    private static final int ENTERED = 1;
    /** Yielded, waiting to be entered again. */
    private static final int SUSPENDED = 2;
    /** Its entry returned or threw. */
    private static final int TERMINATED = 3;

    static final int RUN_TOKEN = CoStack.token("run", "()V");
    static final int YIELD_TOKEN = CoStack.token("yield", "()V");

    private final CoroutineEntry entry;
    private final CoStack stack;
    private int state;

    private Coroutine(CoroutineEntry entry) {
        this.entry = entry;
        this.stack = new CoStack(this);
    }

    /**
     * Creates a coroutine that will run {@code entry} when first entered. Maps to
     * {@code qemu_coroutine_create}. Any thread may call it.
     *
     * @param entry the coroutine's code
     * @return the new coroutine, not yet entered
     */
    public static Coroutine create(CoroutineEntry entry) {
        return new Coroutine(Objects.requireNonNull(entry, "entry"));
    }

    /**
     * Runs the coroutine on the calling thread until it yields or terminates. Maps to
     * {@code qemu_coroutine_enter}.
     *
     * @throws IllegalStateException if the coroutine is already entered (running, or on the stack of
     *     the running coroutine) or has terminated
     * @throws CoroutineException wrapping a checked exception that escaped the entry; unchecked
     *     exceptions and errors escaping it are rethrown as they are
     */
    public void enter() {
        if (state == ENTERED) {
            throw new IllegalStateException("cannot enter " + this + ": it is already entered"
                    + " (running, or on the stack of the running coroutine)");
        }
        if (state == TERMINATED) {
            throw new IllegalStateException("cannot enter " + this + ": it has terminated");
        }
        run();
    }

    /**
     * Enters the coroutine unless it is already entered (running, or on the stack of the running
     * coroutine), in which case it does nothing. Maps to {@code qemu_coroutine_enter_if_inactive}.
     *
     * @throws IllegalStateException if the coroutine has terminated
     */
    public void enterIfInactive() {
        if (state != ENTERED) {
            enter();
        }
    }

    private void run() {
        CoStack.Carrier carrier = CoStack.carrier();
        CoStack outer = carrier.current;
        CoStack stack = this.stack;
        stack.signal = state == SUSPENDED ? RUN_TOKEN | CoStack.RESUME : RUN_TOKEN;
        state = ENTERED;
        carrier.current = stack;
        Throwable failure = null;
        try {
            entry.run();
        } catch (Throwable t) {
            failure = t;
        } finally {
            carrier.current = outer;
        }
        if (failure == null && stack.signal == CoStack.SUSPEND) {
            stack.signal = 0;
            state = SUSPENDED;
            return;
        }
        state = TERMINATED;
        stack.clear();
        if (failure != null) {
            rethrow(failure);
        }
    }

    private void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure instanceof Error) {
            throw (Error) failure;
        }
        throw new CoroutineException(this + " terminated with " + failure, failure);
    }

    /**
     * Suspends the running coroutine: control returns to whoever last entered it, and this call
     * returns when the coroutine is entered again. Maps to {@code qemu_coroutine_yield}.
     *
     * <p>This is the primitive suspension point that every other one reduces to. It follows the
     * instrumented-code protocol of {@link CoStack} by hand.
     *
     * @throws IllegalStateException outside a coroutine, or when the calling method is not
     *     instrumented (so the suspension could not be resumed)
     */
    @CoroutineFn
    public static void yield() {
        CoStack stack = CoStack.enter("io.aioco.Coroutine.yield()");
        int signal = stack.signal;
        stack.signal = 0;
        if (signal == YIELD_TOKEN) {
            stack.signal = CoStack.SUSPEND;
        } else if (signal != (YIELD_TOKEN | CoStack.RESUME)) {
            throw stack.crossedUninstrumented("io.aioco.Coroutine.yield()");
        }
    }

    /**
     * Tells whether the calling code runs in a coroutine. Maps to {@code qemu_in_coroutine}.
     *
     * @return true inside a coroutine
     */
    public static boolean inCoroutine() {
        return CoStack.current() != null;
    }

    /**
     * The coroutine running on the calling thread. Maps to {@code qemu_coroutine_self}.
     *
     * @return the running coroutine, or null outside coroutines
     */
    public static Coroutine self() {
        CoStack stack = CoStack.current();
        return stack == null ? null : stack.coroutine();
    }

    /**
     * Tells whether the coroutine is entered: it has not yielded from the {@link #enter()} that
     * runs it, so it is running or on the stack of the running coroutine. Maps to
     * {@code qemu_coroutine_entered}.
     *
     * @return true while entered
     */
    public boolean entered() {
        return state == ENTERED;
    }

    /**
     * Tells whether the coroutine's entry has returned or thrown.
     *
     * @return true once terminated
     */
    public boolean isTerminated() {
        return state == TERMINATED;
    }

    @Override
    public String toString() {
        return "Coroutine@" + Integer.toHexString(System.identityHashCode(this)) + "[" + entry + "]";
    }
}
