package io.aioco;

import io.aioco.internal.loop.TimerQueue;

/**
 * A one-shot timer of an {@link AioContext}: QEMU's {@code QEMUTimer}, created by {@link
 * AioContext#newTimer(ClockType, Runnable)} with nanosecond scale. Its callback runs on the
 * context's thread once the timer's clock reaches the deadline, never before; timers of one clock
 * fire in deadline order (equal deadlines in arming order). A timer fires once per arming; its
 * callback may re-arm it.
 *
 * <p>All methods may be called from any thread. On a closed context {@link #modNs(long)} throws;
 * the others keep answering (a closed context's timers are not pending).
 */
public final class Timer {
    private final AioContext ctx;
    private final ClockType type;
    final TimerQueue.Entry entry;

    Timer(AioContext ctx, ClockType type, Runnable cb) {
        this.ctx = ctx;
        this.type = type;
        this.entry = new TimerQueue.Entry(type.ordinal(), cb);
    }

    /**
     * Arms (or re-arms) the timer for the absolute time {@code expireTimeNs} on its clock: {@code
     * timer_mod_ns}. A deadline already past fires at the context's next poll. Wakes the context if
     * this timer is now its earliest.
     *
     * @throws IllegalStateException if the context is closed
     */
    public void modNs(long expireTimeNs) {
        ctx.timerMod(this, expireTimeNs);
    }

    /** Disarms the timer if armed ({@code timer_del}); a callback already running is not stopped. */
    public void del() {
        ctx.timerDel(this);
    }

    /** Whether the timer is armed and has not fired yet ({@code timer_pending}). */
    public boolean isPending() {
        return entry.isQueued();
    }

    /** The deadline while pending, else -1 ({@code timer_expire_time_ns}). */
    public long expireTimeNs() {
        long expire = entry.expireNs();
        return entry.isQueued() ? expire : -1;
    }

    /** The clock this timer runs on. */
    public ClockType clockType() {
        return type;
    }

    @Override
    public String toString() {
        return "Timer[" + type + ", " + entry.callback() + " in " + ctx + "]";
    }
}
