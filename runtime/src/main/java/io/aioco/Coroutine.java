package io.aioco;

import io.aioco.internal.Carrier;
import io.aioco.internal.CoStack;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.channels.SelectableChannel;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * A coroutine: a computation that can suspend itself ({@link #yield()}) and be resumed later
 * ({@link #enter()}), as in QEMU's {@code qemu/coroutine.h}.
 *
 * <p>The code a coroutine runs is plain Java: its entry and every method it calls that may suspend
 * are marked {@link CoroutineFn} and rewritten by the aioco agent ({@code -javaagent}) or the Maven
 * plugin into resumable state machines. No thread is created: {@code enter()} runs the coroutine on
 * the calling thread until it yields or terminates.
 *
 * <p>Coroutines nest: a coroutine may enter another, and the inner one's {@code yield()} returns to
 * the outer one. A coroutine runs on whichever thread enters it, one thread at a time.
 */
public final class Coroutine {
    // States. NOTE: only the entering thread writes them; a coroutine is driven by one thread at a time.
    /** Created, never entered. */
    private static final int CREATED = 0;
    /** Entered: running, or on the stack of the running coroutine (qemu_coroutine_entered). */
    private static final int ENTERED = 1;
    /** Yielded, waiting to be entered again. */
    private static final int SUSPENDED = 2;
    /** Its entry returned or threw. */
    private static final int TERMINATED = 3;

    static final int RUN_TOKEN = CoStack.token("run", "()V");
    private static final CoFrame YIELD = new CoFrame("io.aioco.Coroutine.yield()", "yield", "()V");
    private static final CoFrame SLEEP = new CoFrame("io.aioco.Coroutine.sleepNs(ClockType, long)", "sleepNs",
            "(Lio/aioco/ClockType;J)V");
    private static final CoFrame READABLE = new CoFrame("io.aioco.Coroutine.yieldUntilReadable(SelectableChannel)",
            "yieldUntilReadable", "(Ljava/nio/channels/SelectableChannel;)V");
    private static final CoFrame WRITABLE = new CoFrame("io.aioco.Coroutine.yieldUntilWritable(SelectableChannel)",
            "yieldUntilWritable", "(Ljava/nio/channels/SelectableChannel;)V");
    private static final CoFrame AWAIT = new CoFrame("io.aioco.Coroutine.await(CompletionStage)", "await",
            "(Ljava/util/concurrent/CompletionStage;)Ljava/lang/Object;");
    private static final CoFrame WITH_TIMEOUT = new CoFrame(
            "io.aioco.Coroutine.withTimeoutNs(ClockType, long, CoroutineCallable)", "withTimeoutNs",
            "(Lio/aioco/ClockType;JLio/aioco/CoroutineCallable;)Ljava/lang/Object;");
    /** The token of {@link CoroutineCallable#call()}, which withTimeoutNs calls. */
    private static final int CALL_TOKEN = CoFrame.token("call", "()Ljava/lang/Object;");

    private static final VarHandle SCHEDULED;
    private static final VarHandle CONTEXT;
    private static final VarHandle RARE;

    static {
        try {
            SCHEDULED = MethodHandles.lookup().findVarHandle(Coroutine.class, "scheduled", AioContext.class);
            CONTEXT = MethodHandles.lookup().findVarHandle(Coroutine.class, "context", AioContext.class);
            RARE = MethodHandles.lookup().findVarHandle(Coroutine.class, "rare", Rare.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
        CoStack.onRefusal(co -> ((Coroutine) co).suspensionRefused());
    }

    /**
     * Whether the full coroutine dump is on ({@code -javaagent:aioco-agent.jar=probes}, or the
     * system property {@code aioco.probes=true} before the runtime loads): every coroutine is then
     * registered while it lives, and its last run is timed. A constant: when off, the JIT drops
     * both paths.
     */
    static final boolean PROBES = Boolean.getBoolean("aioco.probes");

    private final CoroutineEntry entry;
    /**
     * What only some coroutines have (a name, the test kit's record, a probe, the abandoned mark),
     * or null: made when first needed, so that the common coroutine stays as small as it was
     * before these existed (72 bytes with compressed oops, with {@link #state} a byte; creating one
     * is QEMU's perf_lifecycle figure, and its size is much of that cost). Set at creation (a named coroutine, or one created in a test), else installed once
     * by CAS through RARE ({@link #rare()}): by the coroutine's thread at its first suspension
     * under {@link #PROBES}, or by {@link #abandon()} on any thread. Never replaced once set; read
     * plainly by the coroutine's thread (what it finds null holds nothing it must act on: see
     * {@link #terminatedRare}), racily by dumps.
     */
    @SuppressWarnings("unused") // also through RARE
    private Rare rare;
    /**
     * Its frame storage: taken when first entered, handed back to the carrier thread's spare when it
     * terminates (so null before and after).
     */
    private CoStack stack;
    /**
     * CREATED, ENTERED, SUSPENDED or TERMINATED. NOTE: a byte, packed with {@link #wakeupPending}
     * into the header's last word: the coroutine then takes 72 bytes with compressed oops, as it did
     * before {@link #rare} was added (an int here makes it 80: creation costs its size).
     */
    private byte state;
    /**
     * Link in whichever single list holds this coroutine: a CoQueue's or CoMutex's waiters, or
     * another coroutine's wake-up list (QEMU's {@code co_queue_next}).
     */
    Coroutine next;
    /** Coroutines this one woke while running, entered after it yields or terminates (co_queue_wakeup). */
    private Coroutine wakeupHead;
    private Coroutine wakeupTail;
    /** In some coroutine's wake-up list: waking it again before it runs is a bug. */
    private boolean wakeupPending;
    /**
     * The context it last ran in (the current context of the thread that entered it, or the one
     * given to {@link #enter(AioContext)}). Written by the entering thread, read by wakers on any
     * thread (a release store through CONTEXT, made only when it changes: no fence on the hot path).
     */
    private AioContext context;
    /**
     * The context whose scheduled list holds this coroutine (QEMU's {@code co->scheduled}), null
     * otherwise. Set by CAS in {@link AioContext#coSchedule}, cleared by the context before it
     * enters the coroutine: scheduling twice is a bug.
     */
    @SuppressWarnings("unused") // through SCHEDULED
    private volatile AioContext scheduled;
    /** Link in a context's list of scheduled coroutines (written before the CAS that publishes it). */
    Coroutine scheduledNext;
    /**
     * What to do once the coroutine has yielded, on the thread that ran it: hand it to another
     * context, or publish the wake-up of the wait it suspended on ({@link CoWait}). Doing it only
     * then means no other thread can enter the coroutine while it is still unwinding its frames
     * here. Written and read only by the thread that runs the coroutine.
     */
    private AfterYield afterYield;
    /**
     * Set once by {@link #cancel()} (any thread), never cleared: the exception every cancellable
     * wait of this coroutine throws from then on. Null while not cancelled. NOTE: written before
     * {@link #currentWait} is read; pairs with {@link CoWait#markPublished(int)}.
     */
    private volatile CancellationException cancelled;
    /**
     * The wait this coroutine suspended on last (it may have ended since): what {@link #cancel()}
     * and an expiring {@link TimeoutScope} try to cancel. Written by the coroutine's thread before
     * the wait is published; read by any thread.
     */
    private volatile CoWait currentWait;
    /**
     * The wait {@link CoMutex#lock()} suspends on outside timeout scopes, kept for the next one
     * ({@link CoWait#renew()}): a contended lock allocates nothing. Null until the first. Only the
     * coroutine's thread, inside it.
     */
    CoWait keptMutexWaiter;
    /** The innermost withTimeoutNs in progress, or null. Only the coroutine's thread, inside it. */
    private TimeoutScope timeoutScope;

    /**
     * An action that must run only after the coroutine has yielded (see {@link #afterYield}).
     * Internal.
     */
    interface AfterYield {
        /**
         * Runs on the thread that ran the coroutine, once it has yielded.
         *
         * @return null; the wait itself when it completed at once (the coroutine runs again at
         *     once); another wait this action completed, whose coroutine the caller wakes
         */
        CoWait publish();
    }

    /**
     * For coroutine dumps: the method its entry runs, {@code Owner.run} (a lambda's proxy class as
     * jstack names it, without its address), which names the outermost saved frame when that frame's
     * class has no frame table; null for the runtime's own entries, whose outermost woven frame is
     * not the entry's ({@code spawn}, the test kit's). Any thread.
     */
    String entryFrameForDump() {
        Class<?> cls = entry.getClass();
        if (entry instanceof SpawnEntry<?> || cls.getClassLoader() == Coroutine.class.getClassLoader()
                && cls.getPackageName().startsWith(Coroutine.class.getPackageName() + ".internal")) {
            return null; // NOTE: the runtime's (spawn) and the test kit's entries call the code that suspends
        }
        String name = cls.getName();
        int slash = name.indexOf('/'); // NOTE: a hidden class (a lambda's proxy): Owner$$Lambda$N/0x...
        return (slash < 0 ? name : name.substring(0, slash)) + ".run";
    }

    /** The fields of the coroutines that need them (see {@link #rare}). Internal. */
    private static final class Rare {
        /** Its name for dumps and messages, or null. */
        final String name;
        /**
         * The test kit's record of the test that created it, which it leaves when it terminates (so
         * the kit keeps no terminated coroutine reachable); null outside a {@code @CoroutineTest}.
         * Set at creation; cleared by the thread that runs it, when it terminates.
         */
        io.aioco.internal.loop.TestTime.Created testRecord;
        /**
         * Its entry in the registry of live coroutines, under {@link #PROBES} only, made at its
         * first suspension (a coroutine that ends in its first run is never registered: running,
         * it is found through its thread's carrier), else null. Written by the thread that runs it.
         */
        CoroutineDump.Probe probe;
        /** Set by {@link #abandon()} (any thread): not reported as lost. */
        volatile boolean abandoned;

        Rare(String name, io.aioco.internal.loop.TestTime.Created testRecord) {
            this.name = name;
            this.testRecord = testRecord;
        }
    }

    private Coroutine(CoroutineEntry entry) {
        this.entry = entry;
    }

    /**
     * @return its {@link Rare} fields, made (and installed by CAS) if it has none yet; never
     *     replaced afterwards. Any thread (off the common path: a probe, an abandon).
     */
    private Rare rare() {
        Rare known = (Rare) RARE.getAcquire(this);
        if (known != null) {
            return known;
        }
        Rare fresh = new Rare(null, null);
        Rare witness = (Rare) RARE.compareAndExchange(this, null, fresh);
        return witness != null ? witness : fresh;
    }

    /**
     * Creates a coroutine that will run {@code entry} when first entered. Maps to
     * {@code qemu_coroutine_create}. Any thread may call it.
     *
     * @param entry the coroutine's code
     * @return the new coroutine, not yet entered
     */
    public static Coroutine create(CoroutineEntry entry) {
        Coroutine co = new Coroutine(Objects.requireNonNull(entry, "entry"));
        io.aioco.internal.loop.TestTime.Created record = io.aioco.internal.loop.TestTime.noteCreated(co);
        if (record != null) { // the test kit's list (one read of a static field otherwise)
            co.rare = new Rare(null, record);
        }
        return co;
    }

    /**
     * Creates a named coroutine that will run {@code entry} when first entered: as {@link
     * #create(CoroutineEntry)}, and the name is shown by {@link #dump(Appendable)} and {@link
     * #toString()}. Maps to {@code qemu_coroutine_create} (QEMU's coroutines have no name; gdb's
     * {@code qemu coroutine} command shows their stacks). Any thread may call it.
     *
     * @param name the coroutine's name (need not be unique)
     * @param entry the coroutine's code
     * @return the new coroutine, not yet entered
     */
    public static Coroutine create(String name, CoroutineEntry entry) {
        Objects.requireNonNull(name, "name");
        Coroutine co = new Coroutine(Objects.requireNonNull(entry, "entry"));
        co.rare = new Rare(name, null); // NOTE: before noteCreated publishes it to the test kit
        co.rare.testRecord = io.aioco.internal.loop.TestTime.noteCreated(co);
        return co;
    }

    /**
     * Writes a dump of the coroutines of this JVM, as {@code jstack} does for threads: the
     * contexts with their counts, then each live coroutine it knows (suspended, scheduled or
     * running) with its name, context and thread, state, what it waits on (a lock and who holds it,
     * a queue, a timer, a channel, a future, thread-pool work, a plain yield) and its suspended
     * stack, innermost first, one {@code at pkg.Class.method(File.java:LINE)} line per frame. A
     * cycle of coroutines waiting on each other's {@link CoMutex} or {@link CoRwLock} is reported
     * first ({@code Found a coroutine deadlock:}), and so is a coroutine waiting for a {@link
     * CoRwLock} whose write lock it holds itself (a cycle of one). The text is written to {@code out}
     * as it goes, coroutine by coroutine, never held whole (give it a buffered writer). The same text as the MBean {@code
     * io.aioco:type=Coroutines}'s {@code dump} operation and {@code java -jar aioco-agent.jar dump
     * PID}.
     *
     * <p>Which coroutines: with the agent's {@code probes} option (or the system property {@code
     * aioco.probes=true}) every live one that is running, scheduled or suspended (a coroutine is
     * registered at its first suspension), and how long since each last ran (to 10 ms); without
     * it, those the contexts and threads know (running, and scheduled). Stacks come from tables the
     * instrumenter writes for each suspension point, so they cost nothing while coroutines run.
     * No QEMU counterpart (gdb's {@code qemu coroutine} script shows one coroutine's stack).
     *
     * <p>Any thread may call it, at any time: it reads the coroutines racily (a coroutine that
     * runs meanwhile may be shown in either state) and never blocks on them.
     *
     * @param out where to write the text
     * @throws IOException what {@code out} throws
     */
    public static void dump(Appendable out) throws IOException {
        CoroutineDump.write(out);
    }

    /**
     * Runs the coroutine on the calling thread until it yields or terminates, then the coroutines
     * it woke meanwhile (depth first, in wake order). Maps to {@code qemu_coroutine_enter}.
     *
     * @throws IllegalStateException if the coroutine is already entered (running, or on the stack of
     *     the running coroutine) or has terminated
     * @throws CoroutineException wrapping a checked exception that escaped the entry; unchecked
     *     exceptions and errors escaping it are rethrown as they are
     */
    public void enter() {
        enter((AioContext) null);
    }

    /**
     * Makes {@code ctx} the coroutine's context and enters it on the calling thread, as {@link
     * #enter()} does; a later {@link #wake()} from another thread schedules it on {@code ctx}. Maps
     * to {@code qemu_aio_coroutine_enter}.
     *
     * @param ctx the context the coroutine belongs to from now on (null: the calling thread's
     *     current context)
     * @throws IllegalStateException as {@link #enter()}
     */
    public void enter(AioContext ctx) {
        checkEnterable();
        Throwable failure = runOnce(ctx);
        if (afterYield != null || wakeupHead != null) { // NOTE: the plain yield's path stays small (inlined)
            failure = runAll(this, ctx, failure);
        }
        if (failure != null) {
            rethrow(failure);
        }
    }

    /**
     * Enters the coroutine unless it is already entered (running, or on the stack of the running
     * coroutine), in which case it does nothing. Maps to {@code qemu_coroutine_enter_if_inactive}.
     *
     * @throws IllegalStateException if the coroutine has terminated
     */
    public void enterIfInactive() {
        if (state != ENTERED) {
            enter();
        }
    }

    private void checkEnterable() {
        if (state == ENTERED) {
            throw new IllegalStateException("cannot enter " + this + ": it is already entered"
                    + " (running, or on the stack of the running coroutine)");
        }
        if (state == TERMINATED) {
            throw new IllegalStateException("cannot enter " + this + ": it has terminated");
        }
    }

    /**
     * Finishes the run of {@code first} (entered in {@code firstCtx}) and then, depth first and in
     * wake order, enters the coroutines woken meanwhile (QEMU's {@code co_queue_wakeup}), with an
     * explicit list instead of
     * recursion (a long chain of hand-offs must not grow the Java stack). Each coroutine runs until
     * it yields or terminates; if it yielded on a wait, the wait is published only then ({@link
     * CoWait#publish()}), after what it woke has been taken into the local list: from the
     * publication on, another thread may enter it, so nothing of it is touched here any more. A
     * wait satisfied at publication runs its coroutine again at once. Failures are collected: the
     * first is returned, the others added to it as suppressed, and every pending coroutine still
     * runs. A publication that throws (a closed context) resumes its coroutine at once, whose
     * function throws it. Thread confinement: the calling thread, which runs them all.
     *
     * <p>{@link #enter(AioContext)} has run {@code first} once already ({@code firstThrown} is what
     * escaped it) and calls this only when that run left a wait to publish or woke coroutines: a
     * plain yield never comes here, so the common switch stays small enough to inline.
     */
    private static Throwable runAll(Coroutine first, AioContext firstCtx, Throwable firstThrown) {
        Throwable failure = null;
        Coroutine pendingHead = null;
        Coroutine to = first;
        AioContext ctx = firstCtx; // NOTE: first runs again in it when its wait is satisfied at publication
        boolean firstRan = true; // first's run is done: start with its wake-ups and publication
        while (true) {
            Throwable thrown = null;
            Coroutine wokenHead = null; // what `to` woke, in wake order, run before the older pending ones
            Coroutine wokenTail = null;
            if (to != first && (to.state == ENTERED || to.state == TERMINATED)) {
                thrown = new IllegalStateException("cannot run woken " + to + ": it is "
                        + (to.state == ENTERED ? "already entered" : "terminated"));
            } else {
                while (true) {
                    if (firstRan) {
                        firstRan = false;
                        thrown = firstThrown;
                    } else {
                        thrown = to.runOnce(ctx);
                    }
                    if (to.wakeupHead != null) { // NOTE: taken before the publication below
                        if (wokenTail == null) {
                            wokenHead = to.wakeupHead;
                        } else {
                            wokenTail.next = to.wakeupHead;
                        }
                        wokenTail = to.wakeupTail;
                        to.wakeupHead = null;
                        to.wakeupTail = null;
                    }
                    AfterYield action = to.afterYield;
                    to.afterYield = null;
                    if (action == null || thrown != null || to.state != SUSPENDED) {
                        break;
                    }
                    // NOTE: read before the publication, after which the wait may be woken, its
                    // coroutine run on another thread and the wait renewed (CoMutex's kept waiter)
                    int generation = action instanceof CoWait kept ? kept.generation() : 0;
                    CoWait outcome;
                    try {
                        outcome = action.publish();
                    } catch (RuntimeException | Error e) {
                        if (action instanceof CoWait wait) {
                            wait.failedToPublish(e); // thrown in the coroutine, by its function
                            continue;
                        }
                        thrown = e;
                        break;
                    }
                    if (outcome == action) {
                        continue; // satisfied at once: nobody else can wake it; it goes on here
                    }
                    // published: from here on `to` belongs to whoever wakes or cancels it, unless a
                    // cancellation requested before now is seen here (then it goes on here, and throws)
                    boolean cancelledHere = action instanceof CoWait wait && wait.markPublished(generation);
                    if (outcome == null) {
                        if (cancelledHere) {
                            continue;
                        }
                        break;
                    }
                    // a hand-off made (and completed, under the lock) by the publication: wake its
                    // coroutine as wake() would, but queued here rather than entered from inside this loop
                    assert outcome.isDone() : outcome + " was handed over but not completed";
                    Coroutine handed = outcome.coroutine;
                    AioContext handedCtx = (AioContext) CONTEXT.getAcquire(handed);
                    Carrier carrier = CoStack.carrier();
                    if ((handedCtx != null && handedCtx != carrier.context()) || carrier.current != null) {
                        outcome.wakeHandedOff(); // handed.wake(), skipping it if its context is closed
                    } else {
                        handed.markWakeupPending();
                        if (wokenTail == null) {
                            wokenHead = handed;
                        } else {
                            wokenTail.next = handed;
                        }
                        wokenTail = handed;
                    }
                    if (cancelledHere) {
                        continue;
                    }
                    break;
                }
            }
            if (thrown != null) {
                if (failure == null) {
                    failure = thrown;
                } else if (failure != thrown) {
                    failure.addSuppressed(thrown);
                }
            }
            if (wokenHead != null) { // depth first: what `to` woke runs before the rest
                wokenTail.next = pendingHead;
                pendingHead = wokenHead;
            }
            if (pendingHead == null) {
                return failure;
            }
            to = pendingHead;
            pendingHead = to.next;
            to.next = null;
            to.wakeupPending = false;
            ctx = null;
        }
    }

    /**
     * Runs until the next yield or the end; returns what escaped the entry, if anything. Leaves
     * {@link #afterYield} for {@link #runAll} to publish.
     */
    private Throwable runOnce(AioContext ctx) {
        Carrier carrier = CoStack.carrier();
        AioContext home = ctx != null ? ctx : (AioContext) carrier.context();
        if (context != home) { // only the entering thread writes it: an unchanged value needs no store
            // NOTE: pairs with the acquire in wake()/context() on other threads
            CONTEXT.setRelease(this, home);
        }
        CoStack outer = carrier.current;
        CoStack stack = this.stack;
        if (stack == null) {
            stack = carrier.takeStack(this);
            this.stack = stack;
        }
        stack.arm(state == SUSPENDED ? RUN_TOKEN | CoStack.RESUME : RUN_TOKEN, "run()V", entry);
        state = ENTERED;
        carrier.current = stack;
        Throwable failure = null;
        try {
            entry.run();
            if (PROBES && stack.signal == CoStack.SUSPEND && probe() == null) {
                // NOTE: registered while still its thread's current coroutine: a dump that reads the
                // carriers, then the registry, finds it in one or the other (rv17b #13)
                firstSuspension();
            }
        } catch (Throwable t) {
            failure = t;
        } finally {
            carrier.current = outer;
        }
        if (failure == null && stack.signal == CoStack.SUSPEND) {
            stack.signal = 0;
            state = SUSPENDED;
            if (PROBES) {
                suspendedProbe();
            }
            return null;
        }
        afterYield = null;
        state = TERMINATED;
        this.stack = null;
        carrier.recycle(stack);
        Rare known = rare; // NOTE: plain: one installed meanwhile by abandon() has no record, no probe
        if (known != null) {
            terminatedRare(known);
        }
        return failure;
    }

    /**
     * It terminated, and has {@link Rare} fields: its probe, if any, is told, and it leaves the test
     * kit's record. The thread that ran it.
     */
    private void terminatedRare(Rare known) {
        if (PROBES && known.probe != null) {
            known.probe.terminated();
        }
        if (known.testRecord != null) {
            known.testRecord.remove(this);
            known.testRecord = null;
        }
    }

    /**
     * Under {@link #PROBES}: its first suspension (its entry returned for a yield), on its thread
     * before it stops being the carrier's current coroutine: registered for the dump.
     */
    private void firstSuspension() {
        CoroutineDump.Probe known = CoroutineDump.register(this);
        Rare fields = rare();
        fields.probe = known;
        VarHandle.fullFence(); // NOTE: pairs with abandon()'s: one of the two sees the other
        if (fields.abandoned) {
            known.abandon();
        }
    }

    /** Under {@link #PROBES}: it yielded (registered by {@link #firstSuspension()}); its last run timed. */
    private void suspendedProbe() {
        CoroutineDump.Probe known = probe();
        if (known != null) {
            known.ran(stack);
        }
    }

    private void rethrow(Throwable failure) {
        if (failure instanceof RuntimeException) {
            throw (RuntimeException) failure;
        }
        if (failure instanceof Error) {
            throw (Error) failure;
        }
        throw new CoroutineException(this + " terminated with " + failure, failure);
    }

    /**
     * Wakes this coroutine ({@code aio_co_wake}): schedules it on its own context from a bottom half
     * when called from another context or thread ({@code aio_co_schedule}); on its context, from a
     * running coroutine, queues it to be entered after that coroutine yields or terminates
     * ({@code co_queue_wakeup}), in wake order, never nested; on its context outside coroutines,
     * enters it at once. A coroutine with no context belongs to the caller's. Any thread may call
     * it. If its context is closed (also when the close races this call), the coroutine can never
     * run again: the wake-up is dropped and logged once as lost (logger {@code io.aioco}, WARNING),
     * as a lock hand-off to it is, rather than thrown.
     *
     * @throws IllegalStateException if this coroutine has terminated, or is already scheduled
     */
    public void wake() {
        if (state == TERMINATED) {
            throw new IllegalStateException("cannot wake " + this + ": it has terminated");
        }
        AioContext ctx = (AioContext) CONTEXT.getAcquire(this);
        Carrier carrier = CoStack.carrier();
        if (ctx != null && ctx != carrier.context()) {
            // NOTE: a closed context throws from coSchedule; a wake-up racing its close is lost
            // like a lock hand-off to it (LoopLog.coroutineLost), not an error of the waker.
            if (!ctx.isClosed()) {
                try {
                    ctx.coSchedule(this);
                    return;
                } catch (IllegalStateException e) {
                    if (!ctx.isClosed()) {
                        throw e;
                    }
                }
            }
            LoopLog.wakeLost(this, ctx);
            return;
        }
        enterFromContext(ctx, carrier);
    }

    /**
     * {@code aio_co_enter} on the context's own thread: queued behind the running coroutine, or
     * entered at once outside coroutines.
     */
    void enterFromContext(AioContext ctx, Carrier carrier) {
        CoStack current = carrier.current;
        if (current != null) {
            ((Coroutine) current.coroutine()).queueWakeup(this);
            return;
        }
        enter(ctx);
    }

    /**
     * Has {@code action} run on this thread once the running coroutine (this one) has yielded.
     * Only the thread running this coroutine calls it, from inside it.
     *
     * @throws IllegalStateException if an action is pending already (a coSchedule of itself not
     *     yet followed by a yield); the pending one is kept
     */
    void afterYield(AfterYield action) {
        assert CoStack.current() != null && CoStack.current().coroutine() == this : this + " is not running here";
        if (afterYield != null) {
            // NOTE: the one pending action is a move to another context (coSchedule of itself):
            // replacing it would lose the move, keeping it would lose the wait's publication
            throw new IllegalStateException(this + " cannot suspend on a wait: it scheduled itself on another"
                    + " context (coSchedule) and has not yielded since; call Coroutine.yield() right after"
                    + " coSchedule, then wait there");
        }
        afterYield = action;
    }

    /**
     * Records {@code wait} as the one to cancel, before it is published. Only the thread running
     * this coroutine, from inside it (CoFrame.suspend).
     */
    void setCurrentWait(CoWait wait) {
        // NOTE: volatile: read by cancel() and TimeoutScope.expire() on any thread. Not stored
        // again when unchanged (a renewed wait, CoMutex's kept waiter): the store is a full fence
        // on x86 (8 ns a hand-off). Why the Dekker pair with cancel() still holds (JMM): cancel()
        // writes its flag, then reads currentWait, then CASes the wait's state; the publisher
        // (this thread, after the yield) CASes the state UNPUBLISHED -> PUBLISHED, then reads the
        // flag (CoWait.markPublished), all after its last write of currentWait in program order.
        // If the publisher's read misses the flag, that read comes before the flag's write in the
        // synchronization order, so cancel()'s read of currentWait comes after every write of it
        // made so far and returns this wait (written earlier, not overwritten since), and its CAS
        // comes after the publisher's CAS: it finds this generation PUBLISHED (and cancels it) or
        // already WOKEN (a hand-off won; the next wait sees the flag), or a later generation, which
        // the flag set before it cancels as rightly. Nothing needed the store to happen now; only
        // that no other wait was recorded since, which the compare checks (same thread).
        if (currentWait != wait) {
            currentWait = wait;
        }
    }

    /**
     * A suspension of this coroutine was refused because a plain frame lies between it and the
     * coroutine ({@link CoStack#crossedUninstrumented}): a wait that a runtime function below the
     * refusing frame registered ({@link CoFrame#suspend}) is dropped, never published. Without
     * this, a caller that catches the refusal and goes on would publish that wait at its next
     * yield: join a queue it no longer waits in, or release a CoMutex it still holds. Timeout
     * scopes opened below the refusing frame are closed (their deadlines would cancel later waits).
     * A move to
     * another context (coSchedule) pending from before is kept: the yield it waits for has not
     * happened. The coroutine's thread, on the error path only.
     */
    private void suspensionRefused() {
        if (afterYield instanceof CoWait wait) {
            afterYield = null;
            if (currentWait == wait) {
                currentWait = null;
            }
            wait.dropped(); // what the function did before its publication (a CoSleep's claim)
        }
        // NOTE: withTimeoutNs scopes opened below the refusing frame returned suspended and will
        // never resume: closed here, innermost first, or their deadlines would cancel later waits
        // outside them. Scopes whose frames are still on the stack (above it) stay open.
        while (timeoutScope != null && timeoutScope.suspendedOut) {
            endTimeout(timeoutScope);
        }
    }

    /** @return the wait this coroutine suspended on last, or null (any thread) */
    CoWait currentWait() {
        return currentWait;
    }

    /** @return the innermost withTimeoutNs scope in progress, or null (the coroutine's thread) */
    TimeoutScope timeoutScope() {
        return timeoutScope;
    }

    /**
     * What {@code wait} must throw instead of waiting, or null: the cancellation of the coroutine,
     * else the innermost expired timeout around the wait. Any thread.
     */
    RuntimeException cancellationFor(CoWait wait) {
        CancellationException cancellation = cancelled;
        if (cancellation != null) {
            return cancellation;
        }
        for (TimeoutScope scope = wait.scope; scope != null; scope = scope.parent) {
            CoroutineTimeoutException expired = scope.expired();
            if (expired != null) {
                return expired;
            }
        }
        return null;
    }

    /**
     * Checked before a wait suspends (CoFrame.suspend): one volatile read and one plain read when
     * nothing is cancelled and no timeout is in progress.
     *
     * @return what the wait must throw at once, or null
     */
    RuntimeException cancellationBeforeWait(CoWait wait) {
        if (!wait.cancellable || (cancelled == null && wait.scope == null)) {
            return null;
        }
        return cancellationFor(wait);
    }

    /**
     * Cancels the coroutine: its current wait, if it is in one, ends at once by throwing {@link
     * CancellationException} when the coroutine is resumed (on its own context, as any wake-up);
     * otherwise its next wait does. The flag stays set (Kotlin's semantics; QEMU has no
     * cancellation): the coroutine may catch the exception and go on, its {@code finally} blocks
     * run, but every later wait that is a cancellation point throws at once. Waits that completed
     * before the cancellation (a lock already handed over, a wake-up already delivered) are not
     * undone: the function returns normally and the next wait throws. A plain {@link #yield()} is
     * not a cancellation point, and neither are the waits' fast paths (a free lock is taken, a done
     * future is returned). Cancelling a terminated or already cancelled coroutine does nothing.
     *
     * <p>Any thread may call it, and it never throws. The cancelled coroutine is woken as {@link
     * #wake()} wakes ({@code aio_co_wake}'s rule): from another thread or context it is scheduled
     * on its own context; from a coroutine running on its context it runs after that coroutine
     * yields; called on its context's thread outside any coroutine (a bottom half, a timer or fd
     * callback, the loop's owner between polls) it runs inline, inside this call, up to its next
     * wait or its end, before {@code cancel()} returns. When its context is closed it can never run:
     * it is reported as lost (logger {@code io.aioco}, WARNING, naming it and {@code
     * Coroutine.cancel()}) and dropped, as {@link CoMutex#unlock()} does with a closed waiter.
     */
    public void cancel() {
        if (cancelled != null) {
            return;
        }
        CancellationException cancellation = new CancellationException(this + " was cancelled");
        cancelled = cancellation;
        CoWait wait = currentWait; // NOTE: after the flag: pairs with CoWait.markPublished()
        if (wait != null) {
            wait.cancel(cancellation, "Coroutine.cancel()");
        }
    }

    /**
     * Tells whether {@link #cancel()} was called on this coroutine (it stays cancelled). Any thread.
     *
     * @return true once cancelled
     */
    public boolean isCancelled() {
        return cancelled != null;
    }

    /** Called by AioContext.coSchedule: claims the "scheduled" mark, or throws naming both contexts. */
    void markScheduled(AioContext ctx) {
        AioContext previous = (AioContext) SCHEDULED.compareAndExchange(this, (AioContext) null, ctx);
        if (previous != null) {
            throw new IllegalStateException("cannot schedule " + this + " in " + ctx + ": it is already scheduled in "
                    + previous);
        }
    }

    /** Called by the context that runs a scheduled coroutine, just before entering it. */
    void clearScheduled() {
        SCHEDULED.setRelease(this, (AioContext) null);
    }

    /**
     * Called by AioContext.coSchedule when the coroutine schedules itself on another context: the
     * move happens after it yields (as QEMU's {@code aio_co_reschedule_self}), so the other
     * context's thread cannot enter it while it is still running here.
     *
     * @return true if the move was deferred this way
     */
    boolean deferMoveIfRunningHere(AioContext target) {
        CoStack current = CoStack.current();
        if (current == null || current.coroutine() != this) {
            return false;
        }
        afterYield(() -> {
            target.pushScheduled(this);
            return null;
        });
        return true;
    }

    /** Marks this coroutine as in a wake-up list, or throws if it is in one already. Its thread only. */
    private void markWakeupPending() {
        if (wakeupPending) {
            throw new IllegalStateException("cannot wake " + this + ": it was woken already and has not run yet");
        }
        wakeupPending = true;
    }

    private void queueWakeup(Coroutine woken) {
        woken.markWakeupPending();
        if (wakeupTail == null) {
            wakeupHead = woken;
        } else {
            wakeupTail.next = woken;
        }
        wakeupTail = woken;
    }

    /**
     * Suspends the running coroutine: control returns to whoever last entered it, and this call
     * returns when the coroutine is entered again. Maps to {@code qemu_coroutine_yield}.
     *
     * <p>This is the primitive suspension point that every other one reduces to. Instrumented code
     * does not even call it: the instrumenter suspends the frame in place. Called from code that is
     * not instrumented, it follows the protocol of {@link CoStack} by hand.
     *
     * <p>Not a cancellation point: a cancelled coroutine yields and is resumed as usual (its resumer
     * decides); its next cancellable wait throws.
     *
     * @throws IllegalStateException outside a coroutine, or when the calling method is not
     *     instrumented (so the suspension could not be resumed)
     */
    @CoroutineFn
    public static void yield() {
        CoStack stack = YIELD.enter();
        int arrival = YIELD.arrive(stack, Coroutine.class);
        if (arrival == CoFrame.RESUMED) {
            return; // whoever entered it decides: a plain yield has no wake-up of its own
        }
        YIELD.yieldPlain(stack, arrival);
    }

    /**
     * The context this coroutine belongs to: the one it last ran in (the current context of the
     * thread that last entered it, or the one given to {@link #enter(AioContext)}); null if none.
     *
     * @return its context, or null
     */
    public AioContext context() {
        return (AioContext) CONTEXT.getAcquire(this);
    }

    /**
     * Suspends the running coroutine for {@code ns} nanoseconds of the given clock, on a timer of
     * its context. Maps to {@code qemu_co_sleep_ns}. Deterministic on {@link ClockType#VIRTUAL}.
     *
     * <p>A cancellation point: when the coroutine is cancelled ({@link #cancel()}) or an enclosing
     * {@link #withTimeoutNs} expires, before or during the sleep, the timer is deleted and this
     * throws {@link CancellationException} (or {@link CoroutineTimeoutException}). To end a sleep
     * early without an exception use {@link CoSleep}.
     *
     * @param type the clock
     * @param ns how long to sleep; zero or less yields until the context's next poll
     * @throws IllegalStateException outside a coroutine, when the coroutine has no context, or when
     *     called from code that is not instrumented
     */
    @CoroutineFn
    public static void sleepNs(ClockType type, long ns) {
        // NOTE: arguments are checked only on the first call: a resume passes dummies
        CoStack stack = SLEEP.enter();
        int arrival = SLEEP.arrive(stack, Coroutine.class);
        if (arrival == CoFrame.RESUMED) {
            SLEEP.resume(stack);
            return;
        }
        Objects.requireNonNull(type, "type");
        Coroutine self = CoFrame.coroutine(stack);
        AioContext ctx = requireContext(self, "sleepNs");
        SLEEP.suspend(stack, arrival, new CoSleep.Wait(self, ctx, type, CoSleep.deadline(type, ns), null));
    }

    /**
     * Suspends the running coroutine until {@code channel} is readable (or acceptable). Maps to
     * {@code qio_channel_yield(ioc, G_IO_IN)} (and QEMU's older {@code yield_until_fd_readable}):
     * the coroutine becomes the channel's reader in its context, and the channel's handlers there
     * are set for whoever waits on it, so a reader and a writer ({@link #yieldUntilWritable}) on one
     * channel wait at once without replacing each other. The registration is made once the
     * coroutine has yielded.
     *
     * <p>Unlike QEMU, which sets and removes the fd handlers at every yield, the channel stays
     * registered with the context's selector from the wake-up to the end of that poll: a coroutine
     * that waits again meanwhile (a server's round trip) costs no new registration. A direction
     * (readable, writable) that becomes ready while nobody waits for it stops being watched until
     * the next wait for it (an interest change). A registration nobody waits on when the next poll
     * starts goes at that poll, whose select flushes it (so a close afterwards closes the fd at
     * once); it also goes when the context closes or {@link AioContext#setFdHandler} takes the
     * channel over. To put the channel back in blocking mode right after a wait: {@code
     * AioContext.current().setFdHandler(channel, null, null)} on the context's thread (in the
     * coroutine, a callback), or while nobody polls the context, releases it at once; from another
     * thread while the loop polls, once that loop has polled again. Every context that waited on the
     * channel holds its own registration until it polls again.
     *
     * <p>These waits own the channel's handlers in the context, as {@code qio_channel_yield} owns
     * its channel's: a handler set with {@link AioContext#setFdHandler} is replaced when a coroutine
     * starts waiting, and is not restored afterwards (once nobody waits no handler of the user's is
     * called). Do not mix the two on one channel.
     *
     * <p>Closing the channel while a coroutine waits on it does not wake that coroutine: NIO drops
     * a closed channel's registration without reporting it (as epoll drops a closed fd; in QEMU the
     * owner of a channel stops its coroutines before closing it). To end such waits, shut the
     * channel down first ({@code shutdownInput()}: the reader wakes and reads -1; {@code
     * shutdownOutput()}: the writer wakes and its write fails), or cancel them ({@link #cancel()},
     * a timeout): cancelling a waiter on a closed channel ends it normally with the exception, and
     * its registration is dropped quietly. Waiting on a channel that is closed already throws
     * {@link IllegalArgumentException}.
     *
     * <p>A cancellation point: when the coroutine is cancelled or an enclosing {@link
     * #withTimeoutNs} expires, it stops being the channel's reader and this throws {@link
     * CancellationException} (or {@link CoroutineTimeoutException}).
     *
     * @param channel the channel to wait for
     * @throws IllegalStateException outside a coroutine, when the coroutine has no context, when
     *     another coroutine waits for the channel to become readable in that context (naming it), or
     *     when called from code that is not instrumented
     * @throws IllegalArgumentException if the channel is closed
     */
    @CoroutineFn
    public static void yieldUntilReadable(SelectableChannel channel) {
        CoStack stack = READABLE.enter();
        int arrival = READABLE.arrive(stack, Coroutine.class);
        if (arrival == CoFrame.RESUMED) {
            READABLE.resume(stack);
            return;
        }
        Objects.requireNonNull(channel, "channel");
        Coroutine self = CoFrame.coroutine(stack);
        AioContext ctx = requireContext(self, "yieldUntilReadable");
        READABLE.suspend(stack, arrival, new ChannelWaiters.Wait(self, ctx, channel, false));
    }

    /**
     * Suspends the running coroutine until {@code channel} is writable (or connectable). Maps to
     * {@code qio_channel_yield(ioc, G_IO_OUT)}; see {@link #yieldUntilReadable} for how a reader and
     * a writer share the channel.
     *
     * <p>A cancellation point, as {@link #yieldUntilReadable}; a closed channel is treated as there.
     *
     * @param channel the channel to wait for
     * @throws IllegalStateException outside a coroutine, when the coroutine has no context, when
     *     another coroutine waits for the channel to become writable in that context (naming it), or
     *     when called from code that is not instrumented
     * @throws IllegalArgumentException if the channel is closed
     */
    @CoroutineFn
    public static void yieldUntilWritable(SelectableChannel channel) {
        CoStack stack = WRITABLE.enter();
        int arrival = WRITABLE.arrive(stack, Coroutine.class);
        if (arrival == CoFrame.RESUMED) {
            WRITABLE.resume(stack);
            return;
        }
        Objects.requireNonNull(channel, "channel");
        Coroutine self = CoFrame.coroutine(stack);
        AioContext ctx = requireContext(self, "yieldUntilWritable");
        WRITABLE.suspend(stack, arrival, new ChannelWaiters.Wait(self, ctx, channel, true));
    }

    /**
     * Suspends the running coroutine until {@code stage} completes, and returns its result. The
     * completion may happen on any thread: the coroutine is woken on its own context. Beyond QEMU.
     *
     * <p>A cancellation point: when the coroutine is cancelled or an enclosing {@link
     * #withTimeoutNs} expires while it waits, this throws {@link CancellationException} (or {@link
     * CoroutineTimeoutException}); the stage itself is not cancelled and its outcome is dropped. A
     * stage already complete is returned without checking for cancellation. The callback this
     * registers stays on the stage until it completes (a CompletableFuture cannot drop one), but a
     * cancelled wait's callback lets go of the coroutine, so many timed-out awaits on one long-lived
     * stage keep only small empty holders.
     *
     * @param stage what to wait for
     * @param <T> the result type
     * @return the result
     * @throws CompletionException wrapping a checked exception the stage completed with; unchecked
     *     exceptions and errors are thrown as they are
     * @throws java.util.concurrent.CancellationException if the stage was cancelled
     * @throws IllegalStateException outside a coroutine, or when called from code that is not
     *     instrumented and the stage is not complete yet
     */
    @CoroutineFn
    public static <T> T await(CompletionStage<T> stage) {
        CoStack stack = AWAIT.enter();
        int arrival = AWAIT.arrive(stack, Coroutine.class);
        if (arrival == CoFrame.RESUMED) {
            @SuppressWarnings("unchecked")
            FutureWait<T> wait = (FutureWait<T>) AWAIT.resume(stack);
            if (wait == null) {
                return null;
            }
            try {
                return FutureWait.resultOf(wait.future);
            } catch (RuntimeException | Error failure) {
                CoroutineDump.waitedHere(failure, CoFrame.coroutine(stack)); // where it waited, added
                throw failure;
            }
        }
        CompletableFuture<T> future = Objects.requireNonNull(stage, "stage").toCompletableFuture();
        if (future.isDone()) {
            return FutureWait.resultOf(future);
        }
        AWAIT.suspend(stack, arrival, new FutureWait<>(CoFrame.coroutine(stack), future));
        return null;
    }

    /**
     * Runs {@code body} in the calling coroutine with a deadline: if {@code ns} of {@code clock}
     * pass before the body returns, the wait the body is in (or its next one) is cancelled with a
     * {@link CoroutineTimeoutException}, which this rethrows. Maps to QEMU's {@code
     * qemu_co_timeout} (which runs the body in a new coroutine and returns {@code -ETIMEDOUT}) with
     * Kotlin's {@code withTimeout} semantics: the body runs in the calling coroutine, and only
     * waits inside the body are cancelled; the coroutine itself is not cancelled and goes on.
     *
     * <p>The deadline is a timer on the coroutine's context, deleted when the body ends. Once it
     * has passed, every cancellable wait of the body throws at once (the scope stays expired), so a
     * body that catches the exception cannot wait again; a body that catches it and returns
     * normally returns its value. Timeouts nest: each wait is cancelled by the innermost expired
     * scope around it, and that scope's exception is what propagates (an outer scope rethrows an
     * inner one's exception unchanged). Waits that completed before the deadline are not undone.
     * {@code withTimeoutNs} is itself a cancellation point only through the body's waits.
     *
     * <p>{@code body} is a {@link CoroutineCallable}, the same shape {@link AioContext#spawn} takes,
     * so its checked exceptions pass through.
     *
     * @param clock the clock of the deadline
     * @param ns how long the body may run; zero or less: expired from the start (the body's first
     *     wait throws)
     * @param body the code to run; it may suspend
     * @param <T> the result type
     * @return what the body returned
     * @throws CoroutineTimeoutException if the deadline passed and a wait of the body threw it
     * @throws Exception what the body threw
     * @throws IllegalStateException outside a coroutine, or when the coroutine has no context
     */
    @CoroutineFn
    @SuppressWarnings("unchecked")
    public static <T> T withTimeoutNs(ClockType clock, long ns, CoroutineCallable<T> body) throws Exception {
        CoStack stack = WITH_TIMEOUT.enter();
        int arrival = WITH_TIMEOUT.arrive(stack, Coroutine.class);
        Coroutine self = CoFrame.coroutine(stack);
        TimeoutFrame frame;
        if (arrival == CoFrame.RESUMED) {
            frame = (TimeoutFrame) WITH_TIMEOUT.popFrame(stack);
            frame.scope().suspendedOut = false;
        } else {
            Objects.requireNonNull(clock, "clock"); // only now: a resume passes dummies
            Objects.requireNonNull(body, "body");
            AioContext ctx = requireContext(self, "withTimeoutNs");
            TimeoutScope scope = new TimeoutScope(self, self.timeoutScope, "withTimeoutNs(" + clock + ", " + ns + ")");
            self.timeoutScope = scope; // NOTE: before arming: a deadline already past expires at once
            try {
                scope.arm(ctx, clock, ns);
            } catch (RuntimeException | Error e) {
                self.timeoutScope = scope.parent;
                throw e;
            }
            frame = new TimeoutFrame(scope, body);
        }
        T value;
        try {
            CoroutineCallable<?> callee = frame.body();
            WITH_TIMEOUT.callNext(stack, arrival, CALL_TOKEN, "call()Ljava/lang/Object;", callee);
            value = (T) callee.call();
        } catch (Throwable failure) {
            WITH_TIMEOUT.calleeThrew(stack);
            self.endTimeout(frame.scope());
            throw failure; // the scope's own CoroutineTimeoutException, or anything else, unchanged
        }
        boolean suspended;
        try {
            suspended = WITH_TIMEOUT.calleeSuspended(stack, arrival, frame);
        } catch (IllegalStateException refused) { // called from code that is not instrumented
            self.endTimeout(frame.scope());
            throw refused;
        }
        if (suspended) {
            frame.scope().suspendedOut = true;
            return null;
        }
        self.endTimeout(frame.scope());
        return value;
    }

    /** withTimeoutNs's saved frame: its scope, and the body to call again on resume. */
    private record TimeoutFrame(TimeoutScope scope, CoroutineCallable<?> body) {}

    /** Leaves {@code scope}, the innermost: disarms its timer. The coroutine's thread, inside it. */
    private void endTimeout(TimeoutScope scope) {
        assert timeoutScope == scope : scope + " ends but " + timeoutScope + " is the innermost";
        timeoutScope = scope.parent;
        scope.close();
    }

    static AioContext requireContext(Coroutine self, String what) {
        AioContext ctx = self.context();
        if (ctx == null) {
            throw new IllegalStateException(what + " needs an AioContext: " + self + " has none (enter it with"
                    + " enter(ctx), or from a thread that polls a context, an IOThread or the main loop)");
        }
        return ctx;
    }

    /**
     * Tells whether the calling code runs in a coroutine. Maps to {@code qemu_in_coroutine}.
     *
     * @return true inside a coroutine
     */
    public static boolean inCoroutine() {
        return CoStack.current() != null;
    }

    /**
     * The coroutine running on the calling thread. Maps to {@code qemu_coroutine_self}.
     *
     * @return the running coroutine, or null outside coroutines
     */
    public static Coroutine self() {
        CoStack stack = CoStack.current();
        return stack == null ? null : (Coroutine) stack.coroutine();
    }

    /**
     * Tells whether the coroutine is entered: it has not yielded from the {@link #enter()} that
     * runs it, so it is running or on the stack of the running coroutine. Maps to
     * {@code qemu_coroutine_entered}.
     *
     * @return true while entered
     */
    public boolean entered() {
        return state == ENTERED;
    }

    /** Whether the coroutine has yielded and not terminated (the test kit's reports, dumps). Any thread, racy. */
    boolean isSuspended() {
        return state == SUSPENDED;
    }

    /**
     * Marks the coroutine as dropped on purpose: if it becomes unreachable while suspended (nothing
     * can wake it any more: its queue, timer or handler was dropped), it is not reported as lost.
     * With the probes on ({@code -javaagent:aioco-agent.jar=probes}, or {@code -Daioco.probes=true}),
     * a suspended coroutine that becomes unreachable is otherwise logged once (logger {@code
     * io.aioco}, "lost while suspended at", with its name and suspended stack), found through
     * {@link java.lang.ref.Cleaner}; without them this call only sets the mark. It does not cancel,
     * wake or end the coroutine, and cannot be undone. QEMU has no equivalent: a QEMU coroutine
     * that is never entered again keeps its stack and is never reported. Any thread may call it, at
     * any time (before the coroutine's first run, while it runs, while it waits).
     */
    public void abandon() {
        Rare fields = rare();
        fields.abandoned = true;
        VarHandle.fullFence(); // NOTE: pairs with the first suspension's: one of the two sees the other
        CoroutineDump.Probe known = fields.probe;
        if (known != null) {
            known.abandon();
        }
    }

    /**
     * Tells whether the coroutine's entry has returned or thrown.
     *
     * @return true once terminated
     */
    public boolean isTerminated() {
        return state == TERMINATED;
    }

    // ---- for CoroutineDump (any thread, racy) ----

    /** @return its name, or null */
    String name() {
        Rare known = rare;
        return known == null ? null : known.name;
    }

    /** @return its probe (under {@link #PROBES}), else null */
    CoroutineDump.Probe probe() {
        Rare known = rare;
        return known == null ? null : known.probe;
    }

    /** @return its state as a dump shows it: CREATED, RUNNING (entered), SUSPENDED or TERMINATED */
    String stateName() {
        return switch (state) {
            case CREATED -> "CREATED";
            case ENTERED -> "RUNNING";
            case SUSPENDED -> "SUSPENDED";
            default -> "TERMINATED";
        };
    }

    /** @return the context whose scheduled list holds it, or null */
    AioContext scheduledIn() {
        return (AioContext) SCHEDULED.getAcquire(this);
    }

    /** @return its frame storage (null before its first run and after its end) */
    CoStack frames() {
        return stack;
    }

    /** @return the coroutine after it in its context's scheduled list (racy) */
    Coroutine scheduledNextForDump() {
        return scheduledNext;
    }

    @Override
    public String toString() {
        String name = name();
        return "Coroutine@" + Integer.toHexString(System.identityHashCode(this))
                + (name == null ? "" : " " + CoroutineDump.quote(name)) + "[" + entry + "]";
    }
}
