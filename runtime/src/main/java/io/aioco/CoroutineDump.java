package io.aioco;

import io.aioco.internal.AsyncStackTrace;
import io.aioco.internal.Carrier;
import io.aioco.internal.CoStack;
import io.aioco.internal.CoTables;
import java.io.IOException;
import java.lang.ref.Cleaner;
import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The coroutine dump ({@link Coroutine#dump(Appendable)}, the MBean {@code io.aioco:type=Coroutines},
 * {@code java -jar aioco-agent.jar dump PID}): the registries it reads and the text it writes.
 * Internal. No QEMU counterpart (gdb's {@code qemu coroutine} script).
 *
 * <p>What it knows: every live context (a weak list, filled as contexts are created: rare); the
 * coroutine each thread runs (the carriers); those scheduled on a context; and, under {@link
 * Coroutine#PROBES}, every coroutine that suspended and has not terminated (a weak registry filled
 * at a coroutine's first suspension, and its last run timed on a coarse clock: the only costs,
 * paid only with the option; a coroutine that ends in its first run costs nothing). Frames come from the woven classes' tables
 * ({@link CoTables}), free at run time.
 *
 * <p>Thread-safe: any thread may dump at any time; the state it reads is read racily and never
 * waited for (a coroutine running meanwhile may be shown in either state, with a stack cut short).
 */
final class CoroutineDump {
    private CoroutineDump() {}

    /** The resolution of the probes' clock: how often {@link #coarseNow} is renewed. */
    static final long CLOCK_TICK_NS = 10_000_000;

    /**
     * A coarse clock for the probes: System.nanoTime(), renewed every {@link #CLOCK_TICK_NS} by a
     * daemon thread (only under {@link Coroutine#PROBES}), so that timing a coroutine's last run
     * costs a load and a store rather than a clock read (20-25 ns a yield on the shared machine).
     */
    private static volatile long coarseNow = System.nanoTime();

    static {
        if (Coroutine.PROBES) {
            Thread ticker = new Thread(CoroutineDump::tick, "aioco-probes-clock");
            ticker.setDaemon(true);
            ticker.start();
        }
    }

    private static void tick() {
        while (true) {
            java.util.concurrent.locks.LockSupport.parkNanos(CLOCK_TICK_NS);
            coarseNow = System.nanoTime();
        }
    }

    /**
     * The registry entry of a coroutine under {@link Coroutine#PROBES}: weak, so a lost coroutine is
     * not kept. It also keeps what describes the coroutine's last suspension (its primitive slots and
     * how many slots it saved: the frames it waits in, for an async stack trace and for the report of
     * a lost coroutine) and the coroutine's label, but never the coroutine: it is the action of the
     * coroutine's {@link Cleaner} registration, which runs once the coroutine is unreachable and
     * reports it as lost unless it terminated or was abandoned ({@link Coroutine#abandon()}).
     */
    static final class Probe extends WeakReference<Coroutine> implements Runnable {
        /** When it last yielded (or was created), on the coarse clock. Written by its thread, read racily. */
        long lastRanNs = coarseNow;
        /** The coroutine as a dump names it. */
        private final String label;
        /** Its primitive slots at its last suspension (never cleared by a pop), or null. Its thread. */
        private long[] prims;
        private int primTop;
        private int refTop;
        /** {@link #LIVE_FATE}, {@link #TERMINATED} or {@link #ABANDONED}; set by any thread. */
        private volatile int fate;
        /** Its Cleaner registration: cleaned (unregistered) when it terminates. */
        private final Cleaner.Cleanable cleanable;

        Probe(Coroutine co) {
            super(co, CLEARED);
            label = label(co);
            cleanable = CLEANER.register(co, this);
        }

        /** It yielded: its thread, at the end of a run, its storage as the suspension left it. */
        void ran(CoStack stack) {
            lastRanNs = coarseNow;
            long[] slots = stack.primSlots();
            if (prims != slots) { // NOTE: the array changes only when it grows: no reference store otherwise
                prims = slots;
            }
            primTop = stack.primDepth();
            refTop = stack.refDepth();
        }

        /** It terminated: its thread. */
        void terminated() {
            fate = TERMINATED;
            LIVE.remove(this);
            prims = null;
            cleanable.clean(); // runs {@link #run()} now, which finds it terminated
        }

        /**
         * It was reported lost to its closed context (a wake-up or a hand-off that it can never run
         * for): not reported again as lost while suspended once it is collected. Any thread.
         */
        void reportedLost() {
            if (fate == LIVE_FATE) {
                fate = REPORTED;
            }
        }

        /** It was abandoned ({@link Coroutine#abandon()}): never reported as lost. Any thread. */
        void abandon() {
            if (fate == LIVE_FATE) {
                fate = ABANDONED;
            }
        }

        /** Adds to {@code failure} where the coroutine waited (an async stack trace). Its thread, resuming. */
        <T extends Throwable> T waitedHere(T failure) {
            return AsyncStackTrace.attach(failure, label, prims, primTop, refTop);
        }

        /**
         * The Cleaner's action: the coroutine is unreachable (or it terminated, through {@link
         * #terminated()}). Reported as lost when it was neither terminated nor abandoned: it was
         * suspended, and nothing can wake it any more. The Cleaner's thread; once.
         */
        @Override
        public void run() {
            LIVE.remove(this);
            if (fate != LIVE_FATE) {
                return;
            }
            StackTraceElement[] frames = CoTables.elements(prims, primTop, refTop);
            String count = LoopLog.lostWhileSuspendedCounted(java.util.Arrays.toString(frames));
            if (count == null) {
                return; // NOTE: rate-limited per stack (10, then 100th, 1000th...): counted in the next report
            }
            StringBuilder text = new StringBuilder("aioco: coroutine ").append(label)
                    .append(" lost while suspended at:");
            for (StackTraceElement frame : frames) {
                text.append("\n\tat ").append(frame);
            }
            if (frames.length == 0) {
                text.append(" (frames unknown)");
            }
            text.append("\nnothing can wake it any more (what it waited on, a queue, a timer or a handler, was"
                    + " dropped), so its finally blocks never run; if it was dropped on purpose, call"
                    + " Coroutine.abandon() on it").append(count);
            LoopLog.coroutineLostWhileSuspended(text.toString());
        }
    }

    /** {@link Probe#fate}: suspended, or running. */
    private static final int LIVE_FATE = 0;
    /** {@link Probe#fate}: its entry returned or threw. */
    private static final int TERMINATED = 1;
    /** {@link Probe#fate}: dropped on purpose ({@link Coroutine#abandon()}). */
    private static final int ABANDONED = 2;
    /** {@link Probe#fate}: already reported lost, to its closed context. */
    private static final int REPORTED = 3;

    /**
     * {@code co} was reported lost to its closed context: its probe (if any) is marked, so that it is
     * not reported lost a second time when it is collected. Any thread.
     */
    static void reportedLost(Coroutine co) {
        Probe probe = Coroutine.PROBES ? co.probe() : null;
        if (probe != null) {
            probe.reportedLost();
        }
    }

    /** Watches registered coroutines for their loss (a daemon thread of its own, started with the first). */
    private static final Cleaner CLEANER = Cleaner.create();

    /**
     * Adds to {@code failure}, an exception reaching {@code co} through the wait it suspended on,
     * where it waited (its suspended frames, as an {@link AsyncStackTrace}), when the probes know
     * them; else nothing. Only on exception paths: the coroutine's thread, as it resumes.
     *
     * @return {@code failure}
     */
    static <T extends Throwable> T waitedHere(T failure, Coroutine co) {
        if (Coroutine.PROBES && co != null) {
            Probe probe = co.probe();
            if (probe != null) {
                probe.waitedHere(failure);
            }
        }
        return failure;
    }

    private static final Set<Probe> LIVE = ConcurrentHashMap.newKeySet();
    private static final ReferenceQueue<Coroutine> CLEARED = new ReferenceQueue<>();
    /** Live contexts, oldest first. Guarded by itself. */
    private static final List<WeakReference<AioContext>> CONTEXTS = new ArrayList<>();

    /** Registers a coroutine at its first suspension (under {@link Coroutine#PROBES} only). Its thread. */
    static Probe register(Coroutine co) {
        for (Object gone; (gone = CLEARED.poll()) != null; ) {
            LIVE.remove(gone);
        }
        Probe probe = new Probe(co);
        LIVE.add(probe);
        return probe;
    }

    /**
     * Called by each new context: remembers it, and registers the MBean when none was open
     * ({@link CoroutinesMBean#wantOpen()} under {@link #CONTEXTS}, then {@link
     * CoroutinesMBean#reconcile()} outside it: the registration runs JMX notification listeners on
     * this thread, and one may take the dump, which needs {@link #CONTEXTS}). Any thread.
     */
    static void contextCreated(AioContext ctx) {
        boolean first;
        synchronized (CONTEXTS) {
            CONTEXTS.removeIf(ref -> ref.get() == null);
            CONTEXTS.add(new WeakReference<>(ctx));
            first = open++ == 0 && jmxWanted();
            if (first) {
                // NOTE: under the lock, so that a close of the last context cannot come between
                // (what is registered follows CoroutinesMBean.wanted, set in this order)
                first = mbean(true);
            }
        }
        if (first) {
            reconcileMBean();
        }
    }

    /**
     * Called by each context as it closes (once): the last one open unregisters the MBean, so that
     * the platform MBean server keeps nothing of this runtime (a redeploy collects its class loader):
     * as in {@link #contextCreated}, recorded under {@link #CONTEXTS} and done outside it. Any thread.
     */
    static void contextClosed(AioContext ctx) {
        boolean last;
        synchronized (CONTEXTS) {
            // NOTE: follows what was asked of the MBean, not the property now: aioco.jmx=false set
            // while a context is open must not leave it registered after the last close (rv12b)
            last = --open == 0 && mbeanAsked;
            if (last) {
                last = mbean(false);
            }
        }
        if (last) {
            reconcileMBean();
        }
    }

    /**
     * Whether {@link CoroutinesMBean} was ever asked for the MBean (it may be registered). Guarded
     * by {@link #CONTEXTS}.
     */
    private static boolean mbeanAsked;

    /** Under {@link #CONTEXTS}: records whether the MBean is wanted; false if JMX is not there. */
    private static boolean mbean(boolean wanted) {
        try {
            if (wanted) {
                mbeanAsked = true;
            }
            if (wanted) {
                CoroutinesMBean.wantOpen();
            } else {
                CoroutinesMBean.wantClosed();
            }
            return true;
        } catch (LinkageError | RuntimeException e) {
            // NOTE: no java.management in this runtime image (--limit-modules, jlink), or a
            // registrar thread that cannot start: the context works, without the MBean
            return false;
        }
    }

    /** Holding no lock: makes the MBean registered exactly while a context is open. */
    private static void reconcileMBean() {
        try {
            CoroutinesMBean.reconcile();
        } catch (LinkageError | RuntimeException e) {
            // NOTE: as in mbean(): the context works, without the MBean
        }
    }

    /**
     * Whether the MBean is wanted ({@code -Daioco.jmx=false} turns it off). Read here, in a class
     * that names no {@code javax.management} type, so that a runtime image without
     * java.management never loads {@link CoroutinesMBean} when it is off.
     */
    private static boolean jmxWanted() {
        return !"false".equals(System.getProperty("aioco.jmx"));
    }

    /** Contexts created and not closed yet. Guarded by {@link #CONTEXTS}. */
    private static int open;

    static List<AioContext> contexts() {
        List<AioContext> out = new ArrayList<>();
        synchronized (CONTEXTS) {
            for (WeakReference<AioContext> ref : CONTEXTS) {
                AioContext ctx = ref.get();
                if (ctx != null && !ctx.isClosed()) {
                    out.add(ctx);
                }
            }
        }
        return out;
    }

    /** What a dump says about one coroutine. */
    private record Info(Coroutine co, String state, Thread thread, String waitsOn, List<Coroutine> holders,
            List<String> frames, String note, CoWait coWait, int stamp) {
        Info(Coroutine co, String state, Thread thread, String waitsOn, List<Coroutine> holders,
                List<String> frames, String note) {
            this(co, state, thread, waitsOn, holders, frames, note, null, 0);
        }
    }

    /**
     * What the dump keeps of each coroutine until it writes it: its rank for the order and its edge
     * for the deadlock report, no text (a dump of 100k coroutines must not hold their text at once).
     */
    private record Node(Thread runningOn, int rank, List<Coroutine> holders, CoWait coWait, int stamp) {
        static Node of(Info info, Thread runningOn) {
            return new Node(runningOn, CoroutineDump.rank(info.state()), info.holders(), info.coWait(), info.stamp());
        }
    }

    /**
     * @param limit how many coroutines the listing shows in full; the rest are counted on one line
     * @return the dump's text (for the MBean, which must not build a text of 100k coroutines in the
     *     target at once). Any thread.
     */
    static String text(int limit) {
        StringBuilder out = new StringBuilder();
        try {
            write(out, limit);
        } catch (IOException impossible) {
            throw new java.io.UncheckedIOException(impossible); // NOTE: a StringBuilder never throws
        }
        return out.toString();
    }

    /**
     * Writes the dump to {@code out} as it goes, coroutine by coroutine: what it keeps meanwhile is
     * the list of coroutines with their order and their edges (who holds what each waits for), never
     * the text. Any thread.
     *
     * @throws IOException what {@code out} throws
     */
    static void write(Appendable out) throws IOException {
        write(out, Integer.MAX_VALUE);
    }

    /** What the listing says after its first {@code limit} coroutines, before their count and after it. */
    static final String MORE = "... ";
    static final String MORE_END = " more coroutines: use `java -jar aioco-agent.jar dump PID` for all";

    /** {@link #write(Appendable)}, with the listing cut after {@code limit} coroutines (counted on one line). */
    static void write(Appendable out, int limit) throws IOException {
        long now = System.nanoTime();
        // NOTE: the threads come from their carriers (kept weakly), never from Thread.getAllStackTraces(): a
        // safepoint walking every thread's stack, which would freeze every loop for the dump's thread names
        Map<Coroutine, Node> nodes = new IdentityHashMap<>();
        List<Coroutine> order = new ArrayList<>();
        List<AioContext> contexts = contexts();
        Set<Carrier> carriers = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        carriers.addAll(CoStack.knownCarriers());
        for (AioContext ctx : contexts) {
            Carrier loop = ctx.loopCarrier; // NOTE: a loop thread whose cache slot another thread took
            if (loop != null) {
                carriers.add(loop);
            }
        }
        for (Carrier carrier : carriers) {
            Thread thread = carrier.thread();
            if (thread == null || !thread.isAlive()) {
                continue;
            }
            CoStack current = carrier.current;
            Coroutine co = current == null ? null : (Coroutine) current.coroutine();
            if (co != null && !nodes.containsKey(co)) {
                Thread runningOn = carrier.thread();
                nodes.put(co, Node.of(info(co, runningOn), runningOn));
                order.add(co);
            }
        }
        for (AioContext ctx : contexts) {
            for (Coroutine co : ctx.scheduledForDump()) {
                if (!nodes.containsKey(co)) {
                    nodes.put(co, Node.of(info(co, null), null));
                    order.add(co);
                }
            }
        }
        if (Coroutine.PROBES) {
            for (Probe probe : LIVE) {
                Coroutine co = probe.get();
                if (co != null && !co.isTerminated() && !nodes.containsKey(co)) {
                    nodes.put(co, Node.of(info(co, null), null));
                    order.add(co);
                }
            }
        }
        order.sort(Comparator.comparingInt((Coroutine co) -> nodes.get(co).rank())
                .thenComparing(co -> co.name() == null ? "\uffff" : co.name())
                .thenComparingInt(System::identityHashCode));

        out.append("aioco coroutine dump ").append(Instant.now().toString()).append('\n');
        out.append(Coroutine.PROBES ? "(probes on: every live coroutine)\n"
                : "(probes off: the running and scheduled coroutines only; -javaagent:aioco-agent.jar=probes lists"
                        + " every live one)\n");
        out.append('\n');

        List<List<Info>> deadlocks = deadlocks(order, nodes);
        for (List<Info> infos : deadlocks) {
            out.append("Found a coroutine deadlock:\n");
            out.append("===========================\n");
            for (Info info : infos) {
                out.append(label(info.co())).append(":\n");
                out.append("  waiting for ").append(escapeControls(String.valueOf(info.waitsOn()))).append('\n');
                TimeoutScope scope = info.coWait() == null ? null : info.coWait().scope;
                String remaining = scope == null ? null : scope.remainingForDump();
                if (remaining != null) {
                    // NOTE: the timeout cancels this wait, which ends the deadlock (as a cancellation of
                    // any member would): still reported, as it is stuck until then
                    out.append("  (a withTimeoutNs deadline cancels this wait ").append(remaining)
                            .append(", which ends the deadlock)\n");
                }
            }
            out.append('\n');
            out.append("Stacks of the coroutines listed above:\n");
            out.append("======================================\n");
            for (Info info : infos) {
                appendCoroutine(out, info, now);
            }
        }
        if (!deadlocks.isEmpty()) {
            out.append("Found ").append(Integer.toString(deadlocks.size()))
                    .append(deadlocks.size() == 1 ? " deadlock.\n\n" : " deadlocks.\n\n");
        }

        out.append("Contexts:\n");
        for (AioContext ctx : contexts) {
            int coroutines = 0;
            for (Coroutine co : order) {
                if (co.context() == ctx) {
                    coroutines++;
                }
            }
            Thread thread = ctx.loopThreadForDump();
            out.append("  ").append(quote(ctx.toString())).append(" thread=")
                    .append(thread == null ? "none" : quote(thread.getName()))
                    .append(": bottom halves pending ").append(Integer.toString(ctx.pendingBottomHalvesForDump()))
                    .append(", timers ").append(Integer.toString(ctx.timersForDump()))
                    .append(", fd handlers ").append(Integer.toString(ctx.handlersForDump()))
                    .append(", coroutines ").append(Integer.toString(coroutines))
                    .append(" (scheduled ").append(Integer.toString(ctx.scheduledForDump().size())).append(")\n");
        }
        out.append('\n');
        out.append("Coroutines: ").append(Integer.toString(order.size())).append('\n').append('\n');
        int written = 0;
        for (Coroutine co : order) {
            if (written == limit) {
                out.append(MORE).append(Integer.toString(order.size() - written)).append(MORE_END).append('\n');
                break;
            }
            appendCoroutine(out, info(co, nodes.get(co).runningOn()), now);
            written++;
        }
    }

    /**
     * Writes one coroutine as {@link #write} shows it: its label, context and thread, state and
     * wait, and its suspended stack, innermost first, then an empty line. For the test kit's leak
     * and deadlock reports (through {@link io.aioco.internal.TestAccess#dump}). Any thread; {@code
     * co} is read racily, as the whole dump reads it.
     *
     * @throws IOException what {@code out} throws
     */
    static void writeOne(Appendable out, Coroutine co) throws IOException {
        appendCoroutine(out, info(co, null), System.nanoTime());
    }

    private static int rank(String state) {
        return switch (state) {
            case "RUNNING" -> 0;
            case "SCHEDULED" -> 1;
            case "SUSPENDED" -> 2;
            default -> 3;
        };
    }

    private static void appendCoroutine(Appendable out, Info info, long now) throws IOException {
        Coroutine co = info.co();
        out.append(label(co));
        AioContext ctx = co.context();
        out.append(" context=").append(ctx == null ? "none" : quote(ctx.toString()));
        Thread thread = info.thread() != null ? info.thread() : ctx == null ? null : ctx.loopThreadForDump();
        out.append(" thread=").append(thread == null ? "none" : quote(thread.getName()));
        Probe probe = co.probe();
        if (probe != null && !info.state().equals("RUNNING")) {
            long since = now - probe.lastRanNs;
            out.append(" last ran ").append(since < CLOCK_TICK_NS ? "< 10 ms" : duration(since)).append(" ago");
        }
        out.append('\n');
        out.append("   state: ").append(info.state());
        if (info.waitsOn() != null) {
            out.append(", waiting for ").append(escapeControls(info.waitsOn()));
        }
        out.append('\n');
        for (String frame : info.frames()) {
            out.append("\tat ").append(frame).append('\n');
        }
        if (info.note() != null) {
            out.append("\t- ").append(escapeControls(info.note())).append('\n');
        }
        out.append('\n');
    }

    private static Info info(Coroutine co, Thread runningOn) {
        String state = co.stateName();
        if (state.equals("RUNNING") || runningOn != null) {
            return new Info(co, "RUNNING", runningOn, null, List.of(), List.of(),
                    runningOn == null ? "entered: on the stack of the running coroutine"
                            : "running: its stack is that of thread " + quote(runningOn.getName()));
        }
        List<String> frames = List.of();
        String note = null;
        Object saved = null;
        CoStack stack = co.frames();
        if (stack != null && co.isSuspended()) {
            try {
                CoTables.Frames described = CoTables.describe(stack, co.entryFrameForDump());
                frames = described.elements();
                note = described.note();
                saved = described.innermostSaved();
            } catch (RuntimeException racing) {
                note = "its frames changed while being read (it ran meanwhile)";
            }
        }
        AioContext home = co.context();
        if (home != null && home.isClosed() && co.isSuspended()) {
            // NOTE: neither scheduled nor waiting: a closed context never runs it (its wake-ups are lost)
            return new Info(co, state, null, "nothing: its context " + quote(home.toString())
                    + " is closed: it can never run", List.of(), frames, note);
        }
        AioContext scheduled = co.scheduledIn();
        if (scheduled != null) {
            return new Info(co, "SCHEDULED", null, "its turn in " + quote(scheduled.toString())
                    + " (woken, not entered yet)", List.of(), frames, note);
        }
        if (!co.isSuspended()) {
            return new Info(co, state, null, null, List.of(), frames, note);
        }
        CoWait wait = saved instanceof CoWait savedWait ? savedWait : null;
        boolean plainYield = !frames.isEmpty() && frames.get(0).startsWith("io.aioco.Coroutine.yield(");
        if (wait == null && !plainYield && note != null) {
            CoWait current = co.currentWait();
            wait = current != null && current.coroutine == co ? current : null;
        }
        int stamp = wait == null ? 0 : wait.stampForDump(); // NOTE: before the holders: see verified()
        if (wait == null || CoWait.isDoneStamp(stamp)) {
            return new Info(co, state, null, plainYield || wait == null
                    ? "a plain yield (Coroutine.yield(): whoever enters it next resumes it)"
                    : "its turn to run (its wait ended)", List.of(), frames, note);
        }
        String what;
        Coroutine holder;
        List<Coroutine> holders;
        try {
            what = wait.describeForDump();
            holder = wait.holder();
            holders = wait.holders();
        } catch (RuntimeException racing) {
            what = wait.describe();
            holder = null;
            holders = List.of();
        }
        if (holder != null) {
            // NOTE: itself: a writer asking for its CoRwLock again; the deadlock report shows it as a
            // cycle of one (the waits never name their own coroutine otherwise)
            what = what + ", held by " + label(holder) + (holder == co ? " (itself)" : "");
        }
        if (wait.stampForDump() != stamp) {
            holders = List.of(); // NOTE: the wait ended or was renewed while read: no edge read across it
        }
        return new Info(co, state, null, what, holders, frames, note, wait, stamp);
    }

    /**
     * Cycles of coroutines each waiting for a lock the next holds, found by a depth-first search of
     * the wait-for graph (a coroutine's edges: the holders of what it waits for; a writer waiting
     * for a {@link CoRwLock} has one edge per reader). Every wait is an AND wait (it ends only when
     * all its holders have moved), so any cycle is a deadlock. A cycle sharing a coroutine with one
     * reported already is not reported again. Iterative: a chain of 100k waits does not overflow
     * the stack. Only a cycle that {@link #verified} holds is reported (the edges were read at
     * different moments).
     *
     * @return each cycle as its coroutines' descriptions, read when it was verified
     */
    private static List<List<Info>> deadlocks(List<Coroutine> order, Map<Coroutine, Node> nodes) {
        List<List<Info>> cycles = new ArrayList<>();
        Map<Coroutine, Boolean> done = new IdentityHashMap<>(); // searched from (black)
        Map<Coroutine, Boolean> inCycle = new IdentityHashMap<>();
        for (Coroutine start : order) {
            if (done.containsKey(start)) {
                continue;
            }
            Map<Coroutine, Integer> onPath = new IdentityHashMap<>(); // grey: its index in path
            List<Coroutine> path = new ArrayList<>();
            List<Integer> nextEdge = new ArrayList<>();
            onPath.put(start, 0);
            path.add(start);
            nextEdge.add(0);
            while (!path.isEmpty()) {
                int top = path.size() - 1;
                Coroutine co = path.get(top);
                List<Coroutine> edges = nodes.computeIfAbsent(co, c -> Node.of(info(c, null), null)).holders();
                int edge = nextEdge.get(top);
                if (edge == edges.size()) {
                    onPath.remove(co);
                    done.put(co, Boolean.TRUE);
                    path.remove(top);
                    nextEdge.remove(top);
                    continue;
                }
                nextEdge.set(top, edge + 1);
                Coroutine next = edges.get(edge);
                Integer at = onPath.get(next);
                if (at != null) {
                    List<Coroutine> cycle = new ArrayList<>(path.subList(at, path.size()));
                    boolean fresh = true;
                    for (Coroutine member : cycle) {
                        fresh &= !inCycle.containsKey(member);
                    }
                    List<Info> infos = fresh ? verified(cycle, nodes) : null;
                    if (infos != null) {
                        cycles.add(infos);
                        for (Coroutine member : cycle) {
                            inCycle.put(member, Boolean.TRUE);
                        }
                    }
                } else if (!done.containsKey(next)) {
                    onPath.put(next, path.size());
                    path.add(next);
                    nextEdge.add(0);
                }
            }
        }
        return cycles;
    }

    /**
     * Checks that a cycle found in the wait-for graph is a deadlock: the graph's edges were read one
     * coroutine at a time while the coroutines ran, so edges of different moments can join into a
     * cycle that never existed (a lock changing hands between two reads). Each member is read again,
     * twice, in the cycle's order: each time it must be suspended on the same wait as when the graph
     * was read, in the same generation and not ended ({@link CoWait#stampForDump()}), and the next
     * member must still be among its wait's holders. Then, at any moment between the two passes,
     * every member was waiting, and (a suspended coroutine neither takes nor gives up a lock: a lock
     * changes hands only by its holder running or by a waiter's wait completing) each held what
     * the previous one waits for: a deadlock, which nothing but a cancellation or a timeout ends.
     * A true deadlock always passes (nothing of it moves). Any thread; never waits.
     *
     * @return the members' descriptions from the second pass, or null if the cycle does not hold
     */
    private static List<Info> verified(List<Coroutine> cycle, Map<Coroutine, Node> nodes) {
        List<Info> infos = null;
        for (int pass = 0; pass < 2; pass++) {
            infos = new ArrayList<>(cycle.size());
            for (int i = 0; i < cycle.size(); i++) {
                Coroutine co = cycle.get(i);
                Node node = nodes.get(co);
                Info info = info(co, null);
                if (node.coWait() == null || info.coWait() != node.coWait() || info.stamp() != node.stamp()
                        || !info.state().equals("SUSPENDED")
                        || !containsSame(info.holders(), cycle.get((i + 1) % cycle.size()))) {
                    return null;
                }
                infos.add(info);
            }
        }
        return infos;
    }

    private static boolean containsSame(List<Coroutine> list, Coroutine co) {
        for (Coroutine each : list) {
            if (each == co) {
                return true;
            }
        }
        return false;
    }

    /** @return {@code co} as the dump names it: {@code "name" Coroutine@hex}, or {@code Coroutine@hex}. Any thread. */
    static String label(Coroutine co) {
        String id = "Coroutine@" + Integer.toHexString(System.identityHashCode(co));
        return co.name() == null ? id : quote(co.name()) + " " + id;
    }

    /**
     * {@code text} in double quotes, escaped as a Java string literal would be (backslash, double
     * quote, line breaks, tab, and as unicode escapes: other C0 and C1 controls, DEL, the line and
     * paragraph separators, the bidi embeddings, overrides and isolates U+202A-U+202E and
     * U+2066-U+2069, and unpaired surrogates), so that a name cannot forge lines of a dump, a report
     * or a log line, reorder what a terminal shows, or make the text unencodable (an unpaired
     * surrogate fails a strict UTF-8 encoder). Any thread.
     */
    static String quote(String text) {
        return escape(text, true);
    }

    /**
     * {@code text} with what {@link #quote} escapes as unicode escapes and line breaks and tabs as
     * {@code \n}, {@code \r}, {@code \t}, but its quotes and backslashes kept: for free text made
     * of names (a wait's description, which names its context), whose names are not quoted. Any thread.
     */
    static String escapeControls(String text) {
        return escape(text, false);
    }

    private static String escape(String text, boolean quoted) {
        StringBuilder out = new StringBuilder(text.length() + 2);
        if (quoted) {
            out.append('"');
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '\\' -> out.append(quoted ? "\\\\" : "\\");
                case '"' -> out.append(quoted ? "\\\"" : "\"");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isHighSurrogate(c) && i + 1 < text.length()
                            && Character.isLowSurrogate(text.charAt(i + 1))) {
                        out.append(c).append(text.charAt(++i)); // NOTE: a pair: one character, kept
                    } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029'
                            || (c >= '\u202a' && c <= '\u202e') || (c >= '\u2066' && c <= '\u2069')
                            || Character.isSurrogate(c)) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return quoted ? out.append('"').toString() : out.toString();
    }

    /** @return {@code ns} as a short human duration: ns, us, ms or s with one decimal */
    static String duration(long ns) {
        if (ns < 1_000) {
            return ns + " ns";
        }
        if (ns < 1_000_000) {
            return String.format("%.1f us", ns / 1e3);
        }
        if (ns < 1_000_000_000) {
            return String.format("%.1f ms", ns / 1e6);
        }
        return String.format("%.1f s", ns / 1e9);
    }
}
