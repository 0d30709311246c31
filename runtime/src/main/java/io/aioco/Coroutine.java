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
 * the outer one. A coroutine runs on whichever thread enters it, one thread at a time.
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
    /**
     * Link in whichever single list holds this coroutine: a CoQueue's or CoMutex's waiters, or
     * another coroutine's wake-up list (QEMU's {@code co_queue_next}).
     */
    Coroutine next;
    /** Coroutines this one woke while running, entered after it yields or terminates (co_queue_wakeup). */
    private Coroutine wakeupHead;
    private Coroutine wakeupTail;
    /** In some coroutine's wake-up list: waking it again before it runs is a bug. */
    private boolean wakeupPending;

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
     * Runs the coroutine on the calling thread until it yields or terminates, then the coroutines
     * it woke meanwhile (depth first, in wake order). Maps to {@code qemu_coroutine_enter}.
     *
     * @throws IllegalStateException if the coroutine is already entered (running, or on the stack of
     *     the running coroutine) or has terminated
     * @throws CoroutineException wrapping a checked exception that escaped the entry; unchecked
     *     exceptions and errors escaping it are rethrown as they are
     */
    public void enter() {
        checkEnterable();
        Throwable failure = runOnce();
        if (wakeupHead != null) {
            failure = runWakeups(this, failure);
        }
        if (failure != null) {
            rethrow(failure);
        }
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

    private void checkEnterable() {
        if (state == ENTERED) {
            throw new IllegalStateException("cannot enter " + this + ": it is already entered"
                    + " (running, or on the stack of the running coroutine)");
        }
        if (state == TERMINATED) {
            throw new IllegalStateException("cannot enter " + this + ": it has terminated");
        }
    }

    /** Runs until the next yield or the end; returns what escaped the entry, if anything. */
    private Throwable runOnce() {
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
            return null;
        }
        state = TERMINATED;
        stack.clear();
        return failure;
    }

    /**
     * Enters the coroutines woken by {@code first} and, depth first, those they wake in turn, with
     * an explicit list instead of recursion (a long chain of hand-offs must not grow the Java
     * stack). Failures are collected: the first is rethrown, the others added to it as suppressed,
     * and every pending coroutine still runs.
     */
    private static Throwable runWakeups(Coroutine first, Throwable failure) {
        Coroutine pendingHead = first.wakeupHead;
        first.wakeupHead = null;
        first.wakeupTail = null;
        while (pendingHead != null) {
            Coroutine to = pendingHead;
            pendingHead = to.next;
            to.next = null;
            to.wakeupPending = false;
            Throwable thrown = null;
            if (to.state == ENTERED || to.state == TERMINATED) {
                thrown = new IllegalStateException("cannot run woken " + to + ": it is "
                        + (to.state == ENTERED ? "already entered" : "terminated"));
            } else {
                thrown = to.runOnce();
            }
            if (thrown != null) {
                if (failure == null) {
                    failure = thrown;
                } else if (failure != thrown) {
                    failure.addSuppressed(thrown);
                }
            }
            if (to.wakeupHead != null) { // depth first: what `to` woke runs before the rest
                to.wakeupTail.next = pendingHead;
                pendingHead = to.wakeupHead;
                to.wakeupHead = null;
                to.wakeupTail = null;
            }
        }
        return failure;
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
     * Wakes this coroutine: if the caller runs in a coroutine, this one is entered after the caller
     * yields or terminates (QEMU's {@code co_queue_wakeup}), in wake order, never nested inside the
     * caller; outside any coroutine it is entered at once on the calling thread. Maps to
     * {@code aio_co_wake}.
     *
     * @throws IllegalStateException if this coroutine has terminated
     */
    public void wake() {
        if (state == TERMINATED) {
            throw new IllegalStateException("cannot wake " + this + ": it has terminated");
        }
        CoStack current = CoStack.current();
        if (current == null) {
            enter();
            return;
        }
        current.coroutine().queueWakeup(this);
    }

    private void queueWakeup(Coroutine woken) {
        if (woken.wakeupPending) {
            throw new IllegalStateException("cannot wake " + woken + ": it was woken already and has not run yet");
        }
        woken.wakeupPending = true;
        if (wakeupTail == null) {
            wakeupHead = woken;
        } else {
            wakeupTail.next = woken;
        }
        wakeupTail = woken;
    }

    /**
     * Suspends the running coroutine: control returns to whoever last entered it, and this call
     * returns when the coroutine is entered again. Maps to {@code qemu_coroutine_yield}.
     *
     * <p>This is the primitive suspension point that every other one reduces to. Instrumented code
     * does not even call it: the instrumenter suspends the frame in place. Called from code that is
     * not instrumented, it follows the protocol of {@link CoStack} by hand.
     *
     * @throws IllegalStateException outside a coroutine, or when the calling method is not
     *     instrumented (so the suspension could not be resumed)
     */
    @CoroutineFn
    public static void yield() {
        CoStack stack = CoStack.enter("io.aioco.Coroutine.yield()");
        switch (stack.arrive(YIELD_TOKEN)) {
            case CoStack.CALLED -> stack.suspend();
            case CoStack.RESUMED -> { }
            default -> throw stack.crossedUninstrumented("io.aioco.Coroutine.yield()");
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
