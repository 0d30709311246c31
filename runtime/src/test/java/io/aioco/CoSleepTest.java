package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.plain;
import static io.aioco.LoopTesting.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Issue 16 item 1: CoSleep, QEMU's QemuCoSleep, on the VIRTUAL clock. */
class CoSleepTest {
    static final String SLEEP = "sleepNs";
    static final String SLEEP_DESC = "(Lio/aioco/ClockType;J)V";

    private final AioContext ctx = AioContext.create();
    private final CoSleep sleep = new CoSleep();
    private final List<Long> wokeAt = new ArrayList<>();

    @BeforeEach
    void pause() {
        ClockType.pauseVirtual();
    }

    @AfterEach
    void close() {
        ctx.close();
        ClockType.resumeVirtual();
    }

    private HandWoven sleeper(long ns) {
        return new HandWoven(call(SLEEP, SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, ns)),
                plain(() -> wokeAt.add(ClockType.VIRTUAL.nowNs())));
    }

    @Test
    void sleepEndsAtItsDeadlineAndNotBefore() {
        long start = ClockType.VIRTUAL.nowNs();
        HandWoven body = sleeper(100);
        Coroutine.create(body).enter(ctx);
        drain(ctx);
        ClockType.advanceVirtualNs(99);
        drain(ctx);
        assertFalse(body.finished());
        ClockType.advanceVirtualNs(1);
        drain(ctx);
        assertTrue(body.finished());
        assertEquals(List.of(start + 100), wokeAt);
    }

    @Test
    void wakeEndsTheSleepEarlyAndTheTimerNeverFiresLater() {
        long start = ClockType.VIRTUAL.nowNs();
        HandWoven body = new HandWoven(call(SLEEP, SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, 1_000)),
                plain(() -> wokeAt.add(ClockType.VIRTUAL.nowNs())),
                call(SLEEP, SLEEP_DESC, sleep, () -> sleep.sleepNs(ClockType.VIRTUAL, 5_000)),
                plain(() -> wokeAt.add(ClockType.VIRTUAL.nowNs())));
        Coroutine.create(body).enter(ctx);
        ClockType.advanceVirtualNs(10);
        drain(ctx);
        sleep.wake();
        drain(ctx);
        assertEquals(List.of(start + 10), wokeAt, "woken early, once");
        // the first sleep's timer is gone: at its old deadline nothing ends the second sleep
        ClockType.advanceVirtualNs(990);
        drain(ctx);
        assertEquals(1, wokeAt.size());
        assertFalse(body.finished());
        ClockType.advanceVirtualNs(4_010);
        drain(ctx);
        assertEquals(List.of(start + 10, start + 5_010), wokeAt);
    }

    @Test
    void wakeWithNoSleepInProgressDoesNothing() {
        long start = ClockType.VIRTUAL.nowNs();
        sleep.wake();
        HandWoven body = sleeper(50);
        Coroutine.create(body).enter(ctx);
        drain(ctx);
        assertFalse(body.finished(), "a wake before the sleep must not end it");
        ClockType.advanceVirtualNs(50);
        drain(ctx);
        assertEquals(List.of(start + 50), wokeAt);
        sleep.wake(); // after the end: nothing to wake, nothing thrown
        drain(ctx);
        assertEquals(1, wokeAt.size());
    }

    @Test
    void wakeFromAnotherThreadResumesTheSleeperOnItsContext() throws Exception {
        HandWoven body = sleeper(1_000_000);
        Coroutine.create(body).enter(ctx);
        drain(ctx);
        LoopTesting.onFreshThread(() -> {
            sleep.wake();
            return null;
        });
        drain(ctx);
        assertTrue(body.finished());
    }

    @Test
    void aSecondSleeperIsRefusedNamingTheFirst() {
        Coroutine first = Coroutine.create(sleeper(1_000));
        first.enter(ctx);
        List<Throwable> refused = new ArrayList<>();
        Coroutine.create(new HandWoven(call(SLEEP, SLEEP_DESC, sleep, () -> {
            try {
                sleep.sleepNs(ClockType.VIRTUAL, 1);
            } catch (IllegalStateException e) {
                refused.add(e);
            }
        }))).enter(ctx);
        assertEquals(1, refused.size());
        assertTrue(refused.get(0).getMessage().contains(first.toString()), refused.get(0).getMessage());
    }
}
