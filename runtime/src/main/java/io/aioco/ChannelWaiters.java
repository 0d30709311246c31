package io.aioco;

import io.aioco.internal.loop.FdTable;
import java.nio.channels.SelectableChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

/**
 * The coroutines of one context that wait for channels to become readable or writable: at most
 * one reader and one writer per channel, as QEMU's {@code QIOChannel} keeps {@code
 * read_coroutine} and {@code write_coroutine} and sets the fd handlers from both ({@code
 * qio_channel_set_aio_fd_handlers}). A reader and a writer on the same channel therefore never
 * replace each other's handler. Internal.
 *
 * <p><b>The registration is kept between a wake-up and the next wait.</b> QEMU sets and removes
 * the fd handlers on every {@code qio_channel_yield}, which costs an epoll_ctl each; with NIO a
 * removal cancels the channel's SelectionKey and a new wait must flush it with a selectNow before it
 * registers again, which made every round trip of a server cost a select. Here a wake-up only takes
 * the waiter off its entry (one {@link FdTable.Node}, with handlers bound to the entry): a
 * ping-pong server, whose woken coroutine runs in the handler and waits again there, keeps its
 * registration. What changes is the interest (level-triggered): a direction stays watched after its
 * waiter is woken; when it fires and nobody waits for it, its handler stops watching it (or the
 * loop would spin on it), and the next wait watches it again. But a registration nobody waits on
 * is not kept for long: NIO closes a registered channel's fd only when the selector deregisters
 * its key, so a kept key would keep the fd of a channel its user closed (from any thread, or in
 * another context) for as long as the loop idles. {@link #releaseIdle}, at the start of each poll,
 * drops the registrations whose last waiter left before that poll (that poll's select flushes the
 * cancelled keys). The registration also goes when a wait finds the channel closed, when the
 * context closes, or when {@link AioContext#setFdHandler} takes the channel over (the waits own the
 * channel's handlers; a later wait takes them back).
 *
 * <p>Threads: waits are added by their publication (the thread that ran the coroutine, after it
 * yielded) and removed by the loop thread (the channel's handler) or by a canceller (any thread);
 * the monitor of this object guards the table and orders the registration changes made under it.
 */
final class ChannelWaiters {
    /** The fewest entries at which a new one first sweeps the entries of closed channels out. */
    static final int MIN_SWEEP = 64;

    private final AioContext ctx;
    /** Channel to its entry; an entry stays while its channel is registered. Guarded by {@code this}. */
    private final Map<SelectableChannel, Entry> waiting = new HashMap<>();
    /**
     * The number of entries at which a new entry first sweeps: twice as many as the last sweep
     * left, so that sweeping costs O(1) per entry made and the table holds at most twice the
     * channels that are open (or waited on), plus {@link #MIN_SWEEP}. Guarded by {@code this}.
     */
    private int sweepAt = MIN_SWEEP;
    /** Sweeps made, for tests. Guarded by {@code this}. */
    int sweeps;
    /**
     * The entries whose last waiter left (woken, cancelled, timed out), oldest first, possibly
     * waited on again since: {@link #releaseIdle} drops those still idle after a poll. Guarded by
     * {@code this}.
     */
    private final ArrayList<Entry> idle = new ArrayList<>();
    /** Whether {@link #idle} may hold entries: the loop's check without the lock. */
    private volatile boolean hasIdle;
    /** The polls of this context so far, counted by {@link #releaseIdle}. Guarded by {@code this}. */
    private long polls;

    ChannelWaiters(AioContext ctx) {
        this.ctx = ctx;
    }

    /** One channel: its reader and writer (either or both may be null), and its registration. */
    private final class Entry {
        final SelectableChannel channel;
        Wait reader;
        Wait writer;
        /** The registration, or null before the first wait (or when its claim failed). */
        FdTable.Node node;
        /** What {@link #node} watches ({@link FdTable#READ}, {@link FdTable#WRITE}) while it is ours. */
        int watched;
        /** The poll ({@link #polls}) in which the last waiter left. Guarded by the table. */
        long idleSince;
        /** Whether the entry is in {@link #idle}. Guarded by the table. */
        boolean listed;
        /** The node's handlers: made once per registration, not per wait. Loop thread. */
        final Runnable onRead = () -> ready(this, false);
        final Runnable onWrite = () -> ready(this, true);

        Entry(SelectableChannel channel) {
            this.channel = channel;
        }

        boolean idle() {
            return reader == null && writer == null;
        }

        @Override
        public String toString() {
            return "ChannelWaiters.Entry[" + channel + "]";
        }
    }

    /**
     * Registers {@code wait}: takes the waiter's place in its channel's entry and makes sure the
     * channel's registration watches that direction (registering the channel on its first wait, or
     * when a user's handler took it over).
     *
     * @throws IllegalStateException if another coroutine waits on the channel in that direction
     *     (naming both), or if the context is closed
     * @throws IllegalArgumentException if the channel is closed
     */
    synchronized void add(Wait wait) {
        SelectableChannel channel = wait.channel;
        Entry entry = waiting.get(channel);
        if (entry != null) {
            Wait other = wait.write ? entry.writer : entry.reader;
            if (other != null) {
                throw new IllegalStateException(wait.coroutine + " cannot wait for " + channel + " to become "
                        + (wait.write ? "writable" : "readable") + " in " + ctx + ": " + other.coroutine + " waits for it");
            }
        }
        if (!channel.isOpen()) {
            if (entry != null && entry.idle()) {
                drop(entry);
            }
            // NOTE: a new wait on a closed channel fails, as setFdHandler does (what it names)
            throw new IllegalArgumentException(wait.coroutine + " cannot wait for " + channel + " to become "
                    + (wait.write ? "writable" : "readable") + " in " + ctx + ": the channel is closed");
        }
        if (ctx.isClosed()) {
            throw new IllegalStateException(ctx + " is closed"); // NOTE: as setFdHandler throws
        }
        if (entry == null) {
            if (waiting.size() >= sweepAt) {
                sweep();
            }
            entry = new Entry(channel);
            waiting.put(channel, entry);
        }
        int direction = wait.write ? FdTable.WRITE : FdTable.READ;
        FdTable.Node node = entry.node;
        boolean ours = node != null && FdTable.owns(node, this);
        if (!ours || (entry.watched & direction) == 0) {
            try {
                watch(entry, ours, direction);
            } catch (RuntimeException | Error e) {
                // a closed context or channel: the coroutine's function throws it
                if (entry.idle() && (entry.node == null || !FdTable.owns(entry.node, this))) {
                    waiting.remove(channel);
                }
                throw e;
            }
        }
        if (wait.write) {
            entry.writer = wait;
        } else {
            entry.reader = wait;
        }
    }

    /** Makes the entry's registration watch {@code direction} too; registers the channel if it is not ours. */
    private void watch(Entry entry, boolean ours, int direction) {
        if (ours) {
            int watched = entry.watched | direction;
            // NOTE: the loop may block in select right now without this direction: wake it
            if (ctx.watchFd(entry.node, this, watched, true)) {
                entry.watched = watched;
                return;
            }
            // NOTE: taken over since the check, or the context closed: claimFd says which
        }
        int watched = direction | (entry.reader != null ? FdTable.READ : 0) | (entry.writer != null ? FdTable.WRITE : 0);
        entry.node = null;
        entry.node = ctx.claimFd(entry.channel, this, entry.onRead, entry.onWrite, watched);
        entry.watched = watched;
    }

    /**
     * Unregisters {@code wait} if it is registered (a cancellation); returns whether it was. Any
     * thread. The registration stays, watching what it watched: the direction stops being watched
     * when it next fires for nobody. On a closed channel the entry goes once nobody waits on it: its
     * key is gone already (NIO cancelled it), and it could never be woken again.
     */
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
        if (entry.idle()) {
            if (!entry.channel.isOpen()) {
                drop(entry);
            } else {
                becameIdle(entry);
            }
        }
        return true;
    }

    /**
     * Notes that nobody waits on the entry any more: {@link #releaseIdle} drops its registration if
     * nobody waits again soon. Guarded by this.
     */
    private void becameIdle(Entry entry) {
        entry.idleSince = polls;
        if (!entry.listed) {
            entry.listed = true;
            idle.add(entry);
            hasIdle = true;
        }
    }

    /**
     * Called by the loop thread at the start of each poll, before the poll applies the handler
     * changes and selects: drops the registrations nobody waits on that are no longer useful. NIO
     * closes a registered channel's fd only when the selector deregisters its key, so a key kept
     * while nobody waits would keep the fd of a channel its user closed (a pipe's reader would see
     * no end of stream, a listener's port would stay bound) for as long as the loop idles. So a
     * registration is kept only from the wake-up (or cancellation) of its last waiter to the end of
     * that poll: the ping-pong server, whose woken coroutine runs in the handler that woke it and
     * waits again there, keeps its key; a registration still idle when the next poll starts goes.
     * The removal is a cancel, which this poll's select flushes (a blocking one first of all), so the
     * fd of a channel closed later is closed by the close itself.
     *
     * @return whether anything was dropped (not progress: no callback ran)
     */
    boolean releaseIdle() {
        // NOTE: the check alone, the work out of line: this runs at every poll, and a small method
        // inlines into the poll without its body
        return hasIdle && releaseIdleNow();
    }

    /** Called by the loop thread: {@link #releaseIdle} when some entry may be idle. */
    private boolean releaseIdleNow() {
        boolean dropped = false;
        synchronized (this) {
            long now = ++polls;
            int kept = 0;
            for (int i = 0, n = idle.size(); i < n; i++) {
                Entry entry = idle.get(i);
                if (!entry.idle() || waiting.get(entry.channel) != entry) {
                    entry.listed = false; // waited on again, or dropped already
                } else if (!entry.channel.isOpen() || now > entry.idleSince) {
                    entry.listed = false;
                    dropIdle(entry);
                    dropped = true;
                } else {
                    idle.set(kept++, entry);
                }
            }
            idle.subList(kept, idle.size()).clear();
            hasIdle = kept > 0;
        }
        return dropped;
    }

    /** Drops an idle entry from the loop thread, which applies the removal next: no wake-up. Guarded by this. */
    private void dropIdle(Entry entry) {
        waiting.remove(entry.channel);
        FdTable.Node node = entry.node;
        entry.node = null;
        if (node != null) {
            ctx.releaseFd(node, this, false);
        }
    }

    /**
     * Removes an idle entry and its registration, if the registration is still ours (a user's
     * handler set since is left alone; on a closed context nothing is left to remove). Guarded by
     * this.
     */
    private void drop(Entry entry) {
        waiting.remove(entry.channel);
        FdTable.Node node = entry.node;
        entry.node = null;
        if (node != null) {
            ctx.releaseFd(node, this);
        }
    }

    /**
     * Drops the entries that nobody waits on and whose channel is closed or whose registration a
     * user's handler took over: the closes NIO does not report. Called when the table has doubled
     * since the last sweep. Guarded by this.
     */
    private void sweep() {
        sweeps++;
        for (Iterator<Entry> it = waiting.values().iterator(); it.hasNext(); ) {
            Entry entry = it.next();
            FdTable.Node node = entry.node;
            if (entry.idle() && (!entry.channel.isOpen() || node == null || !FdTable.owns(node, this))) {
                it.remove();
                entry.node = null;
                if (node != null) {
                    ctx.releaseFd(node, this);
                }
            }
        }
        sweepAt = Math.max(MIN_SWEEP, 2 * waiting.size());
    }

    /** The number of channels in the table (for tests). */
    synchronized int size() {
        return waiting.size();
    }

    /** The registration of {@code channel} (for tests), or null. */
    synchronized FdTable.Node registration(SelectableChannel channel) {
        Entry entry = waiting.get(channel);
        return entry == null ? null : entry.node;
    }

    /**
     * The channel's handler (loop thread): takes the waiter of that direction off, then wakes it,
     * which enters it at once (this is its context's thread, outside any coroutine: {@code
     * aio_co_wake}). With no waiter, the direction stops being watched: it is level-triggered and
     * would fire at every poll.
     */
    private void ready(Entry entry, boolean write) {
        Wait woken;
        synchronized (this) {
            woken = write ? entry.writer : entry.reader;
            if (woken == null) {
                int direction = write ? FdTable.WRITE : FdTable.READ;
                FdTable.Node node = entry.node;
                if ((entry.watched & direction) != 0 && node != null) {
                    int watched = entry.watched & ~direction;
                    // NOTE: no wake-up: this is the loop thread, which applies it before it polls again
                    if (ctx.watchFd(node, this, watched, false)) {
                        entry.watched = watched;
                    }
                }
                return;
            }
            if (write) {
                entry.writer = null;
            } else {
                entry.reader = null;
            }
            if (entry.idle()) {
                becameIdle(entry);
            }
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
