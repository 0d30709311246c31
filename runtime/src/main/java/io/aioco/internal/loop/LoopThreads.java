package io.aioco.internal.loop;

import io.aioco.AioContext;
import io.aioco.internal.CoStack;

/**
 * Per-thread event-loop state: the context a thread belongs to ({@code my_aiocontext} in QEMU's
 * {@code async.c}) and the one it is polling right now. Read by {@code AioContext.current()}. It
 * lives in the thread's {@link CoStack.Carrier}, next to the coroutine the thread runs, so that
 * one cheap per-thread lookup serves both.
 */
public final class LoopThreads {
    /** The per-thread state: a thread's carrier. Only its own thread reads or writes it. */

    private LoopThreads() {}

    /** Called from any thread, about itself. */
    public static CoStack.Carrier state() {
        return CoStack.carrier();
    }

    /** Called from any thread, about itself: the context {@code AioContext.current()} answers. */
    public static AioContext current() {
        return CoStack.carrier().context();
    }
}
