package io.aioco.instrumenter;

import java.util.List;

/**
 * What {@link Instrumenter#instrument(byte[])} made of one class.
 *
 * @param className the class, in internal form (null if the bytes could not be read at all)
 * @param outcome whether the class was rewritten
 * @param bytes the rewritten class file when {@code outcome} is {@link Outcome#REWRITTEN}, else null
 * @param diagnostics findings, refused methods first
 */
public record InstrumentationResult(String className, Outcome outcome, byte[] bytes,
        List<Diagnostic> diagnostics) {

    /** What happened to the class. */
    public enum Outcome {
        /** Nothing to do: no coroutine function, no suspension point, or already instrumented. */
        UNCHANGED,
        /** New bytes; refused methods (see the diagnostics) throw when called. */
        REWRITTEN,
        /** The class could not be instrumented; use it unchanged. The diagnostics say why. */
        FAILED
    }

    /** @return true if some method was refused */
    public boolean hasErrors() {
        return diagnostics.stream().anyMatch(d -> d.severity() == Diagnostic.Severity.ERROR);
    }
}
