package io.aioco.internal.loop;

import io.aioco.internal.observe.LoopProbe;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The fd handlers of one AioContext: QEMU's {@code AioHandler} list plus its fd monitor, with an
 * NIO {@link Selector} in place of epoll.
 *
 * <p><b>Threads.</b> {@link #update} may be called from any thread: it changes the handler table
 * under this object's monitor and leaves the NIO side (register, interest ops, cancel) to the loop
 * thread, which applies it in {@link #applyUpdates()} at the start of its next poll; the caller then
 * wakes the loop. Handler fields are volatile so that a removal is seen at once by a dispatch in
 * progress: a handler removed (by itself or by another) is never called again, QEMU's deleted-node
 * marking. Everything else is loop thread only.
 *
 * <p><b>Sharing a selector.</b> A table may register its channels with another table's selector
 * (its host). The main loop does this so that one wait covers both the main context and the
 * iohandler context; keys selected for the other table are handed to it, or, when it is not being
 * served (a nested poll of the main context), muted until it is, so that a level-triggered key of
 * the other table cannot turn the nested wait into a busy loop.
 *
 * <p><b>Owned registrations.</b> {@link #claim} sets a channel's handlers for an owner (the
 * coroutine waits of a context), which then changes the directions watched with {@link #watch}
 * (an interest change on the same key) and lets go with {@link #release}; a plain {@link #update}
 * takes the channel over. Beyond QEMU, whose {@code qio_channel_yield} sets and removes its
 * handlers at every wait: with NIO a removal cancels the key, and a new registration must first
 * flush it with a select.
 */
public final class FdTable {
    /** One registered channel (AioHandler). */
    public static final class Node {
        final FdTable table;
        final SelectableChannel channel;
        volatile Runnable onRead;
        volatile Runnable onWrite;
        volatile BooleanSupplier ioPoll;
        volatile IntSupplier canRead;
        /**
         * Called once (then the handlers are removed) when the loop finds the channel closed by
         * someone else: NIO reports no close of a registered channel. Null: nobody is told. Set by
         * {@link #updateWatchingClose}, cleared by any other change of the handlers.
         */
        volatile Runnable onClosed;
        /** Set once, when the handler is removed; never called after. */
        volatile boolean removed;
        /**
         * Who set the handlers through {@link #claim}, or null when they were set by {@link
         * #update}: {@link #watch} changes the interest only while its caller still owns the node.
         * Guarded by the table's monitor (volatile for the owner's check without it).
         */
        volatile Object owner;
        /**
         * The directions watched ({@link #READ}, {@link #WRITE}): masks the interest the handlers
         * ask for, so that an owner stops watching a direction without removing its handler (an
         * interest change, not a cancelled key). Both for nodes set by {@link #update}.
         */
        volatile int watched = READ | WRITE;
        // Loop thread only:
        SelectionKey key;
        int readyOps;
        /**
         * The ready list this node waits in: the table's current one, or the batch of a dispatch in
         * progress that has not reached it yet; null when in none. A nested poll that finds the
         * node ready again takes it from the outer batch (QEMU's aio_add_ready_handler: "remove
         * from nested parent's list"), so that a readiness is handled once.
         */
        ArrayList<Node> list;
        /** Index in pollNodes, or -1. */
        int pollIndex = -1;
        /** Index in canReadNodes, or -1. */
        int canReadIndex = -1;
        /** Index in closeNodes, or -1. */
        int closeIndex = -1;

        Node(FdTable table, SelectableChannel channel) {
            this.table = table;
            this.channel = channel;
        }

        void set(IntSupplier canRead, Runnable onRead, Runnable onWrite, BooleanSupplier ioPoll) {
            this.canRead = canRead;
            this.onRead = onRead;
            this.onWrite = onWrite;
            this.ioPoll = ioPoll;
        }

        /** Loop thread (or after it stopped): the channel's key in the selector, or null. For tests. */
        public SelectionKey key() {
            return key;
        }

        /** Loop thread: the interest set the handlers ask for right now. */
        int interestOps() {
            int valid = channel.validOps();
            int ops = 0;
            IntSupplier cr = canRead;
            int w = watched;
            if (onRead != null && (w & READ) != 0 && (cr == null || cr.getAsInt() > 0)) {
                ops |= valid & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT);
            }
            if (onWrite != null && (w & WRITE) != 0) {
                ops |= valid & SelectionKey.OP_WRITE;
                // NOTE: OP_CONNECT only while a connect is pending: on a connected socket it maps
                // to POLLOUT yet is never reported ready, which would make every select return at
                // once with nothing to do.
                if (channel instanceof SocketChannel sc && sc.isConnectionPending()) {
                    ops |= SelectionKey.OP_CONNECT;
                }
            }
            return ops;
        }
    }

    private static final Node[] NO_NODES = {};

    /** For {@link #claim} and {@link #watch}: the read side (readable, acceptable). */
    public static final int READ = 1;
    /** For {@link #claim} and {@link #watch}: the write side (writable, connectable). */
    public static final int WRITE = 2;

    private final FdTable host;
    /** The selector, opened lazily by the host under its monitor; volatile for wakeup(). */
    private volatile Selector selector;

    // Guarded by this:
    private final HashMap<SelectableChannel, Node> nodes = new HashMap<>();
    private final ArrayList<Node> dirty = new ArrayList<>();
    private volatile boolean hasDirty;

    // Loop thread only:
    private ArrayList<Node> ready = new ArrayList<>();
    /** The nodes with a polling function, in pollNodes[0, pollCount); kept up to date per update. */
    private Node[] pollNodes = NO_NODES;
    private int pollCount;
    /** The nodes with a canRead function, in canReadNodes[0, canReadCount). */
    private Node[] canReadNodes = NO_NODES;
    private int canReadCount;
    /** The nodes with an onClosed handler, in closeNodes[0, closeCount). */
    private Node[] closeNodes = NO_NODES;
    private int closeCount;
    /** Nodes examined by applyUpdates, so far: tests check that an update costs O(changed). */
    long nodesVisited;
    private final ArrayList<Node> muted = new ArrayList<>();
    /** Host only: hand keys of guest tables to them (true) or mute them (false). */
    private boolean serveGuests;
    private boolean closed;

    /** @return how many channels have handlers here (any thread: for coroutine dumps) */
    public int handlerCount() {
        synchronized (this) {
            return nodes.size();
        }
    }

    /** A table with its own selector. */
    public FdTable() {
        this.host = this;
    }

    /** A table that registers its channels with {@code host}'s selector. */
    public FdTable(FdTable host) {
        this.host = host;
    }

    /**
     * Called from any thread (aio_set_fd_handler). Both {@code onRead} and {@code onWrite} null
     * removes the handler. Returns without touching the selector; the caller wakes the loop.
     *
     * @throws IllegalArgumentException if the channel is closed
     * @throws UncheckedIOException if it cannot be made non-blocking
     */
    public void update(SelectableChannel ch, IntSupplier canRead, Runnable onRead, Runnable onWrite,
                       BooleanSupplier ioPoll) {
        set(ch, canRead, onRead, onWrite, ioPoll, null, READ | WRITE, null);
    }

    /**
     * Called from any thread: as {@link #update} (handlers that are not both null), and {@code
     * onClosed} is called once, on the loop thread, when a poll finds the channel closed (by
     * someone else: NIO cancels a closed channel's key without reporting it, so its handlers would
     * never be called again), after which the channel has no handlers. The loop looks at each
     * poll, after the fd handlers ran; a close does not wake it. Costs one volatile read per
     * such channel and poll: for the few channels whose silent end matters (a server's listeners).
     *
     * @throws IllegalArgumentException if the channel is closed
     * @throws UncheckedIOException if it cannot be made non-blocking
     */
    public void updateWatchingClose(SelectableChannel ch, Runnable onRead, Runnable onWrite, Runnable onClosed) {
        if ((onRead == null && onWrite == null) || onClosed == null) {
            throw new IllegalArgumentException("FdTable.updateWatchingClose needs a handler and onClosed");
        }
        set(ch, null, onRead, onWrite, null, null, READ | WRITE, onClosed);
    }

    /**
     * Called from any thread: sets the handlers of {@code ch} for {@code owner}, as {@link #update}
     * does (replacing any), watching only the directions in {@code watched} ({@link #READ}, {@link
     * #WRITE}, or 0: registered, watching nothing). The owner keeps the node and changes what it
     * watches with {@link #watch}, which costs an interest change, never a new registration; the
     * registration lasts until the handlers are removed (by {@link #update} with no handler, or
     * {@link #close}) or the channel is closed. An {@link #update} of the channel takes the node
     * over (it is the owner's no longer). For QIOChannel-style coroutine waits (AioContext's
     * ChannelWaiters). The caller wakes the loop.
     *
     * @return the channel's node, now the owner's
     * @throws IllegalArgumentException if the channel is closed
     * @throws UncheckedIOException if it cannot be made non-blocking
     */
    public Node claim(SelectableChannel ch, Object owner, Runnable onRead, Runnable onWrite, int watched) {
        if (owner == null || onRead == null || onWrite == null) {
            throw new IllegalArgumentException("FdTable.claim needs an owner and both handlers");
        }
        return set(ch, null, onRead, onWrite, null, owner, watched, null);
    }

    /**
     * Called from any thread: makes {@code node} watch the directions in {@code watched} ({@link
     * #READ}, {@link #WRITE}), if {@code owner} still owns it (see {@link #claim}). Applied by the
     * loop thread at its next poll (an interest change); a caller on another thread wakes the loop.
     *
     * @return false (nothing done) if the node was removed or taken over by {@link #update}
     */
    public boolean watch(Node node, Object owner, int watched) {
        assert node.table == this : node.channel + " is registered with another table";
        if (node.removed || node.owner != owner) {
            return false;
        }
        if (node.watched == watched) {
            return true;
        }
        synchronized (this) {
            if (node.removed || node.owner != owner) {
                return false;
            }
            node.watched = watched;
            dirty.add(node);
            hasDirty = true;
        }
        return true;
    }

    /**
     * Any thread: whether {@code node} is still {@code owner}'s (see {@link #claim}). No lock: an
     * {@link #update} racing the check is the caller's to avoid (it mixes two owners).
     */
    public static boolean owns(Node node, Object owner) {
        return !node.removed && node.owner == owner;
    }

    /**
     * Called from any thread: removes the handlers of {@code node}'s channel if {@code owner} still
     * owns the node (see {@link #claim}), as {@link #update} with no handler does; allowed on a
     * closed channel. The caller wakes the loop.
     *
     * @return false (nothing done) if the node was removed or taken over already
     */
    public boolean release(Node node, Object owner) {
        assert node.table == this : node.channel + " is registered with another table";
        synchronized (this) {
            if (node.removed || node.owner != owner) {
                return false;
            }
            nodes.remove(node.channel, node);
            node.removed = true;
            dirty.add(node);
            hasDirty = true;
        }
        return true;
    }

    private Node set(SelectableChannel ch, IntSupplier canRead, Runnable onRead, Runnable onWrite,
                     BooleanSupplier ioPoll, Object owner, int watched, Runnable onClosed) {
        boolean remove = onRead == null && onWrite == null;
        if (!remove) {
            if (!ch.isOpen()) {
                throw new IllegalArgumentException("channel " + ch + " is closed");
            }
            try {
                ch.configureBlocking(false);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot make " + ch + " non-blocking", e);
            }
            host.openSelector();
        }
        synchronized (this) {
            Node node = nodes.get(ch);
            if (remove) {
                if (node == null) {
                    return null;
                }
                nodes.remove(ch);
                node.removed = true;
            } else if (node == null) {
                node = new Node(this, ch);
                node.set(canRead, onRead, onWrite, ioPoll);
                nodes.put(ch, node);
            } else {
                // NOTE: the old owner loses the node before its handlers change, and the new one
                // gets it after (below): an owner's lock-free check (watches) that sees itself
                // sees its own handlers
                node.owner = null;
                node.set(canRead, onRead, onWrite, ioPoll);
            }
            node.watched = watched;
            node.owner = owner;
            node.onClosed = onClosed;
            dirty.add(node);
            hasDirty = true;
            return node;
        }
    }

    /** Called from any thread: one line per channel with handlers, for leak reports. */
    public synchronized java.util.List<String> describeHandlers() {
        java.util.List<String> out = new java.util.ArrayList<>();
        for (Node n : nodes.values()) {
            if (!n.removed && (n.onRead != null || n.onWrite != null)) {
                out.add("fd handler on " + n.channel + ": read=" + n.onRead + ", write=" + n.onWrite);
            }
        }
        return out;
    }

    /** Called from any thread: the number of channels with handlers (for tests: a bound on memory). */
    public synchronized int size() {
        return nodes.size();
    }

    private void openSelector() {
        if (selector != null) {
            return;
        }
        synchronized (this) {
            if (selector == null && !closed) {
                try {
                    selector = Selector.open();
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot open a selector", e);
                }
            }
        }
    }

    /**
     * Called from the loop thread: whether {@link #close} was called (by the loop thread itself,
     * e.g. from a callback run inside a wait: other threads may not close a context being polled).
     */
    public boolean isClosed() {
        return closed;
    }

    /** Called from the loop thread: whether the host selector has any registered channel. */
    public boolean hasChannels() {
        Selector s = host.selector;
        return s != null && !s.keys().isEmpty();
    }

    /**
     * Called from the loop thread: whether every channel watched through the selector (the guest's
     * too) has a polling function, so that a busy poll misses no event (QEMU's {@code
     * poll_disable_cnt} of zero). Conservative: a channel just removed may still count until the
     * next select.
     */
    public boolean allPollable() {
        Selector s = host.selector;
        return s == null || s.keys().size() <= pollCount;
    }

    /** Called from the loop thread: the nodes that have a polling function. */
    public boolean hasPollHandlers() {
        return pollCount > 0;
    }

    /**
     * Called from the loop thread: applies what {@link #update} recorded to the selector, in order,
     * so that a removal followed by a re-add of the same channel works. Returns whether there was
     * anything to apply; one volatile read when not. Costs O(nodes changed), whatever the number of
     * channels: the lists of polling and canRead nodes are updated node by node.
     */
    public boolean applyUpdates() {
        if (!hasDirty) {
            return false;
        }
        Node[] work;
        synchronized (this) {
            work = dirty.toArray(NO_NODES);
            dirty.clear();
            hasDirty = false;
        }
        for (Node n : work) {
            nodesVisited++;
            apply(n);
            // NOTE: after apply, which may drop a node whose channel was closed meanwhile. A handler
            // changed again by another thread since the snapshot is dirty again: the next
            // applyUpdates sees it; readers check the fields they use anyway.
            boolean live = !n.removed;
            if (live && n.ioPoll != null) {
                if (n.pollIndex < 0) {
                    n.pollIndex = pollCount;
                    pollNodes = add(pollNodes, pollCount++, n);
                }
            } else if (n.pollIndex >= 0) {
                Node last = pollNodes[--pollCount];
                pollNodes[n.pollIndex] = last;
                last.pollIndex = n.pollIndex;
                pollNodes[pollCount] = null;
                n.pollIndex = -1;
            }
            if (live && n.canRead != null) {
                if (n.canReadIndex < 0) {
                    n.canReadIndex = canReadCount;
                    canReadNodes = add(canReadNodes, canReadCount++, n);
                }
            } else if (n.canReadIndex >= 0) {
                Node last = canReadNodes[--canReadCount];
                canReadNodes[n.canReadIndex] = last;
                last.canReadIndex = n.canReadIndex;
                canReadNodes[canReadCount] = null;
                n.canReadIndex = -1;
            }
            if (live && n.onClosed != null) {
                if (n.closeIndex < 0) {
                    n.closeIndex = closeCount;
                    closeNodes = add(closeNodes, closeCount++, n);
                }
            } else if (n.closeIndex >= 0) {
                Node last = closeNodes[--closeCount];
                closeNodes[n.closeIndex] = last;
                last.closeIndex = n.closeIndex;
                closeNodes[closeCount] = null;
                n.closeIndex = -1;
            }
        }
        return true;
    }

    /**
     * Called from the loop thread after {@link #dispatch}: for each channel set with {@link
     * #updateWatchingClose} that is closed now, removes its handlers and calls its {@code onClosed}
     * (once). A handler that throws is reported to {@code guard} and the others go on. Nothing
     * (one read) when no channel watches its close.
     *
     * @param stillOpen checked before each call: a handler may close the context
     * @return whether a handler was called
     */
    public boolean dispatchClosed(BooleanSupplier stillOpen, CallbackGuard guard) {
        boolean progress = false;
        Node[] watching = closeNodes;
        // NOTE: the array does not change here: removals leave it in the next applyUpdates
        for (int i = 0, count = closeCount; i < count; i++) {
            Node n = watching[i];
            Runnable closed = n.onClosed;
            if (closed == null || n.removed || n.channel.isOpen() || !stillOpen.getAsBoolean()) {
                continue;
            }
            synchronized (this) {
                if (n.removed || n.onClosed != closed) {
                    continue; // changed by another thread since the check
                }
                nodes.remove(n.channel, n);
                n.removed = true;
                dirty.add(n);
                hasDirty = true;
            }
            progress = true;
            guard.begin(LoopProbe.FD_READ, closed);
            try {
                closed.run();
                guard.ran();
            } catch (Throwable t) {
                guard.failed(closed, "close handler " + closed + " of " + n.channel, t);
            }
        }
        return progress;
    }

    /** Stores {@code n} at {@code at} (the current count), growing the array if full. */
    private static Node[] add(Node[] a, int at, Node n) {
        if (at == a.length) {
            a = java.util.Arrays.copyOf(a, Math.max(8, a.length * 2));
        }
        a[at] = n;
        return a;
    }

    private void apply(Node n) {
        Selector sel = host.selector;
        if (n.removed) {
            if (n.key != null) {
                n.key.cancel();
                n.key = null;
            }
            return;
        }
        if (sel == null) {
            return; // closed
        }
        int ops = n.interestOps();
        try {
            if (n.key != null && n.key.isValid()) {
                n.key.interestOps(ops);
                return;
            }
            SelectionKey stale = n.channel.keyFor(sel);
            if (stale != null && !stale.isValid()) {
                // NOTE: a key cancelled by an earlier removal stays in the selector until its next
                // select; registering the channel again before that throws CancelledKeyException.
                flushCancelledKeys(sel);
            } else if (stale != null) {
                stale.attach(n);
                n.key = stale;
                stale.interestOps(ops);
                return;
            }
        } catch (java.nio.channels.CancelledKeyException e) {
            // NOTE: the channel was closed by another thread between the check and the change (a
            // close cancels its keys): a closed channel has no handler; the rest of the batch goes on
            drop(n);
            return;
        }
        try {
            n.key = n.channel.register(sel, ops, n);
        } catch (ClosedChannelException e) {
            // The channel was closed after update(): a closed channel has no handler.
            drop(n);
        }
    }

    /**
     * Called from the loop thread (or a thread holding the context's claim while nobody polls it):
     * deregisters the cancelled keys (those of closed channels among them, whose fds NIO then
     * closes) with a selectNow whose readiness is dropped. Nothing if this table's channels live in
     * another table's selector (that table's loop selects them) or the selector is closed.
     */
    public void flushCancelledKeys() {
        Selector sel = selector;
        if (host != this || sel == null || !sel.isOpen()) {
            return;
        }
        flushCancelledKeys(sel);
    }

    private void flushCancelledKeys(Selector sel) {
        try {
            sel.selectNow(key -> {
                // Readiness seen here is dropped; the keys are level-triggered and report again.
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void drop(Node n) {
        synchronized (this) {
            if (nodes.get(n.channel) == n) {
                nodes.remove(n.channel);
            }
            n.removed = true;
        }
    }

    /**
     * Called from the loop thread before it waits: re-evaluates the {@code canRead} functions
     * (QEMU's IOCanReadHandler) and brings back keys muted by nested polls of the host.
     */
    public void refreshInterest() {
        Node[] reads = canReadNodes;
        for (int i = 0; i < canReadCount; i++) {
            Node n = reads[i];
            SelectionKey k = n.key;
            if (!n.removed && k != null && k.isValid()) {
                int ops = n.interestOps();
                try {
                    if (k.interestOps() != ops) {
                        k.interestOps(ops);
                    }
                } catch (java.nio.channels.CancelledKeyException e) {
                    // closed by another thread since the check: its key never fires again
                }
            }
        }
        for (Node n : muted) {
            SelectionKey k = n.key;
            if (!n.removed && k != null && k.isValid()) {
                try {
                    k.interestOps(n.interestOps());
                } catch (java.nio.channels.CancelledKeyException e) {
                    // closed by another thread since the check
                }
            }
        }
        muted.clear();
    }

    /** Called from the loop thread of the host: whether the next select serves guest tables. */
    public void serveGuests(boolean serve) {
        this.serveGuests = serve;
    }

    /**
     * Called from the loop thread: waits up to {@code timeoutNs} (-1: no limit) for a channel to be
     * ready, collecting the ready ones. Returns whether any was. NIO's select takes milliseconds:
     * whole milliseconds are waited in select, the sub-millisecond rest by spinning on selectNow,
     * so the wait never ends later than asked for because of rounding.
     */
    public boolean select(long timeoutNs) {
        Selector sel = selector;
        int n;
        try {
            if (timeoutNs < 0) {
                n = sel.select(this::collect, 0);
            } else if (timeoutNs >= 1_000_000) {
                n = sel.select(this::collect, timeoutNs / 1_000_000);
            } else {
                n = sel.selectNow(this::collect);
                if (n == 0) {
                    Thread.onSpinWait();
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return n > 0;
    }

    /** Called from the loop thread: collects what is ready without waiting. */
    public void selectNow() {
        Selector sel = selector;
        if (sel == null || sel.keys().isEmpty()) {
            return;
        }
        try {
            sel.selectNow(this::collect);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Called from any thread: makes a select in progress return (the host's). */
    public void wakeup() {
        Selector sel = host.selector;
        if (sel != null) {
            sel.wakeup();
        }
    }

    private void collect(SelectionKey key) {
        Node n = (Node) key.attachment();
        if (n == null || n.removed || !key.isValid()) {
            return;
        }
        if (n.table == this || serveGuests) {
            n.table.enqueue(n, key.readyOps());
        } else {
            try {
                key.interestOps(0);
            } catch (java.nio.channels.CancelledKeyException e) {
                return; // closed by another thread since the check
            }
            n.table.muted.add(n);
        }
    }

    private void enqueue(Node n, int ops) {
        ArrayList<Node> r = ready;
        if (n.list == r) {
            n.readyOps |= ops;
            return;
        }
        // NOTE: a node still waiting in the batch of an outer dispatch (this is a nested poll) moves
        // here: the outer dispatch skips it, since its readiness is handled by this one.
        n.list = r;
        n.readyOps = ops;
        r.add(n);
    }

    /**
     * Called from the loop thread: runs each polling function once (AioHandler io_poll) and queues
     * the handlers whose function reported work, as if their channel were readable. Returns whether
     * any did. A function that throws is reported to {@code guard} and counts as having found no
     * work.
     */
    public boolean runPollHandlersOnce(CallbackGuard guard) {
        boolean any = false;
        Node[] polls = pollNodes;
        for (int i = 0; i < pollCount; i++) {
            Node n = polls[i];
            BooleanSupplier p = n.ioPoll;
            if (n.removed || p == null) {
                continue;
            }
            boolean ready;
            try {
                ready = p.getAsBoolean();
            } catch (Throwable t) {
                guard.failed(p, "fd polling function " + p + " of " + n.channel, t);
                continue;
            }
            if (ready) {
                enqueue(n, SelectionKey.OP_READ);
                any = true;
            }
        }
        return any;
    }

    /**
     * Called from the loop thread: calls the handlers of the channels found ready. A handler removed
     * meanwhile, by itself or by another handler, is skipped, and so is a node whose readiness a
     * nested poll (from an earlier handler of the batch) has taken over. A handler that throws is
     * reported to {@code guard} and the batch goes on.
     *
     * @param stillOpen checked before each call: a handler may close the context
     * @param guard told after each handler call, and of each exception
     */
    public boolean dispatch(BooleanSupplier stillOpen, CallbackGuard guard) {
        ArrayList<Node> batch = ready;
        if (batch.isEmpty()) {
            return false;
        }
        // A handler may poll the context again (nested): it must get a fresh list.
        ready = new ArrayList<>();
        boolean progress = false;
        for (int i = 0, size = batch.size(); i < size; i++) {
            Node n = batch.get(i);
            if (n.list != batch) {
                continue; // taken over by a nested poll, which handled this readiness
            }
            n.list = null;
            int ops = n.readyOps;
            if ((ops & (SelectionKey.OP_READ | SelectionKey.OP_ACCEPT)) != 0) {
                Runnable r = n.onRead;
                if (r != null && !n.removed && stillOpen.getAsBoolean()) {
                    guard.begin(LoopProbe.FD_READ, r);
                    try {
                        IntSupplier cr = n.canRead;
                        if (cr == null || cr.getAsInt() > 0) {
                            progress = true;
                            r.run();
                        }
                        guard.ran();
                    } catch (Throwable t) {
                        progress = true;
                        guard.failed(r, "fd read handler " + r + " of " + n.channel, t);
                    }
                }
            }
            if ((ops & (SelectionKey.OP_WRITE | SelectionKey.OP_CONNECT)) != 0) {
                Runnable w = n.onWrite;
                if (w != null && !n.removed && stillOpen.getAsBoolean()) {
                    progress = true;
                    guard.begin(LoopProbe.FD_WRITE, w);
                    try {
                        w.run();
                        guard.ran();
                    } catch (Throwable t) {
                        guard.failed(w, "fd write handler " + w + " of " + n.channel, t);
                    }
                }
            }
        }
        return progress;
    }

    /** Called by the closing thread once no poll runs: drops every handler and closes the selector. */
    public void close() {
        Selector sel;
        synchronized (this) {
            closed = true;
            for (Node n : nodes.values()) {
                n.removed = true;
                if (n.key != null) {
                    n.key.cancel();
                }
            }
            nodes.clear();
            dirty.clear();
            sel = host == this ? selector : null;
            if (host == this) {
                selector = null;
            }
        }
        pollNodes = NO_NODES;
        pollCount = 0;
        canReadNodes = NO_NODES;
        canReadCount = 0;
        closeNodes = NO_NODES;
        closeCount = 0;
        ready = new ArrayList<>();
        if (sel != null) {
            try {
                sel.close();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
