package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 16 item 3: {@link Coroutine#withTimeoutNs}, on the paused VIRTUAL clock. Also the race of
 * a cancellation requested between a wait's suspension and its publication (item 2).
 */
@Timeout(60)
class WithTimeoutTest {
    static final String WITH_TIMEOUT = "withTimeoutNs";
    static final String WITH_TIMEOUT_DESC = "(Lio/aioco/ClockType;JLio/aioco/CoroutineCallable;)Ljava/lang/Object;";
    static final String SLEEP_DESC = "(Lio/aioco/ClockType;J)V";

    private final AioContext ctx = AioContext.create();
    private final List<String> events = new ArrayList<>();

    @BeforeEach
    void pause() {
        ClockType.pauseVirtual();
    }

    @AfterEach
    void close() {
        ctx.close();
        ClockType.resumeVirtual();
    }

    /** A body that sleeps {@code ns} and returns "slept". */
    private static CoroutineCallable<String> sleeping(long ns) {
        return new HandCallable<>("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, ns);
            return "slept";
        });
    }

    /** A body that runs withTimeoutNs(ns, inner) and returns its value. */
    private static CoroutineCallable<Object> timed(long ns, CoroutineCallable<?> inner) {
        Supplier<Object> call = () -> {
            try {
                return Coroutine.withTimeoutNs(ClockType.VIRTUAL, ns, inner);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        };
        return new HandCallable<>(WITH_TIMEOUT, WITH_TIMEOUT_DESC, Coroutine.class, call);
    }

    /** A call of withTimeoutNs whose value, or exception's message, is recorded. */
    private HandWoven.Call withTimeout(long ns, CoroutineCallable<?> body) {
        return call(WITH_TIMEOUT, WITH_TIMEOUT_DESC, Coroutine.class, () -> {
            try {
                Object value = Coroutine.withTimeoutNs(ClockType.VIRTUAL, ns, body);
                if (!HandCallable.suspended()) {
                    events.add("returned " + value);
                }
            } catch (CoroutineTimeoutException e) {
                events.add("timeout: " + e.getMessage().substring(0, e.getMessage().indexOf(')') + 1));
            } catch (Exception e) {
                events.add("threw " + e);
            }
        });
    }

    private HandWoven.Call sleepAfter(long ns) {
        return call("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            Coroutine.sleepNs(ClockType.VIRTUAL, ns);
            if (!HandCallable.suspended()) {
                events.add("slept after");
            }
        });
    }

    @Test
    void aBodyStillWaitingAtTheDeadlineThrowsTheTimeoutAndTheCoroutineGoesOn() {
        HandWoven body = new HandWoven(withTimeout(100, sleeping(1_000)), sleepAfter(10));
        Coroutine co = Coroutine.create(body);
        co.enter(ctx);
        ClockType.advanceVirtualNs(99);
        drain(ctx);
        assertEquals(List.of(), events);
        ClockType.advanceVirtualNs(1);
        drain(ctx);
        assertEquals(List.of("timeout: withTimeoutNs(VIRTUAL, 100)"), events);
        assertFalse(co.isCancelled(), "a timeout does not cancel the coroutine");
        ClockType.advanceVirtualNs(10);
        drain(ctx);
        assertTrue(body.finished());
        assertEquals("slept after", events.get(1));
    }

    @Test
    void aBodyThatFinishesFirstReturnsItsValueAndTheDeadlineIsDisarmed() {
        HandWoven body = new HandWoven(withTimeout(100, sleeping(50)), sleepAfter(1_000));
        Coroutine.create(body).enter(ctx);
        ClockType.advanceVirtualNs(50);
        drain(ctx);
        assertEquals(List.of("returned slept"), events);
        ClockType.advanceVirtualNs(50); // the old deadline: the later sleep is not inside it
        drain(ctx);
        assertEquals(1, events.size());
        ClockType.advanceVirtualNs(950);
        drain(ctx);
        assertEquals(List.of("returned slept", "slept after"), events);
    }

    @Test
    void anInnerTimeoutThatExpiresFirstIsTheOneReportedThroughTheOuter() {
        HandWoven body = new HandWoven(withTimeout(200, timed(100, sleeping(1_000))));
        Coroutine.create(body).enter(ctx);
        ClockType.advanceVirtualNs(300); // both deadlines pass in one poll, the inner first
        drain(ctx);
        assertEquals(List.of("timeout: withTimeoutNs(VIRTUAL, 100)"), events);
        assertTrue(body.finished());
    }

    @Test
    void anOuterTimeoutThatExpiresFirstPassesThroughTheInnerUnchanged() {
        HandWoven body = new HandWoven(withTimeout(100, timed(200, sleeping(1_000))), sleepAfter(1_000));
        Coroutine.create(body).enter(ctx);
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertEquals(List.of("timeout: withTimeoutNs(VIRTUAL, 100)"), events);
        ClockType.advanceVirtualNs(100); // the inner deadline was disarmed with its body
        drain(ctx);
        assertEquals(1, events.size());
    }

    @Test
    void aDeadlineOfZeroExpiresAtTheBodysFirstWait() {
        HandWoven body = new HandWoven(withTimeout(0, sleeping(1_000)));
        Coroutine.create(body).enter(ctx);
        assertEquals(List.of("timeout: withTimeoutNs(VIRTUAL, 0)"), events);
        assertTrue(body.finished());
    }

    @Test
    void aTimeoutEndsALockWaitAndTheWaiterLeavesTheQueue() {
        CoMutex mutex = new CoMutex();
        Coroutine holder = Coroutine.create(new HandWoven(call("lock", "()V", mutex, mutex::lock),
                call("sleepNs", SLEEP_DESC, Coroutine.class, () -> Coroutine.sleepNs(ClockType.VIRTUAL, 1_000)),
                call("unlock", "()V", mutex, mutex::unlock)));
        holder.enter(ctx);
        HandWoven body = new HandWoven(withTimeout(100, new HandCallable<>("lock", "()V", mutex, () -> {
            mutex.lock();
            return "locked";
        })));
        Coroutine.create(body).enter(ctx);
        ClockType.advanceVirtualNs(100);
        drain(ctx);
        assertEquals(List.of("timeout: withTimeoutNs(VIRTUAL, 100)"), events);
        ClockType.advanceVirtualNs(900);
        drain(ctx);
        assertTrue(holder.isTerminated());
        assertFalse(mutex.isLocked(), "the unlock handed the lock to the timed-out waiter");
    }

    @Test
    void aCancellationRequestedBeforeTheWaitIsPublishedIsSeenByThePublisher() {
        Coroutine[] self = new Coroutine[1];
        HandWoven body = new HandWoven(call("sleepNs", SLEEP_DESC, Coroutine.class, () -> {
            try {
                Coroutine.sleepNs(ClockType.VIRTUAL, 1_000);
            } catch (java.util.concurrent.CancellationException e) {
                events.add("cancelled");
            }
        }), plain(() -> events.add("went on")));
        // between the sleep's suspension and the yield: the wait exists but is not published
        body.beforeYieldAt(0, () -> self[0].cancel());
        self[0] = Coroutine.create(body);
        self[0].enter(ctx);
        assertEquals(List.of("cancelled", "went on"), events);
        assertTrue(body.finished());
    }
}
