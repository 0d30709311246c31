package io.aioco;

/**
 * The body of a coroutine, given to {@link Coroutine#create(CoroutineEntry)}.
 *
 * <p>Maps to QEMU's {@code CoroutineEntry}. When {@link #run()} returns the coroutine terminates and
 * control goes back to whoever last entered it; an exception escaping {@code run()} terminates it
 * too and is rethrown from that {@link Coroutine#enter()} (checked ones wrapped in {@link
 * CoroutineException}).
 */
@FunctionalInterface
public interface CoroutineEntry {
    /** The coroutine's code. It runs on the thread that enters the coroutine. */
    @CoroutineFn
    void run() throws Exception;
}
