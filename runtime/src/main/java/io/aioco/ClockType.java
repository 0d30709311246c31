package io.aioco;

import io.aioco.internal.loop.Clocks;
import io.aioco.internal.loop.VirtualClock;

/**
 * The clocks a {@link Timer} can run on: QEMU's {@code QEMUClockType}. Every reading is in
 * nanoseconds.
 *
 * <p>All methods may be called from any thread.
 */
public enum ClockType {
    /**
     * A monotonic clock ({@code QEMU_CLOCK_REALTIME}), {@link System#nanoTime()}: it keeps running
     * whatever happens, never jumps, and its origin is arbitrary (readings may be negative).
     */
    REALTIME,
    /**
     * A clock that can be paused and moved by hand ({@code QEMU_CLOCK_VIRTUAL}), for tests and
     * simulation. It starts at 0, runs at the rate of {@link #REALTIME} until {@link
     * #pauseVirtual()}, and while paused moves only by {@link #advanceVirtualNs(long)}. It is one
     * clock for the whole JVM.
     */
    VIRTUAL,
    /**
     * The wall clock ({@code QEMU_CLOCK_HOST}): nanoseconds since the Unix epoch. It follows changes
     * of the system time; waits for a HOST timer are measured on the monotonic clock, so a jump of
     * the system time shifts when the timer fires.
     */
    HOST;

    /**
     * The current time of this clock in nanoseconds: {@code qemu_clock_get_ns}.
     *
     * @return the reading; only differences of REALTIME readings are meaningful
     */
    public long nowNs() {
        return Clocks.nowNs(ordinal()); // NOTE: the ordinals are Clocks' indexes (TimerTest checks)
    }

    /**
     * Stops the VIRTUAL clock ({@code qemu_clock_enable(QEMU_CLOCK_VIRTUAL, false)}, or icount's
     * frozen time): from now on it moves only by {@link #advanceVirtualNs(long)}. Idempotent.
     * Contexts waiting for a VIRTUAL timer stop waiting for it until the clock moves.
     */
    public static void pauseVirtual() {
        VirtualClock.pause();
    }

    /** Lets the VIRTUAL clock run again from where it stands. Idempotent. */
    public static void resumeVirtual() {
        VirtualClock.resume();
    }

    /**
     * Moves the VIRTUAL clock forward by {@code ns} (paused or not) and wakes every AioContext that
     * has a VIRTUAL timer due as a result; the timers then fire on their contexts' threads. On
     * return the clock has moved, but the timers may not have run yet.
     *
     * @throws IllegalArgumentException if {@code ns} is negative
     */
    public static void advanceVirtualNs(long ns) {
        VirtualClock.advance(ns);
    }

    /** Whether the VIRTUAL clock is paused. */
    public static boolean isVirtualPaused() {
        return VirtualClock.isPaused();
    }
}
