package io.aioco;

/**
 * Wraps a checked exception that escaped a coroutine's entry; {@link Coroutine#enter()} throws it
 * with the checked exception as its cause. Unchecked exceptions and errors are rethrown as they are.
 *
 * <p>No QEMU counterpart: C has no exceptions.
 */
public class CoroutineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the wrapper.
     *
     * @param message what happened
     * @param cause the checked exception thrown by the coroutine
     */
    public CoroutineException(String message, Throwable cause) {
        super(message, cause);
    }
}
