package io.aioco.instrumenter;

/**
 * The one exception the instrumenter throws on its own: the input cannot be instrumented (a
 * malformed class file, a class the hierarchy lookup cannot find, a code shape that is not
 * supported). {@link Instrumenter#instrument(byte[])} turns it into a {@link
 * InstrumentationResult.Outcome#FAILED} result; it escapes only from the lower-level passes.
 */
public class InstrumentationException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, with its location */
    public InstrumentationException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, with its location
     * @param cause the underlying failure
     */
    public InstrumentationException(String message, Throwable cause) {
        super(message, cause);
    }
}
