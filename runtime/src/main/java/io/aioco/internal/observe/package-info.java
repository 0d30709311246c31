/**
 * Internals of aioco's observability (not API): the loop stall detector ({@link
 * io.aioco.internal.observe.LoopProbe}, {@link io.aioco.internal.observe.StallWatcher}) and the JDK
 * Flight Recorder events of category "aioco" ({@link io.aioco.internal.observe.Jfr}). QEMU has no
 * counterpart: its closest are the {@code trace-events} of {@code util/async.c} and {@code
 * util/aio-posix.c}.
 *
 * <p>This package imports nothing from {@code io.aioco}: the runtime hands it what it needs (a
 * probe per context, a sink for stall reports, a hook that emits the context counts).
 */
package io.aioco.internal.observe;
