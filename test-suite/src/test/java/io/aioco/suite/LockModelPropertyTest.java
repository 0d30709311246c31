package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.CoMutex;
import io.aioco.CoQueue;
import io.aioco.CoRwLock;
import io.aioco.Coroutine;
import io.aioco.CoroutineCallable;
import io.aioco.CoroutineFn;
import io.aioco.CoroutineTimeoutException;
import io.aioco.Timer;
import io.aioco.testing.TriesFromProperty;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CancellationException;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;

/**
 * Random interleavings of CoMutex, CoRwLock and CoQueue operations across several coroutines,
 * checked against a simple model: mutual exclusion (one mutex holder; one writer or many readers),
 * first-come first-served among the requests that had to wait, no lost wake-up, every coroutine
 * finishes. Coroutines are driven by hand from one thread, as in QEMU's test-coroutine.c, by a
 * scheduler that picks among the coroutines that yielded of their own accord with a seeded random.
 * Issue 16: the scheduler also cancels coroutines at random ({@link Coroutine#cancel()}), whether
 * they wait or run; a wait that throws CancellationException skips its critical section. The
 * invariants hold among the waiters that were not cancelled, and no lock or wake-up is lost to a
 * cancelled one.
 *
 * <p>Issue 16 item 4: timeouts too. The TIMED_ ops wait for the mutex, a read or write lock or the
 * queue inside {@code Coroutine.withTimeoutNs(VIRTUAL, timeoutNs)}; the VIRTUAL clock is paused and
 * one of the scheduler's random steps moves it by 1 ns and polls the context, whose timers end the
 * waits whose deadline passed (CoroutineTimeoutException; the coroutine is not cancelled and goes
 * on with its script). The scheduler runs inside that context's poll, so the coroutines belong to
 * it and wake-ups stay inline as before. Extra checks: a wait whose deadline passed has ended once
 * the timers ran (no lost timeout), a timeout comes only from a timed wait of a coroutine not
 * cancelled and a plain cancellation only from a cancelled one, and a read or write request made
 * while the rwlock is free for it is granted at once (a timed-out waiter left in the queue would
 * hold it back). A timed wait's deadline is an event of the model too (a timer of the test's
 * fires just before the deadline's own, see lockWait): a withdrawal it causes may grant a request
 * made in the same clock move, which did wait. Mutations caught: the timeout's cancellation not withdrawing the wait from its
 * lock's queue ({@code CoWait.finishCancel} skipping {@code withdraw()} for a
 * CoroutineTimeoutException: "waited for a free rwlock"), and {@code TimeoutScope.expire()} not
 * cancelling the wait ("still waits past its deadline"). Not reachable by this driver: a deadline
 * that passes after a hand-off completed but before the new holder ran (the woken coroutine runs
 * inside the same step as its waker, so a timer never fires in between).
 *
 * <p>The queue is modelled too: {@code next()} and the driver's {@code enterNext} must wake a
 * waiter exactly when the model has one queued, and the one the model expects (FIFO; a cancelled
 * waiter leaves the model's queue at once), so the driver's wake-ups from outside cannot make up
 * for a wake-up lost inside the scripts. Coroutines also wait in the queue holding the mutex
 * ({@code await(mutex)}: released while queued, held again when it returns or throws).
 *
 * <p>jqwik statistics that CI checks say the checks had something to check: a lock request waited
 * in at least {@link #MIN_CONTENDED_PERCENT}% of tries, and a cancelled waiter, a queue wake-up and
 * an await with the mutex held each happen in at least {@link #MIN_OTHER_PERCENT}%, a timed-out wait
 * in at least {@link #MIN_TIMED_OUT_PERCENT}%. Mutation
 * caught (and missed by the earlier version, whose driver woke queue waiters whenever nothing could
 * run): {@code CoQueue.next()} waking nobody.
 */
class LockModelPropertyTest {

    /** One step of a coroutine's script; critical sections are balanced so every script can finish. */
    enum Op {
        MUTEX, READ, WRITE, UPGRADE, DOWNGRADE, WAIT, WAIT_LOCKED, WAKE, WAKE_ALL, YIELD,
        /** As MUTEX, READ, WRITE, WAIT, with the wait inside {@code withTimeoutNs(VIRTUAL, timeoutNs)}. */
        TIMED_MUTEX, TIMED_READ, TIMED_WRITE, TIMED_WAIT
    }

    /**
     * A script per coroutine, how many yields inside each critical section, the scheduler's seed,
     * the chance (percent) that a scheduling step first cancels a random coroutine, the deadline
     * of the timed waits (VIRTUAL ns), and the chance (percent) that a scheduling step moves the
     * paused VIRTUAL clock by 1 ns and runs the timers that came due.
     */
    record Scenario(List<List<Op>> scripts, int yieldsInside, long seed, int cancelPercent, int timeoutNs,
            int advancePercent) {}

    @Provide
    Arbitrary<Scenario> scenarios() {
        Arbitrary<List<Op>> script = Arbitraries.of(Op.class).list().ofMinSize(1).ofMaxSize(8);
        // critical sections that suspend make the contention the checks need; none at all is rarer
        Arbitrary<Integer> yieldsInside = Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(0)),
                Tuple.of(6, Arbitraries.integers().between(1, 3)));
        return Combinators.combine(script.list().ofMinSize(2).ofMaxSize(6), yieldsInside,
                Arbitraries.longs(), Arbitraries.integers().between(0, 15), Arbitraries.integers().between(1, 4),
                Arbitraries.integers().between(0, 40)).as(Scenario::new);
    }

    /** Everything the coroutines do and observe, and the model's counters. */
    private static final class World {
        final CoMutex mutex = new CoMutex();
        final CoRwLock rwlock = new CoRwLock();
        final CoQueue queue = new CoQueue();
        final List<String> violations = new ArrayList<>();
        final List<String> events = new ArrayList<>();
        final Map<Coroutine, Boolean> ready = new HashMap<>();
        int mutexHolders;
        int readers;
        int writers;
        int waitersInQueue;
        // the queue as the model sees it: waiters no wake-up has reached yet, in queue order. next()
        // must wake the first exactly when there is one (waking nobody loses a wake-up, waking
        // another breaks FIFO); a cancellation of a queued waiter takes it out at once
        final List<Coroutine> queued = new ArrayList<>();
        // what the run exercised, for the statistics CI checks
        boolean awaitedHoldingMutex;
        boolean cancelledAWaiter;
        boolean wokeAWaiter;
        boolean aWaitTimedOut;
        int yieldsInside;
        int timeoutNs;
        // the context the scheduler runs in: the timed waits' deadline events are its timers
        AioContext ctx;
        // the VIRTUAL deadline of each timed request still pending (made, neither granted nor
        // ended by an exception): once the clock has passed it and the timers ran, the wait must
        // have ended (no timeout lost, none late)
        final Map<Coroutine, Long> deadlines = new HashMap<>();
        // requests that had to wait, in the order they were made, and in the order they were granted
        final List<String> waitedMutex = new ArrayList<>();
        final List<String> grantedMutex = new ArrayList<>();
        final List<String> waitedRw = new ArrayList<>();
        final List<String> grantedRw = new ArrayList<>();
        int sequence;
        // requests made and not yet running with the lock, by who made them. A mutex or write request
        // granted at once while any of them is pending barged in (a pending one is queued, or was
        // handed the lock and holds it, so nothing could have been free); a read request granted at
        // once while a writer is pending barged past a queued writer (readers pending may already
        // share the lock). A cancelled coroutine's request does not count: it left the queue when
        // cancel() returned, though its catch block (which removes it here) may run later, and its
        // cancellation stays set, so none of its later waits queues either. A timed-out request
        // (its coroutine is not cancelled) leaves these lists in its catch block, which runs inside
        // the timer's callback, before the scheduler's next step: the coroutines run in the
        // context's own poll, so the timer's wake-up enters the waiter at once (aio_co_wake's rule).
        // The waiters that the withdrawal itself grants (readers behind a timed-out writer) run
        // before that catch block: the deadline is an event (World.sequence, see lockWait), so they
        // count as having waited, and the barging checks look at what was pending when they made
        // their request.
        final List<Coroutine> pendingMutex = new ArrayList<>();
        final List<Coroutine> pendingReaders = new ArrayList<>();
        final List<Coroutine> pendingWriters = new ArrayList<>();

        static int live(List<Coroutine> pending) {
            return (int) pending.stream().filter(co -> !co.isCancelled()).count();
        }

        /** Writers pending that a new read request must queue behind. */
        int writersAheadOfAReader() {
            return live(pendingWriters);
        }

        void check() {
            if (mutexHolders > 1) {
                violations.add("two mutex holders");
            }
            if (writers > 1 || (writers == 1 && readers > 0)) {
                violations.add("rwlock: " + writers + " writers with " + readers + " readers");
            }
        }
    }

    @CoroutineFn
    private static void voluntaryYield(World world) {
        world.ready.put(Coroutine.self(), true);
        Coroutine.yield();
        world.ready.put(Coroutine.self(), false);
    }

    /**
     * Runs one lock or queue wait; a timed one inside {@code withTimeoutNs(VIRTUAL, timeoutNs)},
     * with its deadline in the model until it returns or throws. A CancellationException (a
     * CoroutineTimeoutException included) propagates.
     *
     * <p>The deadline is an event of the model (World.sequence), as a cancellation is: a timer
     * armed for the same instant just before withTimeoutNs arms its own, so it fires right before
     * the scope's (timers of one clock fire in deadline order, equal deadlines in arming order:
     * {@link Timer}). Why the clock's move is not event enough (the fresh-seed scenario, see
     * {@link #aReaderQueuedBehindAWriterWhoseDeadlineIsDueIsGrantedByItsTimeout()}): two deadlines
     * fall due in one move; the first timer ends c4's wait and runs c4 inline (aio_co_wake's rule
     * outside coroutines), and c4 asks for a read lock while writer c1, whose own timer has not
     * run yet, is still queued. c4 rightly queues behind c1 (qemu_co_rwlock_rdlock waits behind a
     * queued writer), and the second timer withdraws c1, whose withdrawal grants c4 ("a ticket
     * leaves the queue, letting in the readers it held back": CoRwLock.wrlock; docs/API.md: a
     * passed deadline makes the current wait throw, and "a cancellation that came first passes
     * the hand-off on to the next waiter"). c4 runs inside
     * that withdrawal, before c1's catch block: without this event nothing of the model's happened
     * between c4's request and its grant, and the model took a queued-then-granted reader for one
     * that barged past c1. The event only marks a wait that really suspended (a request granted
     * on its fast path does not yield, so no timer runs in between): the barging checks keep
     * their strength.
     */
    @CoroutineFn
    private static void lockWait(World world, String name, boolean timed, CoroutineCallable<Object> wait) {
        if (!timed) {
            callUnchecked(wait);
            return;
        }
        long deadline = ClockType.VIRTUAL.nowNs() + world.timeoutNs;
        world.deadlines.put(Coroutine.self(), deadline);
        Timer deadlineEvent = world.ctx.newTimer(ClockType.VIRTUAL, () -> {
            world.events.add(name + " deadline");
            world.sequence++;
        });
        deadlineEvent.modNs(deadline);
        try {
            Coroutine.withTimeoutNs(ClockType.VIRTUAL, world.timeoutNs, wait);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        } finally {
            deadlineEvent.del();
            world.deadlines.remove(Coroutine.self());
        }
    }

    @CoroutineFn
    private static void callUnchecked(CoroutineCallable<Object> wait) {
        try {
            wait.call();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @CoroutineFn
    private static void inside(World world) {
        for (int i = 0; i < world.yieldsInside; i++) {
            voluntaryYield(world);
            world.check();
        }
    }

    /**
     * Records a request; returns its sequence number. A request "waited" if anything else happened
     * between the request and its grant (the single-threaded scheduler makes that exact).
     */
    private static int request(World world) {
        return world.sequence++;
    }

    private static boolean waited(World world, int requestSequence) {
        return world.sequence != requestSequence + 1;
    }

    @CoroutineFn
    private static void run(World world, String name, List<Op> script) {
        for (Op op : script) {
            world.events.add(name + " " + op);
            switch (op) {
                case MUTEX, TIMED_MUTEX -> {
                    if (!takeMutex(world, name, op)) {
                        continue;
                    }
                    inside(world);
                    world.mutexHolders--;
                    world.mutex.unlock();
                }
                case READ, TIMED_READ -> {
                    if (!takeRead(world, name, op)) {
                        continue;
                    }
                    inside(world);
                    world.readers--;
                    world.rwlock.unlock();
                }
                case WRITE, TIMED_WRITE, DOWNGRADE -> {
                    int at = request(world);
                    int waitingBefore = World.live(world.pendingReaders) + World.live(world.pendingWriters);
                    boolean free = world.pendingReaders.isEmpty() && world.pendingWriters.isEmpty() && world.readers == 0
                            && world.writers == 0;
                    world.pendingWriters.add(Coroutine.self());
                    try {
                        lockWait(world, name, op == Op.TIMED_WRITE, () -> {
                            world.rwlock.wrlock();
                            return null;
                        });
                    } catch (CancellationException e) {
                        world.pendingWriters.remove(Coroutine.self());
                        cancelled(world, name, op, e);
                        continue;
                    }
                    world.pendingWriters.remove(Coroutine.self());
                    noteBarging(world, name + "#" + at, at, waitingBefore);
                    noteNeedlessWait(world, name + "#" + at, at, free);
                    noteRw(world, name + "#" + at + "W", at);
                    world.writers++;
                    world.check();
                    inside(world);
                    if (op == Op.DOWNGRADE) {
                        world.rwlock.downgrade(); // never blocks
                        world.writers--;
                        world.readers++;
                        world.check();
                        inside(world);
                        world.readers--;
                    } else {
                        world.writers--;
                    }
                    world.rwlock.unlock();
                }
                case UPGRADE -> {
                    if (!takeRead(world, name, op)) {
                        continue;
                    }
                    inside(world);
                    world.readers--;
                    int upgradeAt = request(world);
                    int waitingBeforeUpgrade = World.live(world.pendingReaders) + World.live(world.pendingWriters);
                    world.pendingWriters.add(Coroutine.self());
                    try {
                        world.rwlock.upgrade();
                    } catch (CancellationException e) {
                        // a cancelled upgrade holds its read lock again
                        world.pendingWriters.remove(Coroutine.self());
                        cancelled(world, name, op, e);
                        world.readers++;
                        world.check();
                        world.readers--;
                        world.rwlock.unlock();
                        continue;
                    }
                    world.pendingWriters.remove(Coroutine.self());
                    noteBarging(world, name + "#" + upgradeAt, upgradeAt, waitingBeforeUpgrade);
                    noteRw(world, name + "#" + upgradeAt + "W", upgradeAt);
                    world.writers++;
                    world.check();
                    inside(world);
                    world.writers--;
                    world.rwlock.unlock();
                }
                case WAIT, TIMED_WAIT -> {
                    // (the order in which woken waiters run is not FIFO, nor in QEMU: a coroutine
                    // woken by one that was itself just woken runs first, as QEMU prepends the
                    // wakeups of the coroutine that just yielded; next()'s answer is checked instead)
                    world.waitersInQueue++;
                    world.queued.add(Coroutine.self());
                    try {
                        lockWait(world, name, op == Op.TIMED_WAIT, () -> {
                            world.queue.await(null);
                            return null;
                        });
                        checkWokenInTurn(world, name);
                    } catch (CancellationException e) {
                        leftQueue(world, name, op, e);
                    }
                    world.waitersInQueue--;
                }
                case WAIT_LOCKED -> {
                    // qemu_co_queue_wait with a lock: the mutex is released while queued and held
                    // again when await returns, normally or by throwing
                    if (!takeMutex(world, name, op)) {
                        continue;
                    }
                    world.mutexHolders--;
                    world.waitersInQueue++;
                    world.queued.add(Coroutine.self());
                    world.awaitedHoldingMutex = true;
                    try {
                        world.queue.await(world.mutex);
                        checkWokenInTurn(world, name);
                    } catch (CancellationException e) {
                        leftQueue(world, name, op, e);
                    }
                    world.waitersInQueue--;
                    if (!world.mutex.isLocked()) {
                        world.violations.add(name + " returned from await(mutex) without the mutex");
                    }
                    world.mutexHolders++;
                    world.check();
                    world.mutexHolders--;
                    world.mutex.unlock();
                }
                case WAKE -> {
                    boolean expected = !world.queued.isEmpty();
                    boolean woke = world.queue.next();
                    if (woke != expected) {
                        world.violations.add(name + " next() returned " + woke + " with " + world.queued.size()
                                + " waiters not yet woken");
                    }
                    if (expected) {
                        world.queued.remove(0);
                        world.wokeAWaiter = true;
                    }
                }
                case WAKE_ALL -> {
                    world.wokeAWaiter |= !world.queued.isEmpty();
                    world.queue.restartAll();
                    world.queued.clear();
                }
                case YIELD -> voluntaryYield(world);
            }
        }
    }

    /**
     * Takes a read lock as a request of the model; returns false if the wait was cancelled, true
     * when the caller holds it.
     */
    @CoroutineFn
    private static boolean takeRead(World world, String name, Op op) {
        int at = request(world);
        int writersBefore = world.writersAheadOfAReader();
        // (readers pending hold a new reader back too: a woken reader lets the next one in only
        // when it runs, and a reader queues while anybody waits)
        boolean free = world.pendingWriters.isEmpty() && world.pendingReaders.isEmpty() && world.writers == 0;
        world.pendingReaders.add(Coroutine.self());
        try {
            lockWait(world, name, op == Op.TIMED_READ, () -> {
                world.rwlock.rdlock();
                return null;
            });
        } catch (CancellationException e) {
            world.pendingReaders.remove(Coroutine.self());
            cancelled(world, name, op, e);
            return false;
        }
        world.pendingReaders.remove(Coroutine.self());
        noteBarging(world, name + "#" + at, at, writersBefore);
        noteNeedlessWait(world, name + "#" + at, at, free);
        noteRw(world, name + "#" + at + "R", at);
        world.readers++;
        world.check();
        return true;
    }

    /**
     * Takes the mutex as a request of the model (barging and first-come first-served are checked);
     * returns false if the wait was cancelled, true when the caller holds it.
     */
    @CoroutineFn
    private static boolean takeMutex(World world, String name, Op op) {
        int at = request(world);
        String id = name + "#" + at;
        int waitingBefore = World.live(world.pendingMutex);
        world.pendingMutex.add(Coroutine.self());
        try {
            lockWait(world, name, op == Op.TIMED_MUTEX, () -> {
                world.mutex.lock();
                return null;
            });
        } catch (CancellationException e) {
            world.pendingMutex.remove(Coroutine.self());
            cancelled(world, name, op, e);
            return false;
        }
        world.pendingMutex.remove(Coroutine.self());
        if (waited(world, at)) {
            world.waitedMutex.add(id);
            world.grantedMutex.add(id);
        } else if (waitingBefore > 0) {
            world.violations.add(id + " took the mutex past " + waitingBefore + " waiting");
        }
        world.sequence++;
        world.mutexHolders++;
        world.check();
        return true;
    }

    /** A queue wait returned normally: the model must have woken this coroutine, in its turn. */
    private static void checkWokenInTurn(World world, String name) {
        if (world.queued.contains(Coroutine.self())) {
            world.violations.add(name + " returned from await while the model still has it queued (woken out of turn)");
        }
    }

    /** A queue wait threw: cancelled or timed out while queued, or before it queued at all. */
    private static void leftQueue(World world, String name, Op op, CancellationException e) {
        world.queued.remove(Coroutine.self());
        world.cancelledAWaiter |= !(e instanceof CoroutineTimeoutException);
        cancelled(world, name, op, e);
    }

    /**
     * A wait of {@code name} threw: nothing else happened in between (the request is done). A
     * CoroutineTimeoutException comes only from a timed wait of a coroutine nobody cancelled (the
     * coroutine's own cancellation wins: it is what its waits throw from then on), any other
     * CancellationException only from a cancelled coroutine.
     */
    private static void cancelled(World world, String name, Op op, CancellationException e) {
        boolean timeout = e instanceof CoroutineTimeoutException;
        world.events.add(name + " " + op + (timeout ? " timed out" : " cancelled"));
        world.sequence++;
        boolean timedOp = op.name().startsWith("TIMED_");
        if (timeout && (!timedOp || Coroutine.self().isCancelled())) {
            world.violations.add(name + " " + op + " threw " + e + (timedOp ? " though cancelled" : " with no deadline"));
        } else if (!timeout && !Coroutine.self().isCancelled()) {
            world.violations.add(name + " " + op + " threw " + e + " though nobody cancelled it");
        }
        if (timeout) {
            world.aWaitTimedOut = true;
        }
    }

    private static void noteBarging(World world, String id, int at, int waitingBefore) {
        if (!waited(world, at) && waitingBefore > 0) {
            world.violations.add(id + " took the rwlock past " + waitingBefore + " waiting");
        }
    }

    /**
     * A read or write request made while the model saw the rwlock free for it (no request pending,
     * cancelled ones included: a cancelled upgrade takes its read lock back; no writer holding it;
     * for a writer, no reader either) must be granted at once: a waiter that timed out and was
     * left behind in the queue would hold it back. (A timed-out request leaves the pending lists
     * in its catch block, inside the timer's callback.)
     */
    private static void noteNeedlessWait(World world, String id, int at, boolean free) {
        if (free && waited(world, at)) {
            world.violations.add(id + " waited for a free rwlock");
        }
    }

    private static void noteRw(World world, String id, int at) {
        if (waited(world, at)) {
            world.waitedRw.add(id);
            world.grantedRw.add(id);
        }
        world.sequence++;
    }

    /**
     * The review's sample (seed -385): a cancelled upgrade's unlock and another chain each grant a
     * reader; the two readers run in the other order than they queued, which is no violation.
     */
    @Example
    void readersGrantedTogetherMayRunInEitherOrder() {
        runAndCheck(new Scenario(List.of(
                List.of(Op.READ, Op.MUTEX, Op.MUTEX, Op.READ), List.of(Op.UPGRADE, Op.MUTEX, Op.READ),
                List.of(Op.MUTEX, Op.READ, Op.UPGRADE), List.of(Op.READ, Op.MUTEX), List.of(Op.WRITE),
                List.of(Op.MUTEX, Op.MUTEX, Op.READ, Op.READ)), 2, -385L, 2, 1, 0));
    }

    /**
     * A writer cancelled while queued left the queue at once, though its catch block ran later: a
     * read request between the two is granted at once, which is no barging (seed 768096074).
     */
    @Example
    void aCancelledWriterNoLongerHoldsBackAReader() {
        runAndCheck(new Scenario(List.of(List.of(Op.UPGRADE, Op.READ), List.of(Op.MUTEX, Op.MUTEX),
                List.of(Op.WRITE), List.of(Op.MUTEX, Op.DOWNGRADE)), 3, 768096074L, 10, 1, 0));
    }

    /**
     * A fresh seed's failure (issue 16): two deadlines fall due in one clock move; the first ends
     * c4's mutex wait, and c4 at once asks for a read lock while writer c1 (its deadline due, its
     * timer not yet run) is queued. c4 queues behind c1 and is granted by c1's withdrawal when the
     * second timer fires: no barging (the model used to report "c4#26 took the rwlock past 1
     * waiting"; see lockWait). With a rdlock that ignores the queued writer, c4 is granted on its
     * fast path and this still fails.
     */
    @Example
    void aReaderQueuedBehindAWriterWhoseDeadlineIsDueIsGrantedByItsTimeout() {
        World world = runAndCheck(new Scenario(List.of(List.of(Op.MUTEX), List.of(Op.TIMED_WRITE),
                List.of(Op.READ, Op.READ), List.of(Op.WAIT), List.of(Op.MUTEX, Op.MUTEX, Op.TIMED_MUTEX, Op.READ),
                List.of(Op.READ, Op.WRITE)), 2, -46L, 4, 1, 21));
        // the interleaving described above happened: c4's read request came between the two
        // timeouts and waited
        int c4Read = world.events.indexOf("c4 READ");
        assertTrue(c4Read > world.events.indexOf("c4 TIMED_MUTEX timed out")
                && c4Read < world.events.indexOf("c1 TIMED_WRITE timed out"), "events " + world.events);
        assertTrue(world.waitedRw.stream().anyMatch(id -> id.startsWith("c4#") && id.endsWith("R")),
                "c4's read request waited: " + world.waitedRw);
    }

    /** Tries in which some lock request had to wait (seen: 52-60% in 300 tries; 40% is more than five standard deviations below). */
    static final double MIN_CONTENDED_PERCENT = 40;
    /** Tries with a cancelled waiter, a queue wake-up, an await holding the mutex (seen: 35-75%). */
    static final double MIN_OTHER_PERCENT = 25;
    /** Tries in which a wait timed out (seen: 20-30% in 300 tries; 10% is about five standard deviations below). */
    static final double MIN_TIMED_OUT_PERCENT = 10;

    // CI: a fixed seed (deterministic). Fresh seeds: -Daioco.test.jvmArgs=-Daioco.lockmodel.seed=random
    // (or =N to replay seed N; -Daioco.lockmodel.tries=N runs N tries on a fresh seed: TriesFromProperty)
    @Property(tries = 300, seed = "8301506134030900326")
    @AddLifecycleHook(TriesFromProperty.LockModel.class)
    void locksKeepMutualExclusionServeWaitersInOrderAndLoseNoWakeUp(@ForAll("scenarios") Scenario scenario) {
        World world = runAndCheck(scenario);
        boolean waited = !world.waitedMutex.isEmpty() || !world.waitedRw.isEmpty();
        // what the checks below have to work on, checked by CI (jqwik coverage over all tries)
        Statistics.label("a lock request had to wait").collect(waited)
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= MIN_CONTENDED_PERCENT));
        Statistics.label("a waiting coroutine was cancelled").collect(world.cancelledAWaiter)
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= MIN_OTHER_PERCENT));
        Statistics.label("next() woke a waiter").collect(world.wokeAWaiter)
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= MIN_OTHER_PERCENT));
        Statistics.label("await with a held mutex").collect(world.awaitedHoldingMutex)
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= MIN_OTHER_PERCENT));
        Statistics.label("a wait timed out").collect(world.aWaitTimedOut)
                .coverage(coverage -> coverage.check(true).percentage(p -> p >= MIN_TIMED_OUT_PERCENT));
    }

    /**
     * Runs the scenario's coroutines to their end and checks the model's invariants. The scheduler
     * runs as a one-shot bottom half of a context polled by hand, so the coroutines belong to that
     * context (withTimeoutNs arms its deadline there) and wake-ups stay inline, as before: from a
     * coroutine, the woken one runs after it yields; from the scheduler (a cancel, a timer that
     * fired in a nested poll), at once. The VIRTUAL clock is paused and moves only by the
     * scheduler's steps.
     */
    private static World runAndCheck(Scenario scenario) {
        AioContext ctx = AioContext.create();
        ClockType.pauseVirtual();
        try {
            World[] result = new World[1];
            ctx.scheduleOneshot(() -> result[0] = schedule(ctx, scenario));
            // a hand-run poll rethrows what the bottom half threw (an assertion's error)
            while (result[0] == null && ctx.poll(false)) {
                // the scheduler ran; nothing else is scheduled
            }
            assertNotNull(result[0], "the scheduler did not run");
            return result[0];
        } finally {
            ctx.close();
            ClockType.resumeVirtual();
        }
    }

    /** The scheduler, on {@code ctx}'s thread inside its poll. */
    private static World schedule(AioContext ctx, Scenario scenario) {
        World world = new World();
        world.yieldsInside = scenario.yieldsInside();
        world.timeoutNs = scenario.timeoutNs();
        world.ctx = ctx;
        List<Coroutine> coroutines = new ArrayList<>();
        for (int i = 0; i < scenario.scripts().size(); i++) {
            String name = "c" + i;
            List<Op> script = scenario.scripts().get(i);
            Coroutine co = Coroutine.create(() -> run(world, name, script));
            coroutines.add(co);
            world.ready.put(co, true);
        }
        Random random = new Random(scenario.seed());
        int steps = 0;
        while (true) {
            List<Coroutine> runnable = new ArrayList<>();
            for (Coroutine co : coroutines) {
                if (!co.isTerminated() && world.ready.get(co)) {
                    runnable.add(co);
                }
            }
            if (runnable.isEmpty()) {
                // nobody can run on its own: only queue waiters may be left; wake one from outside,
                // and only if the model says one is queued (so a wake-up lost inside the scripts is
                // not made up for here)
                boolean expected = !world.queued.isEmpty();
                if (expected) {
                    world.queued.remove(0);
                }
                boolean woke = world.queue.enterNext(null);
                if (woke != expected) {
                    world.violations.add("enterNext returned " + woke + " with " + (expected ? "a" : "no")
                            + " waiter not yet woken");
                }
                if (!woke) {
                    break;
                }
                continue;
            }
            if (random.nextInt(100) < scenario.advancePercent()) {
                // time passes: the timers due run in a nested poll, and each expired deadline ends
                // its wait at once (the waiter runs inside the timer's callback). The move is an
                // event, as a cancellation is: a request granted because a timed-out waiter left
                // the queue in front of it did wait
                world.events.add("clock +1");
                world.sequence++;
                ClockType.advanceVirtualNs(1);
                while (ctx.poll(false)) {
                    // timers due, and nothing else
                }
                long now = ClockType.VIRTUAL.nowNs();
                world.deadlines.forEach((co, deadline) -> {
                    if (deadline <= now && !co.isCancelled()) {
                        world.violations.add("c" + coroutines.indexOf(co) + " still waits " + (now - deadline)
                                + " ns past its deadline");
                    }
                });
                continue;
            }
            if (random.nextInt(100) < scenario.cancelPercent()) {
                // cancel anybody not finished, waiting or not: a waiting one is resumed here, at once
                List<Coroutine> alive = coroutines.stream().filter(co -> !co.isTerminated()).toList();
                Coroutine victim = alive.get(random.nextInt(alive.size()));
                world.events.add("cancel c" + coroutines.indexOf(victim));
                // the cancellation is an event: a request made before it that is granted after it did
                // not barge (the cancelled waiter left the queue; the grant may then come from a
                // reader's unlock, which is no event of its own: seed 94070's c1 upgrade)
                world.sequence++;
                world.queued.remove(victim); // a queued waiter leaves the queue at once
                victim.cancel();
                continue;
            }
            Coroutine next = runnable.get(random.nextInt(runnable.size()));
            world.ready.put(next, false);
            next.enter();
            assertTrue(++steps < 100_000, "does not finish");
        }
        String context = "scenario " + scenario + "\nevents " + world.events;
        assertEquals(List.of(), world.violations, context);
        for (Coroutine co : coroutines) {
            assertTrue(co.isTerminated(), "a coroutine never finished (lost wake-up): " + context);
        }
        assertEquals(0, world.waitersInQueue, context);
        assertTrue(!world.mutex.isLocked(), context);
        // first come, first served among the requests that had to wait; the lists are built in
        // grant order, so compare with the order of their request numbers
        assertEquals(sortedByRequest(world.grantedMutex), world.grantedMutex, "mutex order: " + context);
        assertEquals(List.of(), rwOrderViolations(world.grantedRw), "rwlock order: " + context);
        return world;
    }

    /**
     * The pairs of rwlock requests that waited and ran in the other order than they were made. Two
     * readers are exempt: a writer's unlock grants every reader at the head of the queue at once,
     * and coroutines woken together run in an order that is not the queue's (QEMU runs the wake-ups
     * of the coroutine that just yielded first), so "ran" is not "granted" for them. A writer is
     * granted alone, so it ran before anything granted after it.
     */
    private static List<String> rwOrderViolations(List<String> ranInOrder) {
        List<String> violations = new ArrayList<>();
        for (int i = 0; i < ranInOrder.size(); i++) {
            for (int j = i + 1; j < ranInOrder.size(); j++) {
                String first = ranInOrder.get(i);
                String later = ranInOrder.get(j);
                boolean bothReaders = first.endsWith("R") && later.endsWith("R");
                if (requestNumber(later) < requestNumber(first) && !bothReaders) {
                    violations.add(later + " waited longer but ran after " + first);
                }
            }
        }
        return violations;
    }

    private static int requestNumber(String id) {
        return Integer.parseInt(id.substring(id.indexOf('#') + 1).replaceAll("[RW]$", ""));
    }

    private static List<String> sortedByRequest(List<String> ids) {
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort((a, b) -> Integer.compare(requestNumber(a), requestNumber(b)));
        return sorted;
    }
}
