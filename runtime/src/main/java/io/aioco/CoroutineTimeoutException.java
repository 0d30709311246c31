package io.aioco;

import java.util.concurrent.CancellationException;

/**
 * Thrown by {@link Coroutine#withTimeoutNs} when its deadline passed before its body finished: the
 * wait the body was in (or its next one) was cancelled with this exception, and {@code
 * withTimeoutNs} rethrows it. The coroutine itself is not cancelled. Kotlin's {@code
 * TimeoutCancellationException}; QEMU's {@code qemu_co_timeout} returns {@code -ETIMEDOUT}
 * instead.
 */
public class CoroutineTimeoutException extends CancellationException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what timed out, and after how long
     */
    public CoroutineTimeoutException(String message) {
        super(message);
    }
}
