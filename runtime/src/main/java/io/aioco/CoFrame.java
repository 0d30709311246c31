package io.aioco;

import io.aioco.internal.CoStack;

/**
 * The frame protocol of the runtime's hand-written coroutine functions, written once. Internal.
 *
 * <p>The runtime is not instrumented, so each of its {@link CoroutineFn} methods follows the
 * protocol of {@link CoStack} by hand; this class is the only place that does (a test reads the
 * runtime's class files and checks that every coroutine function calls it and nothing else of the
 * protocol). A function has one {@code CoFrame} (its name and token) and reads:
 * <pre>{@code
 * CoStack stack = FRAME.enter();
 * int arrival = FRAME.arrive(stack, this);            // Owner.class for a static function
 * if (arrival == CoFrame.RESUMED) {
 *     SomeWait wait = (SomeWait) FRAME.resume(stack);  // null: not woken yet, still suspended
 *     return wait == null ? dummy : wait.result();
 * }
 * ... check the arguments, take the fast path if there is one ...
 * FRAME.suspend(stack, arrival, new SomeWait(...));    // the wake-up is published after the yield
 * return dummy;
 * }</pre>
 * The saved frame of every runtime function is exactly its {@link CoWait}.
 *
 * <p>Thread confinement: every method runs on the thread that runs the calling coroutine, inside
 * it.
 */
final class CoFrame {
    /** {@link #arrive}: called by instrumented code, which saves itself if this function suspends. */
    static final int CALLED = CoStack.CALLED;
    /** {@link #arrive}: called again to resume the wait this function suspended on. */
    static final int RESUMED = CoStack.RESUMED;
    /** {@link #arrive}: called by code that is not instrumented; the function must not suspend. */
    static final int FOREIGN = CoStack.FOREIGN;

    /** The function as {@code Owner.name(Params)}, for error messages. */
    private final String method;
    /** Its token ({@link CoStack#token}). */
    private final int token;

    /**
     * @param method readable name, {@code io.aioco.Owner.name(Params)}
     * @param name the method's name
     * @param descriptor the method's descriptor
     */
    CoFrame(String method, String name, String descriptor) {
        this.method = method;
        this.token = CoStack.token(name, descriptor);
    }

    /**
     * Prologue: the running coroutine's stack.
     *
     * @throws IllegalStateException outside a coroutine
     */
    CoStack enter() {
        return CoStack.enter(method);
    }

    /**
     * Reads and clears the caller's signal.
     *
     * @param self the function's receiver, or its class for a static function: the caller must
     *     have armed the call for exactly this receiver ({@link CoStack#arrive(int, Object)})
     * @return {@link #CALLED}, {@link #RESUMED} or {@link #FOREIGN}
     */
    int arrive(CoStack stack, Object self) {
        return stack.arrive(token, self);
    }

    /** @return the coroutine that owns {@code stack} (the running one) */
    static Coroutine coroutine(CoStack stack) {
        return (Coroutine) stack.coroutine();
    }

    /**
     * Suspends the running coroutine on {@code wait}: saves it as the function's frame and has the
     * coroutine publish it once it has yielded ({@link CoWait#publish()}). The function then returns
     * a dummy value at once.
     *
     * @param arrival what {@link #arrive} returned (a function may suspend again after a resume)
     * @throws IllegalStateException when the caller is not instrumented (the suspension could not
     *     be resumed), or when the coroutine scheduled itself elsewhere and has not yielded since;
     *     nothing is published then
     */
    void suspend(CoStack stack, int arrival, CoWait wait) {
        if (arrival == FOREIGN) {
            throw stack.crossedUninstrumented(method);
        }
        assert wait.coroutine == stack.coroutine() : wait + " does not belong to " + stack.coroutine();
        RuntimeException cancellation = wait.coroutine.cancellationBeforeWait(wait);
        if (cancellation != null) {
            throw cancellation; // cancelled, or an enclosing timeout expired: no wait at all
        }
        wait.coroutine.afterYield(wait); // then: it may throw, and nothing is saved then
        wait.coroutine.setCurrentWait(wait);
        stack.pushRef(wait);
        stack.suspend();
    }

    /**
     * Suspends the running coroutine with no wait of its own ({@link Coroutine#yield()}): whoever
     * enters it next resumes it, so there is nothing to publish.
     *
     * @throws IllegalStateException when the caller is not instrumented
     */
    void yieldPlain(CoStack stack, int arrival) {
        if (arrival == FOREIGN) {
            throw stack.crossedUninstrumented(method);
        }
        stack.suspend();
    }

    /**
     * Resumes the function: the wait it suspended on, if that has completed (its {@link
     * CoWait#resumed()} hook has run); else the coroutine was entered by someone else first, and it
     * keeps waiting (suspended again, nothing published twice).
     *
     * @return the completed wait, or null when the function must return a dummy value
     * @throws RuntimeException what the wait's publication threw (its coroutine goes on with it);
     *     the {@link java.util.concurrent.CancellationException} of a cancelled wait; the
     *     exception an uncancellable wait carries ({@link CoWait#thenThrow})
     */
    CoWait resume(CoStack stack) {
        CoWait wait = resumeEnded(stack);
        if (wait != null) {
            RuntimeException cancellation = wait.cancellation();
            if (cancellation != null) {
                throw cancellation;
            }
        }
        return wait;
    }

    /**
     * As {@link #resume}, but a cancelled wait is returned rather than thrown (its {@link
     * CoWait#cancellation()} says why): for a function that must do more before throwing (take a
     * lock back).
     */
    CoWait resumeEnded(CoStack stack) {
        Object saved = stack.popRef();
        if (!(saved instanceof CoWait wait)) {
            throw stack.corrupt(method);
        }
        if (!wait.isDone()) {
            stack.pushRef(wait);
            stack.suspend();
            return null;
        }
        Throwable failure = wait.publishFailure();
        if (failure != null) {
            CoroutineDump.waitedHere(failure, wait.coroutine); // where it waited, added
        }
        if (failure instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (failure instanceof Error error) {
            throw error;
        }
        if (wait.isCancelled()) {
            CoroutineDump.waitedHere(wait.cancellation(), wait.coroutine); // where it waited, added
        } else {
            wait.resumed();
            if (wait.thenThrow != null) {
                throw wait.thenThrow; // NOTE: a cancellation that already says where it waited
            }
        }
        return wait;
    }

    /** @return the token of a callee ({@link CoStack#token}), for a function that forwards a call */
    static int token(String name, String descriptor) {
        return CoStack.token(name, descriptor);
    }

    /**
     * For a function that calls a coroutine body (withTimeoutNs): pops the frame it saved when the
     * body suspended.
     */
    Object popFrame(CoStack stack) {
        Object saved = stack.popRef();
        if (saved == null) {
            throw stack.corrupt(method);
        }
        return saved;
    }

    /**
     * Arms the call to the callee with {@code calleeToken}, for exactly {@code callee} (its name and
     * descriptor, an interned constant) on {@code target} (main's exact call protocol, as {@link
     * CoStack#arm}): called, or resumed. When this function was itself called from code that is
     * not instrumented, the callee is armed as called all the same, as woven code arms its callees:
     * if it suspends, this function refuses ({@link #calleeSuspended}), so the error names this
     * function and its caller, the user's frame, not the callee and the proxy this function called
     * it through.
     */
    void callNext(CoStack stack, int arrival, int calleeToken, String callee, Object target) {
        stack.arm(arrival == RESUMED ? calleeToken | CoStack.RESUME : calleeToken, callee, target);
    }

    /** The callee threw: no suspension is in progress. */
    void calleeThrew(CoStack stack) {
        stack.signal = 0;
    }

    /**
     * After the callee returned: if it suspended, saves {@code frame} (this function's state, popped
     * by {@link #popFrame} on resume) and leaves the suspension signal for the caller.
     *
     * @param arrival what {@link #arrive} returned
     * @return true if the callee suspended (the function must return a dummy value)
     * @throws IllegalStateException when the callee suspended and this function's caller is not
     *     instrumented (the suspension could not be resumed); the saved frames are dropped
     */
    boolean calleeSuspended(CoStack stack, int arrival, Object frame) {
        if (stack.signal == CoStack.SUSPEND) {
            if (arrival == FOREIGN) {
                throw stack.crossedUninstrumented(method);
            }
            stack.pushRef(frame);
            return true;
        }
        stack.signal = 0;
        return false;
    }
}
