package io.aioco.internal;

/**
 * Where a coroutine was waiting when an exception reached it: added as a <em>suppressed</em>
 * exception to an exception that a coroutine receives through a wait ({@code Coroutine.await} of a
 * future, {@code ThreadPool.submitCo}, the future of {@code AioContext.spawn}, a cancellation or a
 * timeout delivered by a wake-up from another thread or context), so that a log line shows both
 * sides: the exception's own stack (where it was thrown, often another thread) and, under {@code
 * Suppressed: io.aioco.internal.AsyncStackTrace: a coroutine waiting for this exception (coroutine …)
 * was waiting here}, the coroutine's
 * suspended frames, innermost first, with file and line (from the frame tables, as the coroutine
 * dump shows them). The exception's own stack is never changed. No QEMU counterpart.
 *
 * <p>Made only with the probes on ({@code -javaagent:aioco-agent.jar=probes} or {@code
 * -Daioco.probes=true}: the suspension's slots are then known) and only on the exception's path;
 * never thrown. An exception shared by many waiters (a failed future awaited by many coroutines:
 * the same unchecked exception reaches them all) carries at most {@link #MAX_PER_EXCEPTION} of
 * them, so that it does not grow without bound: those of the first waiters to resume, so that a
 * waiter beyond them finds other coroutines' sites and not its own. Hence the message says "a
 * coroutine waiting for this exception", never that it is the catcher's. A checked exception
 * reaches each waiter of {@code Coroutine.await} in a {@code CompletionException} of its own, which
 * carries that waiter's site only.
 *
 * <p>Serialized as a plain {@link Throwable} with the same message and stack ({@link
 * #writeReplace()}), so that a peer without aioco can read the exception that carries it.
 *
 * <p>Not API: the runtime makes it. Thread-safe: any thread (the count and the addition are made
 * under the exception's lock, which {@link Throwable#addSuppressed} takes too).
 */
public final class AsyncStackTrace extends Throwable {
    private static final long serialVersionUID = 1L;

    /** How many async stack traces one exception carries at most. */
    public static final int MAX_PER_EXCEPTION = 8;

    private AsyncStackTrace(String message, StackTraceElement[] frames) {
        super(message, null, false, true);
        setStackTrace(frames);
    }

    /**
     * Serialization: a plain {@link Throwable} with this message and stack, so that a peer without
     * aioco (RMI, a message queue) can read the exception this is attached to.
     *
     * @return the replacement written
     */
    private Object writeReplace() {
        Throwable plain = new Throwable(getMessage(), null);
        plain.setStackTrace(getStackTrace());
        return plain;
    }

    /** Not filled: its stack is the coroutine's suspended frames, set by the constructor. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }

    /**
     * Adds to {@code failure} where the coroutine {@code label} was waiting, when the frames saved
     * at its suspension are known; else does nothing. Called on the exception's path only, by the
     * coroutine's thread as it resumes (its saved primitive slots are intact until it suspends
     * again). Never throws.
     *
     * @param failure the exception reaching the coroutine (its own stack is not touched)
     * @param label the coroutine as a dump names it ({@code "name" Coroutine@hex})
     * @param prims the primitive slots saved at the suspension ({@link CoStack#primSlots()}), or null
     * @param primTop how many were saved
     * @param refTop how many reference slots were saved
     * @param <T> the exception's type
     * @return {@code failure}
     */
    public static <T extends Throwable> T attach(T failure, String label, long[] prims, int primTop, int refTop) {
        if (failure == null || prims == null || primTop <= 0 || failure instanceof AsyncStackTrace) {
            return failure;
        }
        try {
            if (count(failure) >= MAX_PER_EXCEPTION) {
                return failure; // NOTE: a first look without the lock, which the cap's check below repeats
            }
            StackTraceElement[] frames = CoTables.elements(prims, primTop, refTop);
            if (frames.length > 0) {
                AsyncStackTrace trace = new AsyncStackTrace("a coroutine waiting for this exception (coroutine "
                        + label + ") was waiting here", frames);
                // NOTE: count and add under the exception's lock (addSuppressed's own): waiters resumed
                // on two threads at once must not both see 7 and both add
                synchronized (failure) {
                    if (count(failure) < MAX_PER_EXCEPTION) {
                        failure.addSuppressed(trace);
                    }
                }
            }
        } catch (RuntimeException | LinkageError ignored) {
            // NOTE: a diagnostic must never replace the exception it describes
        }
        return failure;
    }

    private static int count(Throwable failure) {
        int n = 0;
        for (Throwable suppressed : failure.getSuppressed()) {
            if (suppressed instanceof AsyncStackTrace) {
                n++;
            }
        }
        return n;
    }
}
