package io.aioco;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

/**
 * A level-triggered, thread-safe flag that wakes an event loop: QEMU's {@code EventNotifier} (an
 * eventfd), kept in memory here. {@link #set()} raises it from any thread; a handler installed with
 * {@link AioContext#setEventNotifier} or {@link MainLoop#setEventNotifierHandler} then runs on that
 * context's thread at each poll for as long as the flag stays up, so the handler normally starts
 * with {@link #testAndClear()}. Setting it again while it is up changes nothing, as writing to an
 * eventfd that is already readable.
 *
 * <p>A notifier has a handler in at most one context at a time. Setting a closed notifier, or
 * testing it, throws {@link IllegalStateException} naming it.
 */
public final class EventNotifier implements AutoCloseable {
    /** The flag is up (the eventfd is readable). */
    private static final int SET = 1;
    /** close() was called. Never cleared. */
    private static final int CLOSED = 2;

    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(EventNotifier.class, "state", int.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;

    /** The handler and the context it runs in; changed under this object's monitor. */
    private volatile Registration registration;

    /** A handler in one context: dispatched by an internal bottom half of that context. */
    private final class Registration implements BottomHalf.Conditional {
        final AioContext ctx;
        volatile Consumer<EventNotifier> handler;
        final BottomHalf bh;

        Registration(AioContext ctx, Consumer<EventNotifier> handler) {
            this.ctx = ctx;
            this.handler = handler;
            this.bh = new BottomHalf(ctx, this);
        }

        /** Called from the context's loop thread, by the bottom half. */
        @Override
        public boolean runIfReady() {
            assert ctx.inLoopThread() : Thread.currentThread() + " runs " + this + " outside the loop of " + ctx;
            if (registration != this || ((int) STATE.getVolatile(EventNotifier.this) & SET) == 0) {
                return false;
            }
            try {
                handler.accept(EventNotifier.this);
                return true;
            } finally {
                // Level-triggered: still set (the handler did not clear it, or it was set again),
                // so run again at the next poll, which therefore does not block.
                if (registration == this && ((int) STATE.getVolatile(EventNotifier.this) & SET) != 0) {
                    bh.enqueue(BottomHalf.SCHEDULED, false);
                }
            }
        }

        @Override
        public String toString() {
            return "handler of " + EventNotifier.this;
        }
    }

    /** Creates a notifier, not set ({@code event_notifier_init(e, false)}). */
    public EventNotifier() {}

    /**
     * Raises the flag ({@code event_notifier_set}) and, if it was down, wakes the context that has a
     * handler for it. Called from any thread; wait-free, no system call unless that context is
     * blocked.
     *
     * @throws IllegalStateException if the notifier is closed
     */
    public void set() {
        // Pairs with the registration write then state read in setHandler: one of the two sides
        // sees the other, so a handler installed concurrently with set() is not missed.
        int old = (int) STATE.getAndBitwiseOr(this, SET);
        if ((old & CLOSED) != 0) {
            throw new IllegalStateException(this + " set after close()");
        }
        if ((old & SET) == 0) {
            Registration r = registration;
            if (r != null) {
                r.bh.enqueue(BottomHalf.SCHEDULED, false);
            }
        }
    }

    /**
     * Lowers the flag and says whether it was up ({@code event_notifier_test_and_clear}). Called
     * from any thread, usually the handler.
     *
     * @throws IllegalStateException if the notifier is closed
     */
    public boolean testAndClear() {
        int old = (int) STATE.getAndBitwiseAnd(this, ~SET);
        if ((old & CLOSED) != 0) {
            throw new IllegalStateException(this + " tested after close()");
        }
        return (old & SET) != 0;
    }

    /**
     * Closes the notifier ({@code event_notifier_cleanup}), removing its handler if it has one.
     * Called from any thread; idempotent.
     */
    @Override
    public void close() {
        STATE.getAndBitwiseOr(this, CLOSED);
        synchronized (this) {
            Registration r = registration;
            registration = null;
            if (r != null) {
                r.bh.delete();
            }
        }
    }

    /** Called from any thread, by AioContext.setEventNotifier and the main loop. */
    void setHandler(AioContext ctx, Consumer<EventNotifier> handler) {
        Registration r;
        synchronized (this) {
            r = registration;
            if (handler == null) {
                if (r != null && r.ctx == ctx) {
                    registration = null;
                    r.bh.delete();
                }
                return;
            }
            if (((int) STATE.getVolatile(this) & CLOSED) != 0) {
                throw new IllegalStateException(this + " is closed; cannot give it a handler in " + ctx);
            }
            if (r != null && r.ctx != ctx && !r.ctx.isClosed()) {
                throw new IllegalStateException(this + " already has a handler in " + r.ctx
                        + "; remove it there before adding one in " + ctx);
            }
            if (r != null && r.ctx == ctx) {
                r.handler = handler;
            } else {
                if (r != null) {
                    r.bh.delete();
                }
                r = new Registration(ctx, handler);
                registration = r;
            }
        }
        if (((int) STATE.getVolatile(this) & SET) != 0) {
            r.bh.enqueue(BottomHalf.SCHEDULED, false);
        }
    }

    @Override
    public String toString() {
        return "EventNotifier@" + Integer.toHexString(System.identityHashCode(this));
    }
}
