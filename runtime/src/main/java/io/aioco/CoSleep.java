package io.aioco;

import io.aioco.internal.CoStack;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Objects;

/**
 * A sleep that another party can end early: QEMU's {@code QemuCoSleep}. One coroutine at a time
 * sleeps on it ({@link #sleepNs}) until the deadline passes or someone calls {@link #wake()}.
 *
 * <p>Thread-safe: {@code sleepNs} runs in the sleeping coroutine; {@code wake} may be called from
 * any thread, and does nothing when no sleep is in progress (the sleep has not been published yet,
 * or has ended), as {@code qemu_co_sleep_wake}.
 */
public final class CoSleep {
    private static final CoFrame SLEEP = new CoFrame("io.aioco.CoSleep.sleepNs(ClockType, long)", "sleepNs",
            "(Lio/aioco/ClockType;J)V");
    private static final VarHandle SLEEPING;
    private static final VarHandle CLAIMED;

    static {
        try {
            SLEEPING = MethodHandles.lookup().findVarHandle(CoSleep.class, "sleeping", Wait.class);
            CLAIMED = MethodHandles.lookup().findVarHandle(CoSleep.class, "claimed", Wait.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** The sleep in progress (published and not ended), or null (QEMU's {@code to_wake}). */
    @SuppressWarnings("unused") // through SLEEPING
    private volatile Wait sleeping;
    /**
     * The sleep that owns this CoSleep, from the CAS at its entry until it ends (set before it is
     * published, cleared after {@link #sleeping}): at most one sleeper at a time, across threads.
     */
    @SuppressWarnings("unused") // through CLAIMED
    private volatile Wait claimed;

    /** Creates a sleep nobody sleeps on. */
    public CoSleep() {}

    /**
     * Suspends the running coroutine until {@code ns} nanoseconds of {@code type} have passed or
     * {@link #wake()} is called, whichever comes first; both return normally. Maps to {@code
     * qemu_co_sleep_ns_wakeable}. Deterministic on {@link ClockType#VIRTUAL}.
     *
     * <p>A cancellation point: if the coroutine is cancelled ({@link Coroutine#cancel()}) or an
     * enclosing {@link Coroutine#withTimeoutNs} expires while it sleeps, or before, the timer is
     * deleted and this throws {@link java.util.concurrent.CancellationException} (or {@link
     * CoroutineTimeoutException}).
     *
     * @param type the clock
     * @param ns how long to sleep; zero or less sleeps until the context's next poll
     * @throws IllegalStateException outside a coroutine, when another coroutine sleeps on this
     *     already, when the coroutine has no context, or when called from code that is not
     *     instrumented
     */
    @CoroutineFn
    public void sleepNs(ClockType type, long ns) {
        CoStack stack = SLEEP.enter();
        int arrival = SLEEP.arrive(stack, this);
        if (arrival == CoFrame.RESUMED) {
            SLEEP.resume(stack);
            return;
        }
        Objects.requireNonNull(type, "type");
        Coroutine self = CoFrame.coroutine(stack);
        AioContext ctx = Coroutine.requireContext(self, "CoSleep.sleepNs");
        Wait wait = new Wait(self, ctx, type, deadline(type, ns), this);
        // NOTE: claimed at entry, atomically: two sleepers on two threads cannot both get past here
        Wait current = (Wait) CLAIMED.compareAndExchange(this, (Wait) null, wait);
        if (current != null) {
            throw new IllegalStateException(self + " cannot sleep on " + this + " (CoSleep.sleepNs): "
                    + current.coroutine + " sleeps on it already");
        }
        try {
            SLEEP.suspend(stack, arrival, wait);
        } catch (RuntimeException | Error e) {
            CLAIMED.compareAndSet(this, wait, (Wait) null); // no sleep at all (cancelled before it)
            throw e;
        }
    }

    /**
     * Ends the sleep in progress, if any: its coroutine is woken on its own context and its {@code
     * sleepNs} returns normally. Maps to {@code qemu_co_sleep_wake}. Any thread; does nothing when
     * nobody sleeps.
     */
    public void wake() {
        Wait current = sleeping;
        if (current != null) {
            current.wake(); // NOTE: loses to the timer, or to a cancellation, harmlessly
        }
    }

    /** @return the absolute deadline, saturated */
    static long deadline(ClockType type, long ns) {
        long now = type.nowNs();
        long deadline = now + Math.max(0, ns);
        return deadline < now ? Long.MAX_VALUE : deadline;
    }

    @Override
    public String toString() {
        return "CoSleep@" + Integer.toHexString(System.identityHashCode(this));
    }

    /**
     * A sleep (also {@link Coroutine#sleepNs}'s, with no owner): a timer armed after the yield,
     * whose callback wakes the coroutine; deleted when the sleep ends early.
     */
    static final class Wait extends CoWait {
        private final AioContext ctx;
        private final ClockType type;
        private final long deadlineNs;
        /** The CoSleep that may end it early, or null. */
        private final CoSleep owner;
        /** Set by publish() before the timer is armed and before {@code owner.sleeping}. */
        private Timer timer;

        Wait(Coroutine self, AioContext ctx, ClockType type, long deadlineNs, CoSleep owner) {
            super(self);
            this.ctx = ctx;
            this.type = type;
            this.deadlineNs = deadlineNs;
            this.owner = owner;
        }

        @Override
        public CoWait publish() {
            try {
                timer = ctx.newTimer(type, this::wake);
                timer.modNs(deadlineNs);
            } catch (RuntimeException | Error e) {
                if (owner != null) {
                    CLAIMED.compareAndSet(owner, this, (Wait) null); // no sleep: the function throws e
                }
                throw e;
            }
            if (owner != null) {
                owner.sleeping = this; // NOTE: from here on wake() reaches it (volatile: timer is visible)
            }
            return null;
        }

        /** Cancelled: the timer goes, and the CoSleep is free again. Any thread. */
        /** Never published (a refused suspension): the CoSleep it claimed is free again. */
        @Override
        void dropped() {
            if (owner != null) { // NOTE: Coroutine.sleepNs's sleep has no CoSleep to free
                CLAIMED.compareAndSet(owner, this, (Wait) null);
            }
        }

        @Override
        void withdraw() {
            end();
        }

        /** Woken (by the timer or by CoSleep.wake): same cleanup, in the coroutine. */
        @Override
        void resumed() {
            end();
        }

        @Override
        String describe() {
            return owner == null ? "the end of a sleep (Coroutine.sleepNs)" : "the end of a sleep on " + owner;
        }

        @Override
        String describeForDump() {
            long left = deadlineNs - type.nowNs();
            return describe() + ": a timer of " + ctx + " on the " + type + " clock, due at " + deadlineNs + " ns ("
                    + (left <= 0 ? "due now" : "in " + CoroutineDump.duration(left)) + ")";
        }

        private void end() {
            timer.del(); // a no-op after it fired
            if (owner != null) {
                SLEEPING.compareAndSet(owner, this, null);
                CLAIMED.compareAndSet(owner, this, null); // NOTE: after: a new sleeper may claim it now
            }
        }
    }
}
