package io.aioco;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;

/**
 * The coroutines scheduled to run in one context ({@code aio_co_schedule}) and not yet entered:
 * QEMU's {@code ctx->scheduled_coroutines} with its {@code co_schedule_bh} ({@code util/async.c}).
 *
 * <p><b>Threads.</b> {@link #push} is called from any thread: a Treiber stack through {@code
 * Coroutine.scheduledNext}, newest first, then the bottom half is scheduled (which wakes the
 * loop). The bottom half runs on the loop thread: it takes the whole stack (getAndSet), turns it
 * oldest first and enters each coroutine.
 */
final class ScheduledCoroutines {
    private static final VarHandle HEAD;

    static {
        try {
            HEAD = MethodHandles.lookup().findVarHandle(ScheduledCoroutines.class, "head", Coroutine.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final AioContext ctx;

    /** Pushed by any thread (CAS), taken whole by the bottom half (getAndSet). */
    @SuppressWarnings("unused") // accessed through HEAD
    private volatile Coroutine head;

    /** Taken from the stack, oldest first, not yet entered (one threw). Loop thread only. */
    private final ArrayDeque<Coroutine> toRun = new ArrayDeque<>();

    /** Runs the scheduled coroutines (QEMU's {@code co_schedule_bh}). */
    private final BottomHalf bh;

    ScheduledCoroutines(AioContext ctx) {
        this.ctx = ctx;
        this.bh = new BottomHalf(ctx, new Runnable() {
            @Override
            public void run() {
                runAll();
            }

            @Override
            public String toString() {
                return "co_schedule_bh";
            }
        }, 0);
    }

    /** Called from any thread: pushes a coroutine and wakes the loop through the bottom half. */
    void push(Coroutine co) {
        Coroutine old;
        do {
            old = head;
            co.scheduledNext = old; // NOTE: published by the CAS below (release)
        } while (!HEAD.compareAndSet(this, old, co));
        if (!ctx.isClosed()) {
            bh.schedule();
        }
    }

    /**
     * Called from any thread, for coroutine dumps: the coroutines scheduled and not yet entered,
     * read racily; never throws.
     */
    java.util.List<Coroutine> snapshot() {
        java.util.List<Coroutine> out = new java.util.ArrayList<>();
        try {
            for (Object co : toRun.toArray()) {
                if (co != null) { // NOTE: a racy copy of the loop's deque may hold slots it just emptied
                    out.add((Coroutine) co);
                }
            }
        } catch (RuntimeException racing) {
            // NOTE: the loop changed the deque meanwhile: the dump shows what it could read
        }
        for (Coroutine co = (Coroutine) HEAD.getAcquire(this); co != null && out.size() < 1_000_000; ) {
            out.add(co);
            co = co.scheduledNextForDump();
        }
        return out;
    }

    /** The bottom half. Loop thread only. */
    private void runAll() {
        assert ctx.inLoopThread() : Thread.currentThread() + " runs the scheduled coroutines of " + ctx;
        Coroutine newest = (Coroutine) HEAD.getAndSet(this, (Coroutine) null);
        if (newest != null) {
            ArrayDeque<Coroutine> batch = new ArrayDeque<>();
            for (Coroutine co = newest; co != null; ) {
                Coroutine next = co.scheduledNext;
                co.scheduledNext = null;
                batch.addFirst(co); // oldest first
                co = next;
            }
            toRun.addAll(batch);
        }
        Coroutine co;
        while ((co = toRun.poll()) != null) {
            co.clearScheduled();
            try {
                ctx.beforeCoroutine(co);
                co.enter(ctx);
                ctx.afterCallback(); // each coroutine counts as a callback (stray interrupts)
            } catch (RuntimeException | Error e) {
                if (!toRun.isEmpty()) {
                    bh.schedule(); // the rest stays pending for the next poll
                }
                throw e;
            }
        }
    }
}
