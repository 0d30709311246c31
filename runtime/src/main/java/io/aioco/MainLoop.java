package io.aioco;

import io.aioco.internal.loop.FdTable;
import io.aioco.internal.loop.PollHooks;
import io.aioco.internal.CoStack;
import io.aioco.internal.loop.Signals;
import java.nio.channels.SelectableChannel;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * The process-wide main loop: QEMU's {@code qemu/main-loop.h} and {@code util/main-loop.c}.
 *
 * <p>It runs two contexts on one thread, the <em>main-loop thread</em> (the thread that called
 * {@link #init()}): the main context ({@link #context()}, {@code qemu_aio_context}) and the
 * iohandler context ({@code iohandler_ctx}), which holds the handlers of {@link #setFdHandler},
 * {@link #setEventNotifierHandler}, child watches and signals. {@link #waitOnce(boolean)} serves
 * both in one wait; a nested {@code poll} of the main context (from a callback) serves only the
 * main context, so iohandler callbacks never run inside it, as in QEMU.
 *
 * <p><b>The big lock</b> ({@code qemu_mutex_lock_iothread}, the BQL): the main-loop thread takes it
 * in {@link #init()} and holds it except while {@link #waitOnce(boolean)} blocks; other threads take
 * it with {@link #lockIothread()} to touch state the main loop guards. It is not reentrant: taking
 * it twice, or releasing it without holding it, throws {@link IllegalStateException}.
 *
 * <p>Callbacks run by {@link #waitOnce(boolean)} that throw go to the main-loop thread's
 * uncaught-exception handler; the loop stays usable and pending work stays pending.
 */
public final class MainLoop {
    private static final Object INIT_LOCK = new Object();
    private static volatile State state;

    /** Everything init() creates. */
    private static final class State {
        final Thread thread;
        final AioContext main = AioContext.create("main-loop");
        final AioContext iohandler = AioContext.create("iohandler");
        final ReentrantLock bql = new ReentrantLock();
        final CopyOnWriteArrayList<BooleanSupplier> pollingCallbacks = new CopyOnWriteArrayList<>();
        /** Whether a stray interrupt was logged already. Main-loop thread only. */
        boolean interruptLogged;
        final FdTable mainFds = new FdTable();
        final FdTable iohandlerFds = new FdTable(mainFds);
        /** What waitOnce's poll of the main context adds to its wait. */
        final PollHooks hooks = new Hooks();

        State(Thread thread) {
            this.thread = thread;
            main.useFdTable(mainFds);
            main.attachGuest(iohandler, iohandlerFds);
        }

        /**
         * The iohandler context waited for by the main context's wait (its channels in the main
         * context's selector, its timeout in the wait's), and the big lock released while the wait
         * blocks. Main-loop thread only, inside waitOnce's poll of the main context.
         */
        private final class Hooks implements PollHooks {
            @Override
            public boolean buildPollSet() {
                boolean changed = iohandlerFds.applyUpdates();
                iohandlerFds.refreshInterest();
                return changed;
            }

            @Override
            public long timeoutNs() {
                return iohandler.computeTimeoutNs();
            }

            @Override
            public void beforeWait(boolean blocks) {
                mainFds.serveGuests(true);
                if (blocks) {
                    bql.unlock();
                }
            }

            @Override
            public void afterWait(boolean blocked) {
                if (blocked) {
                    bql.lock();
                }
                mainFds.serveGuests(false);
            }
        }
    }

    private MainLoop() {}

    /**
     * Initializes the main loop ({@code qemu_init_main_loop}); the calling thread becomes the
     * main-loop thread, holds the big lock, and has the main context as {@link
     * AioContext#current()}. Idempotent: later calls, from any thread, do nothing.
     */
    public static void init() {
        if (state != null) {
            return;
        }
        synchronized (INIT_LOCK) {
            if (state != null) {
                return;
            }
            Thread me = Thread.currentThread();
            State s = new State(me);
            s.bql.lock();
            CoStack.carrier().home = s.main;
            s.main.loopCarrier = CoStack.carrier(); // NOTE: for dumps, whatever slot of the carrier cache it has
            state = s;
        }
    }

    private static State state() {
        State s = state;
        if (s == null) {
            throw new IllegalStateException("MainLoop.init() has not been called");
        }
        return s;
    }

    /**
     * The main context ({@code qemu_get_aio_context}). Called from any thread.
     *
     * @throws IllegalStateException before {@link #init()}
     */
    public static AioContext context() {
        return state().main;
    }

    /**
     * One iteration of the main loop ({@code main_loop_wait}): runs the polling callbacks, then
     * waits (unless {@code nonblocking}, or a polling callback returned true) for something to do in
     * the main or iohandler context, releasing the big lock only while blocked, and runs what is
     * ready. A callback that throws is logged naming it and its context, and reported to this
     * thread's uncaught-exception handler (rate-limited, see {@link AioContext}, "Errors"); the rest
     * of the iteration runs.
     *
     * <p>Called from the main-loop thread only. If that thread does not hold the big lock (it
     * released it), the lock is taken for the iteration and released again at its end.
     *
     * <p>Interrupts (QEMU has none): an interrupt status a callback leaves (restoring it) is cleared
     * as soon as that callback returns, so the next callback's NIO channels are not closed by it;
     * one set otherwise during the iteration is cleared at its end; the first one is logged (logger
     * {@code io.aioco}), so that later waits still block. A status the thread had when it called is
     * set again when the iteration ends (a blocking wait then returns at once, as {@link
     * AioContext#poll(boolean)} does).
     *
     * @return whether progress was made
     * @throws IllegalStateException from another thread, or before {@link #init()}
     */
    public static boolean waitOnce(boolean nonblocking) {
        State s = state();
        Thread me = Thread.currentThread();
        if (me != s.thread) {
            throw new IllegalStateException("MainLoop.waitOnce called from " + me
                    + "; only the main-loop thread " + s.thread + " may run it");
        }
        boolean interruptedBefore = me.isInterrupted();
        boolean hadLock = s.bql.isHeldByCurrentThread();
        if (!hadLock) {
            s.bql.lock();
        }
        try {
            boolean force = false;
            for (BooleanSupplier cb : s.pollingCallbacks) {
                force |= cb.getAsBoolean();
            }
            boolean progress = false;
            try {
                progress = s.main.poll(!nonblocking && !force, s.hooks, true);
            } catch (Throwable t) {
                progress = true;
                report(me, t);
            }
            try {
                progress |= s.iohandler.poll(false, PollHooks.NONE, true);
            } catch (Throwable t) {
                progress = true;
                report(me, t);
            }
            return progress;
        } finally {
            // NOTE: an interrupt that appeared during this iteration was left by a callback (or
            // came while the wait blocked, which it ended): cleared, or every later wait would
            // return at once. One set before the call is the caller's, and stays.
            if (!interruptedBefore && Thread.interrupted() && !s.interruptLogged) {
                s.interruptLogged = true;
                LoopLog.strayInterrupt("the main loop");
            } else if (interruptedBefore) {
                me.interrupt(); // the caller's: cleared around the callbacks (see AioContext), given back
            }
            if (!hadLock) {
                s.bql.unlock();
            }
        }
    }

    private static void report(Thread me, Throwable t) {
        me.getUncaughtExceptionHandler().uncaughtException(me, t);
    }

    /**
     * Wakes the main loop if it is blocked ({@code qemu_notify_event}); its current {@link
     * #waitOnce(boolean)} then returns. Called from any thread; does nothing before {@link #init()}.
     */
    public static void notifyEvent() {
        State s = state;
        if (s != null) {
            s.main.notifyEvent();
        }
    }

    /**
     * Sets the level-triggered read and write handlers of a channel in the iohandler context
     * ({@code qemu_set_fd_handler}); both null removes them. Called from any thread.
     */
    public static void setFdHandler(SelectableChannel ch, Runnable onRead, Runnable onWrite) {
        setFdHandler(ch, null, onRead, onWrite);
    }

    /**
     * Like {@link #setFdHandler(SelectableChannel, Runnable, Runnable)} with a can-read function
     * ({@code qemu_set_fd_handler2} / IOCanReadHandler): before each wait, and before calling {@code
     * onRead}, the loop asks {@code canRead}; while it answers 0 the channel is not watched for
     * reading. When its answer grows outside the loop, call {@link #notifyEvent()}. Called from any
     * thread; {@code canRead} runs on the main-loop thread.
     */
    public static void setFdHandler(SelectableChannel ch, IntSupplier canRead, Runnable onRead, Runnable onWrite) {
        State s = state();
        s.iohandler.setFdHandler(ch, canRead, onRead, onWrite, null);
    }

    /**
     * Sets the handler of an event notifier in the iohandler context ({@code
     * event_notifier_set_handler}); null removes it. Called from any thread.
     */
    public static void setEventNotifierHandler(EventNotifier n, Consumer<EventNotifier> handler) {
        state().iohandler.setEventNotifier(n, handler);
    }

    /** A bottom half of the main context ({@code qemu_bh_new}). Called from any thread. */
    public static BottomHalf newBottomHalf(Runnable cb) {
        return state().main.newBottomHalf(cb);
    }

    /**
     * Adds a function that {@link #waitOnce(boolean)} calls at the start of every iteration on the
     * main-loop thread ({@code qemu_add_polling_cb}); when it returns true the iteration does not
     * block. Called from any thread.
     */
    public static void addPollingCallback(BooleanSupplier func) {
        Objects.requireNonNull(func, "func");
        state().pollingCallbacks.add(func);
    }

    /** Removes a function added by {@link #addPollingCallback} ({@code qemu_del_polling_cb}). */
    public static void removePollingCallback(BooleanSupplier func) {
        state().pollingCallbacks.remove(func);
    }

    /**
     * Watches a child process ({@code qemu_add_child_watch}): when it exits, {@code onExit} runs on
     * the main-loop thread with its exit code, once. Called from any thread.
     */
    public static void addChildWatch(Process child, IntConsumer onExit) {
        Objects.requireNonNull(child, "child");
        Objects.requireNonNull(onExit, "onExit");
        AioContext io = state().iohandler;
        child.onExit().thenAccept(p -> io.tryScheduleOneshot(() -> onExit.accept(p.exitValue())));
    }

    /**
     * Handles a signal on the main loop: when the process receives signal {@code name} ("INT",
     * "TERM", "HUP", ...), {@code handler} runs on the main-loop thread (QEMU's signalfd-based
     * handling in {@code qemu_init_main_loop}). Replaces the JVM's own handling of that signal.
     * Called from any thread.
     *
     * @throws UnsupportedOperationException if this JVM offers no signal handling ({@code
     *     sun.misc.Signal}, module jdk.unsupported)
     * @throws IllegalArgumentException if the signal is unknown or reserved by the JVM
     */
    public static void onSignal(String name, Runnable handler) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(handler, "handler");
        AioContext io = state().iohandler;
        Signals.handle(name, () -> io.tryScheduleOneshot(handler));
    }

    /**
     * Takes the big lock ({@code qemu_mutex_lock_iothread}), waiting until the main loop blocks.
     * Called from any thread that does not hold it.
     *
     * @throws IllegalStateException if the calling thread already holds it
     */
    public static void lockIothread() {
        State s = state();
        if (s.bql.isHeldByCurrentThread()) {
            throw new IllegalStateException(Thread.currentThread() + " already holds the big lock");
        }
        s.bql.lock();
    }

    /**
     * Releases the big lock ({@code qemu_mutex_unlock_iothread}). Called from the thread holding it.
     *
     * @throws IllegalStateException if the calling thread does not hold it
     */
    public static void unlockIothread() {
        State s = state();
        if (!s.bql.isHeldByCurrentThread()) {
            throw new IllegalStateException(Thread.currentThread()
                    + " released the big lock without holding it");
        }
        s.bql.unlock();
    }

    /** Whether the calling thread holds the big lock ({@code qemu_mutex_iothread_locked}). */
    public static boolean iothreadLocked() {
        State s = state;
        return s != null && s.bql.isHeldByCurrentThread();
    }
}
