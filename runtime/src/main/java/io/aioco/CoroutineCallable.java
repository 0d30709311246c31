package io.aioco;

/**
 * A coroutine body that computes a value, for {@link AioContext#spawn(CoroutineCallable)}. Beyond
 * QEMU, whose coroutines return nothing.
 *
 * @param <T> the result type
 */
@FunctionalInterface
public interface CoroutineCallable<T> {
    /**
     * Computes the value; runs in a coroutine and may suspend.
     *
     * @return the result
     * @throws Exception to complete the spawned future exceptionally
     */
    @CoroutineFn
    T call() throws Exception;
}
