/**
 * Internals of aioco's event loop (not API): the pieces {@link io.aioco.AioContext} is built from.
 *
 * <p>{@link io.aioco.internal.loop.TimerQueue} is QEMU's {@code QEMUTimerList}, {@link
 * io.aioco.internal.loop.VirtualClock} the state behind {@code QEMU_CLOCK_VIRTUAL}, {@link
 * io.aioco.internal.loop.FdTable} the {@code AioHandler} list with its fd monitor (an NIO {@code
 * Selector} instead of epoll), {@link io.aioco.internal.loop.Poller} the waiting and waking of
 * {@code aio-posix.c} (the wait of a blocking {@code aio_poll}: busy poll, announce, block; kick),
 * {@link io.aioco.internal.loop.AdaptivePolling} its poll-time bookkeeping, and {@link
 * io.aioco.internal.loop.PollHooks} what the main loop adds to a wait of its main context.
 *
 * <p>This package imports nothing from {@code io.aioco} ({@link io.aioco.internal.loop.Clocks}
 * reads the clocks by {@code ClockType}'s ordinals): the dependency runs from the API to here.
 */
package io.aioco.internal.loop;
