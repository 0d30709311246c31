package io.aioco;

import io.aioco.internal.CoStack;
import io.aioco.internal.loop.PollHooks;
import java.util.Objects;

/**
 * A named thread that runs its own {@link AioContext} until closed: QEMU's {@code iothread.c}.
 * Inside the thread, {@link AioContext#current()} is that context.
 *
 * <p>The thread polls its context, blocking, in a loop. An exception thrown by a callback is logged
 * (logger {@code io.aioco}, WARNING) naming the callback and the context, and goes to the thread's
 * uncaught-exception handler; the rest of that poll (other handlers, bottom halves, timers) runs
 * and the loop goes on. A callback that throws at every poll is still called at every poll (as QEMU
 * would), but only its 1st, 10th, 100th, ... failure is reported, with the count (see {@link
 * AioContext}, "Errors"). Adaptive polling starts with QEMU's
 * IOThread defaults (up to 32 µs); change it with {@link AioContext#setPollParams}. The thread
 * holds its context's polling claim from start to end, between polls too (as in QEMU, only the
 * IOThread runs {@code aio_poll} on its context): another thread that polls or closes the context
 * meanwhile gets an {@link IllegalStateException}.
 *
 * <p><b>Interrupts.</b> QEMU has no thread interruption, and nothing in aioco interrupts an
 * IOThread ({@link #close()} wakes it with a notification). An interrupt status left on the thread,
 * usually by a callback that restores it ({@code catch (InterruptedException e) {
 * Thread.currentThread().interrupt(); }}), would make every later wait return at once, a busy loop
 * for ever, and would close the NIO channels the next callback of the same poll uses ({@code
 * ClosedByInterruptException}); so the thread clears it as soon as the callback that left it
 * returns (and after each poll, for one that came from elsewhere), and logs the first one (logger
 * {@code io.aioco}, level WARNING) naming the thread.
 *
 * <p>{@link #start(String)}, {@link #context()} and {@link #close()} may be called from any thread.
 */
public final class IOThread implements AutoCloseable {
    /** QEMU's IOTHREAD_POLL_MAX_NS_DEFAULT. */
    static final long DEFAULT_POLL_MAX_NS = 32_768;

    private final AioContext ctx;
    private final Thread thread;
    private volatile boolean stopping;
    /** Whether a stray interrupt was logged already. IOThread only. */
    private boolean interruptLogged;

    private IOThread(String name) {
        this.ctx = AioContext.create(name);
        this.ctx.setPollParams(DEFAULT_POLL_MAX_NS, 0, 0);
        this.thread = new Thread(this::run, name);
    }

    /**
     * Creates the thread and its context and starts it ({@code iothread_create} + start).
     *
     * @param name the thread's name, also the context's
     */
    public static IOThread start(String name) {
        Objects.requireNonNull(name, "name");
        IOThread io = new IOThread(name);
        io.thread.start();
        return io;
    }

    /** The context this thread runs ({@code iothread_get_aio_context}). */
    public AioContext context() {
        return ctx;
    }

    /** The thread itself (for joining, naming, uncaught-exception handlers). */
    public Thread thread() {
        return thread;
    }

    /** Runs on the IOThread (iothread_run). */
    private void run() {
        CoStack.carrier().home = ctx;
        ctx.loopCarrier = CoStack.carrier(); // NOTE: for dumps: found whatever slot of the carrier cache it has
        // Held across polls: each poll is then nested in the claim (no compare-and-set per poll).
        boolean claimed = ctx.claimForLoop();
        if (claimed) {
            ctx.enterLoop(); // NOTE: the per-poll bookkeeping of an outermost poll, done once
        }
        try {
            while (!stopping) {
                try {
                    if (claimed) {
                        ctx.loopPoll();
                    } else {
                        ctx.poll(true, PollHooks.NONE, true); // as a loop: callbacks' failures are reported, not thrown
                    }
                } catch (Throwable t) {
                    if (ctx.isClosed()) {
                        break;
                    }
                    Thread self = Thread.currentThread();
                    self.getUncaughtExceptionHandler().uncaughtException(self, t);
                }
                if (Thread.interrupted()) {
                    strayInterrupt();
                }
            }
        } finally {
            if (claimed) {
                ctx.leaveLoop();
                ctx.releaseLoopClaim();
            }
            CoStack.carrier().home = null;
        }
    }

    /** Runs on the IOThread, which has just cleared an interrupt status: logs the first one. */
    private void strayInterrupt() {
        if (!interruptLogged) {
            interruptLogged = true;
            LoopLog.strayInterrupt(this);
        }
    }

    /**
     * Stops the thread after the poll iteration in progress, waits for it to end, and closes its
     * context (dropping pending work). Nothing is called back in the context after this returns.
     * Called from any thread; from the IOThread itself (inside a callback) it closes the context at
     * once and the thread ends when the callback returns. Idempotent. If the calling thread is
     * interrupted while waiting, it goes on waiting and keeps its interrupt status.
     */
    @Override
    public void close() {
        stopping = true;
        if (Thread.currentThread() == thread) {
            ctx.close();
            return;
        }
        ctx.notifyEvent();
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        ctx.close();
    }

    @Override
    public String toString() {
        return "IOThread[" + thread.getName() + "]";
    }
}
