package io.aioco;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * {@link Coroutine#await}'s wait: a completion callback registered after the yield, counted as work
 * in flight by the test kit's driver while it waits on a context with its own time. Internal.
 *
 * @param <T> the future's result type
 */
final class FutureWait<T> extends CoWait {
    final CompletableFuture<T> future;
    /** The callback registered on the future; cleared when the wait is cancelled. */
    private AwaitCallback callback;

    FutureWait(Coroutine self, CompletableFuture<T> future) {
        super(self);
        this.future = future;
    }

    /**
     * The context of the test kit counting this wait as work in flight (see {@link
     * AioContext#foreignWaitBegan}), until the wait ends; else null.
     */
    private java.util.concurrent.atomic.AtomicReference<AioContext> tracked;

    @Override
    public CoWait publish() {
        if (future.isDone()) {
            return completeInline();
        }
        AioContext ctx = coroutine.context();
        // NOTE: a future a coroutine of the same context completes (spawn) is not foreign: a
        // deadlock among them must still be reported
        if (ctx != null && ctx.hasTestTime() && SpawnEntry.spawnedIn(future) != ctx) {
            // NOTE: before the callback is registered: a completion at once finds it counted
            tracked = new java.util.concurrent.atomic.AtomicReference<>(ctx);
            ctx.foreignWaitBegan();
        }
        callback = new AwaitCallback(this);
        future.whenComplete(callback);
        return null;
    }

    /** The wait ended (woken, or withdrawn): no longer in flight. Any thread; once. */
    void untrack() {
        java.util.concurrent.atomic.AtomicReference<AioContext> t = tracked;
        AioContext ctx = t == null ? null : t.getAndSet(null);
        if (ctx != null) {
            ctx.foreignWaitEnded();
        }
    }

    /**
     * Cancelled (or timed out): the future keeps the callback until it completes (a
     * CompletableFuture cannot drop one), so the callback lets go of this wait and its
     * coroutine. Any thread.
     */
    @Override
    void withdraw() {
        callback.clear();
        untrack();
    }

    @Override
    String describe() {
        return "the completion of " + future;
    }

    /**
     * The callback {@link Coroutine#await} registers on a future: wakes the waiting coroutine, or
     * does nothing once the wait was cancelled and {@link #clear()}ed it. Holds the wait only while it
     * waits, so a long-lived future with many timed-out awaits does not keep their coroutines.
     * Internal (package-private for tests).
     */
    static final class AwaitCallback implements java.util.function.BiConsumer<Object, Throwable> {
        private volatile CoWait wait;

        AwaitCallback(CoWait wait) {
            this.wait = wait;
        }

        /** Drops the wait (it was cancelled). Any thread. */
        void clear() {
            wait = null;
        }

        /** @return the wait it would wake, or null once cleared or run */
        CoWait target() {
            return wait;
        }

        /** The future completed (any thread): wakes the coroutine on its own context. */
        @Override
        public void accept(Object result, Throwable failure) {
            CoWait target = wait;
            wait = null;
            if (target != null) {
                target.wakeOrLose("Coroutine.await(CompletionStage)'s completion callback");
                if (target instanceof FutureWait<?> fw) {
                    fw.untrack(); // NOTE: after the wake: the kit's driver sees the wake-up or the count
                }
            }
        }
    }

    /** @return the result of a done future, as {@link Coroutine#await} returns or throws it */
    static <T> T resultOf(CompletableFuture<T> future) {
        try {
            return future.get();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new CompletionException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CompletionException(e); // unreachable: the future is done
        }
    }
}
