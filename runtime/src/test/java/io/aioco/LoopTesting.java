package io.aioco;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/** Helpers shared by the event-loop tests. */
final class LoopTesting {
    private LoopTesting() {}

    /** Polls without blocking until nothing more happens; returns how many polls made progress. */
    static int drain(AioContext ctx) {
        int n = 0;
        while (ctx.poll(false)) {
            n++;
        }
        return n;
    }

    /** Spins (yielding) until {@code t} is parked or waiting: the loop is blocked, not just slow. */
    static void awaitParked(Thread t) {
        for (;;) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.TERMINATED) {
                return;
            }
            Thread.yield();
        }
    }

    /**
     * Spins (yielding) until {@code t} is blocked in a loop's wait: parked, or inside the selector's
     * native wait (a thread in {@code select} is RUNNABLE, in native code, once the selector has
     * applied its cancelled keys). A thread found there has
     * announced its wait: whatever another thread changes now must wake it.
     */
    static void awaitBlocked(Thread t) {
        for (;;) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING || s == Thread.State.TERMINATED) {
                return;
            }
            StackTraceElement[] stack = t.getStackTrace();
            // NOTE: in the selector's native wait, not merely inside FdTable.select: the selector
            // applies the cancelled keys' deregistration first, between the two
            if (stack.length > 0 && stack[0].isNativeMethod()) {
                for (StackTraceElement frame : stack) {
                    if (frame.getClassName().equals("io.aioco.internal.loop.FdTable") && frame.getMethodName().equals("select")) {
                        return;
                    }
                }
            }
            Thread.yield();
        }
    }

    /** Runs {@code body} on a fresh thread (whose current() is not the main loop's) and returns its result. */
    static <T> T onFreshThread(Supplier<T> body) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                result.complete(body.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        }, "fresh-test-thread");
        t.start();
        return result.get(30, TimeUnit.SECONDS);
    }

    /** Collects what the loop logs (logger io.aioco) while installed. */
    static final class LogCapture extends Handler implements AutoCloseable {
        private final Logger logger = Logger.getLogger("io.aioco");
        final List<String> messages = new ArrayList<>();

        LogCapture() {
            logger.addHandler(this);
        }

        @Override
        public synchronized void publish(LogRecord r) {
            messages.add(r.getMessage());
        }

        synchronized long count(String part) {
            return messages.stream().filter(m -> m.contains(part)).count();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
