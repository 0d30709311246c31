package io.aioco;

import java.nio.channels.SelectableChannel;
import java.util.HashMap;
import java.util.Map;

/**
 * The coroutines of one context that wait for channels to become readable or writable: at most
 * one reader and one writer per channel, as QEMU's {@code QIOChannel} keeps {@code
 * read_coroutine} and {@code write_coroutine} and sets the fd handlers from both ({@code
 * qio_channel_set_aio_fd_handlers}). A reader and a writer on the same channel therefore never
 * replace each other's handler. Internal.
 *
 * <p>Threads: waits are added by their publication (the thread that ran the coroutine, after it
 * yielded) and removed by the loop thread (the channel's handler) or by a canceller (any thread);
 * the monitor of this object guards the table and orders the handler updates made under it.
 */
final class ChannelWaiters {
    private final AioContext ctx;
    /** Channel to its waiters; an entry goes when its last waiter does. Guarded by {@code this}. */
    private final Map<SelectableChannel, Entry> waiting = new HashMap<>();

    ChannelWaiters(AioContext ctx) {
        this.ctx = ctx;
    }

    /** The reader and the writer waiting on one channel (either may be null, not both). */
    private static final class Entry {
        Wait reader;
        Wait writer;
    }

    /**
     * Registers {@code wait} and sets the channel's handlers for the directions now awaited.
     *
     * @throws IllegalStateException if another coroutine waits on the channel in that direction
     *     (naming both), or if the context is closed
     */
    synchronized void add(Wait wait) {
        Entry entry = waiting.computeIfAbsent(wait.channel, channel -> new Entry());
        Wait other = wait.write ? entry.writer : entry.reader;
        if (other != null) {
            if (entry.reader == null && entry.writer == null) {
                waiting.remove(wait.channel);
            }
            throw new IllegalStateException(wait.coroutine + " cannot wait for " + wait.channel + " to become "
                    + (wait.write ? "writable" : "readable") + " in " + ctx + ": " + other.coroutine + " waits for it");
        }
        if (wait.write) {
            entry.writer = wait;
        } else {
            entry.reader = wait;
        }
        try {
            if (!wait.channel.isOpen()) {
                // NOTE: a new wait on a closed channel fails, as setFdHandler does (what it names)
                throw new IllegalArgumentException(wait.coroutine + " cannot wait for " + wait.channel + " to become "
                        + (wait.write ? "writable" : "readable") + " in " + ctx + ": the channel is closed");
            }
            update(wait.channel, entry);
        } catch (RuntimeException | Error e) {
            // a closed context: nothing stays registered, and the coroutine's function throws it
            if (wait.write) {
                entry.writer = null;
            } else {
                entry.reader = null;
            }
            if (entry.reader == null && entry.writer == null) {
                waiting.remove(wait.channel);
            }
            throw e;
        }
    }

    /** Unregisters {@code wait} if it is registered; returns whether it was. Any thread. */
    synchronized boolean remove(Wait wait) {
        Entry entry = waiting.get(wait.channel);
        if (entry == null) {
            return false;
        }
        if (wait.write ? entry.writer != wait : entry.reader != wait) {
            return false;
        }
        if (wait.write) {
            entry.writer = null;
        } else {
            entry.reader = null;
        }
        update(wait.channel, entry);
        return true;
    }

    /**
     * Sets the channel's handlers from who waits (removes them when nobody does). On a closed
     * context only the table changes (its handlers are gone already). On a closed channel the
     * handlers are removed quietly and the waiter left, if any, stays in the table without one
     * (its cancellation finds it there): NIO dropped the channel's registration when it was closed,
     * and setting handlers on it again would throw at whoever removed the other waiter (a
     * canceller, a timer). Guarded by this.
     */
    private void update(SelectableChannel channel, Entry entry) {
        boolean nobody = entry.reader == null && entry.writer == null;
        if (nobody) {
            waiting.remove(channel);
        }
        if (nobody || !channel.isOpen()) {
            removeHandlers(channel);
            return;
        }
        try {
            ctx.setFdHandler(channel, entry.reader == null ? null : () -> ready(channel, false),
                    entry.writer == null ? null : () -> ready(channel, true));
        } catch (IllegalArgumentException e) {
            if (channel.isOpen()) {
                throw e;
            }
            removeHandlers(channel); // NOTE: closed since the check above
        }
    }

    /** Removes the channel's handlers; nothing on a closed context (they are gone already). */
    private void removeHandlers(SelectableChannel channel) {
        if (ctx.isClosed()) {
            return;
        }
        try {
            ctx.setFdHandler(channel, null, null); // a removal: allowed on a closed channel
        } catch (IllegalStateException e) {
            if (!ctx.isClosed()) {
                throw e;
            }
            // NOTE: the context closed since the check: its handlers are gone already
        }
    }

    /** The channel's handler (loop thread): takes the waiter of that direction off, then wakes it. */
    private void ready(SelectableChannel channel, boolean write) {
        Wait woken;
        synchronized (this) {
            Entry entry = waiting.get(channel);
            woken = entry == null ? null : write ? entry.writer : entry.reader;
            if (woken == null) {
                return;
            }
            remove(woken);
        }
        woken.wake(); // NOTE: false when a cancellation won; its withdraw finds it removed already
    }

    /** A coroutine's wait for one direction of one channel. */
    static final class Wait extends CoWait {
        private final ChannelWaiters waiters;
        final SelectableChannel channel;
        final boolean write;

        Wait(Coroutine self, AioContext ctx, SelectableChannel channel, boolean write) {
            super(self);
            this.waiters = ctx.channelWaiters;
            this.channel = channel;
            this.write = write;
        }

        @Override
        public CoWait publish() {
            waiters.add(this);
            return null;
        }

        @Override
        void withdraw() {
            waiters.remove(this);
        }

        @Override
        String describe() {
            return channel + " to become " + (write ? "writable" : "readable");
        }
    }
}
