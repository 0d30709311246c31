/**
 * Internals of aioco's event loop (not API): the pieces {@link io.aioco.AioContext} is built from.
 *
 * <p>{@link io.aioco.internal.loop.TimerQueue} is QEMU's {@code QEMUTimerList}, {@link
 * io.aioco.internal.loop.VirtualClock} the state behind {@code QEMU_CLOCK_VIRTUAL}, {@link
 * io.aioco.internal.loop.FdTable} the {@code AioHandler} list with its fd monitor (an NIO {@code
 * Selector} instead of epoll), {@link io.aioco.internal.loop.AdaptivePolling} the poll-time
 * bookkeeping of {@code aio-posix.c}, and {@link io.aioco.internal.loop.LoopThreads} the
 * per-thread state behind {@code qemu_get_current_aio_context}.
 */
package io.aioco.internal.loop;
