package io.aioco;

import io.aioco.internal.CoStack;
import java.util.concurrent.CompletableFuture;

/**
 * The entry of a coroutine started by {@code AioContext.spawn}: calls the user's body and completes
 * a future with its result. The runtime is not instrumented, so this frame follows the protocol of
 * {@link CoStack} by hand: its only suspension point is the call to the body, and it saves nothing
 * (its fields hold all it needs). Internal (package-private: in this package, not in {@code
 * io.aioco.internal}, since it runs and cancels a {@link Coroutine} and that package imports
 * nothing public).
 *
 * @param <T> the result type
 */
final class SpawnEntry<T> implements CoroutineEntry {
    private static final int RUN_TOKEN = CoStack.token("run", "()V");
    private static final int CALL_TOKEN = CoStack.token("call", "()Ljava/lang/Object;");

    private final CoroutineCallable<T> body;
    /** The user's entry when there is no body ({@link #forEntry}); null otherwise. */
    private final CoroutineEntry entry;
    private final Result<T> result = new Result<>();

    /** @param body the user's code */
    public SpawnEntry(CoroutineCallable<T> body) {
        this.body = body;
        this.entry = null;
    }

    private SpawnEntry(CoroutineEntry entry) {
        this.body = null;
        this.entry = entry;
    }

    /**
     * An entry that runs a {@link CoroutineEntry} (which returns nothing) and completes its future
     * with null when it returns ({@code IOThreadGroup}'s connections).
     *
     * @param entry the user's code
     * @return the spawn entry
     */
    public static SpawnEntry<Void> forEntry(CoroutineEntry entry) {
        return new SpawnEntry<>(java.util.Objects.requireNonNull(entry, "entry"));
    }

    /** @return the future the body's outcome completes */
    public CompletableFuture<T> result() {
        return result;
    }

    /**
     * Names the coroutine that runs this entry, so that cancelling the future cancels it. Called
     * once, before the coroutine is entered, by the thread that spawns it.
     */
    public void runIn(Coroutine coroutine) {
        result.coroutine = coroutine;
    }

    /**
     * Names the context the coroutine is spawned on (for {@link #spawnedIn}). Called once, before
     * the coroutine is entered, by the thread that spawns it.
     */
    public void spawnedOn(Object context) {
        result.context = context;
    }

    /**
     * @param future any future
     * @return the context of the coroutine that completes {@code future} if it is a spawned
     *     future ({@code AioContext.spawn}), else null. Any thread (the test kit's accounting).
     */
    public static Object spawnedIn(CompletableFuture<?> future) {
        return future instanceof Result<?> r ? r.context : null;
    }

    /**
     * The spawned future: {@code cancel(true)} also cancels the coroutine ({@link
     * Coroutine#cancel()}); {@code cancel(false)} only completes the future, and the coroutine goes
     * on. Any thread.
     */
    private static final class Result<T> extends CompletableFuture<T> {
        /** Set before the coroutine is first entered (the spawn publishes it), never changed. */
        volatile Coroutine coroutine;
        /** The context it was spawned on; set with the coroutine. */
        volatile Object context;

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            boolean cancelled = super.cancel(mayInterruptIfRunning);
            Coroutine running = coroutine;
            if (mayInterruptIfRunning && running != null) {
                running.cancel();
            }
            return cancelled;
        }
    }

    @Override
    @CoroutineFn
    public void run() {
        CoStack stack = CoStack.enter("io.aioco.SpawnEntry.run()");
        int arrival = stack.arrive(RUN_TOKEN, this);
        T value;
        try {
            if (entry != null) {
                stack.arm(arrival == CoStack.RESUMED ? RUN_TOKEN | CoStack.RESUME : RUN_TOKEN, "run()V", entry);
                entry.run();
                value = null;
            } else {
                stack.arm(arrival == CoStack.RESUMED ? CALL_TOKEN | CoStack.RESUME : CALL_TOKEN,
                        "call()Ljava/lang/Object;", body);
                value = body.call();
            }
        } catch (Throwable failure) {
            stack.signal = 0;
            result.completeExceptionally(failure);
            return;
        }
        int signal = stack.signal;
        if (signal == CoStack.SUSPEND) {
            return; // the body saved its frames; Coroutine.enter sees SUSPEND and so does the next resume
        }
        stack.signal = 0;
        result.complete(value);
    }
}
