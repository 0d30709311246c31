package io.aioco.internal.loop;

import io.aioco.AioContext;

/**
 * Per-thread event-loop state: the context a thread belongs to ({@code my_aiocontext} in QEMU's
 * {@code async.c}) and the one it is polling right now. Read by {@code AioContext.current()}.
 */
public final class LoopThreads {
    /** One per thread; only its own thread reads or writes it. */
    public static final class State {
        /** The context this thread runs (an IOThread's, or the main one on the main-loop thread). */
        public AioContext home;
        /** The innermost context this thread is inside {@code poll()} of, else null. */
        public AioContext polling;
    }

    private static final ThreadLocal<State> STATE = ThreadLocal.withInitial(State::new);

    private LoopThreads() {}

    /** Called from any thread, about itself. */
    public static State state() {
        return STATE.get();
    }

    /** Called from any thread, about itself: the context {@code AioContext.current()} answers. */
    public static AioContext current() {
        State state = STATE.get();
        return state.home != null ? state.home : state.polling;
    }
}
