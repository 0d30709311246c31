package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.TestAccess;
import io.aioco.internal.loop.TestTime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A context with its own time (the test kit's hook): its clocks, timers and reports. */
class TestTimeContextTest {
    private static final TestAccess<AioContext, Coroutine> ACCESS = TestAccess.get();

    @Test
    void callbacksReadTheContextsTimeOnEveryClockAndOtherCodeDoesNot() {
        TestTime time = new TestTime();
        try (AioContext ctx = ACCESS.create("own-time", time)) {
            time.advanceNs(5_000);
            long[] seen = new long[3];
            ctx.scheduleOneshot(() -> {
                seen[0] = ClockType.REALTIME.nowNs();
                seen[1] = ClockType.VIRTUAL.nowNs();
                seen[2] = ClockType.HOST.nowNs();
            });
            assertTrue(ctx.poll(false));
            assertEquals(5_000, seen[0]);
            assertEquals(5_000, seen[1]);
            assertEquals(time.nowNs(2), seen[2]);
            // outside the poll, the thread reads the machine's clocks again
            long before = System.nanoTime();
            long now = ClockType.REALTIME.nowNs();
            assertTrue(now >= before, now + " >= " + before);
        }
    }

    @Test
    void aPlainContextPolledFromInsideOneWithItsOwnTimeReadsTheMachinesClocks() {
        TestTime time = new TestTime();
        try (AioContext ctx = ACCESS.create("own-time", time); AioContext plain = AioContext.create()) {
            long[] seen = new long[3];
            plain.scheduleOneshot(() -> seen[1] = ClockType.REALTIME.nowNs());
            ctx.scheduleOneshot(() -> {
                long before = System.nanoTime();
                plain.poll(false);
                seen[0] = before;
                seen[2] = ClockType.REALTIME.nowNs(); // back in the test's time
            });
            time.advanceNs(7);
            assertTrue(ctx.poll(false));
            assertTrue(seen[1] >= seen[0], seen[1] + " >= " + seen[0]);
            assertEquals(7, seen[2]);
        }
    }

    @Test
    void timersComeDueOnlyWhenTheTimeIsMovedNotWithTheProcessWideVirtualClock() {
        TestTime time = new TestTime();
        try (AioContext ctx = ACCESS.create("own-time", time)) {
            List<String> log = new ArrayList<>();
            ctx.newTimer(ClockType.REALTIME, () -> log.add("realtime@" + ClockType.REALTIME.nowNs())).modNs(2_000);
            ctx.newTimer(ClockType.VIRTUAL, () -> log.add("virtual@" + ClockType.VIRTUAL.nowNs())).modNs(1_000);
            assertEquals(1_000, ACCESS.untilNextDeadlineNs(ctx));
            ClockType.advanceVirtualNs(1_000_000); // the process-wide clock: not this context's
            assertFalse(ctx.poll(false));
            assertEquals(2, ACCESS.pending(ctx).size(), ACCESS.pending(ctx).toString());
            time.advanceNs(1_000);
            assertTrue(ctx.poll(false));
            assertEquals(List.of("virtual@1000"), log);
            assertEquals(1_000, ACCESS.untilNextDeadlineNs(ctx));
            time.advanceNs(1_000);
            assertTrue(ctx.poll(false));
            assertEquals(List.of("virtual@1000", "realtime@2000"), log);
            assertEquals(-1, ACCESS.untilNextDeadlineNs(ctx));
            assertEquals(List.of(), ACCESS.pending(ctx));
        }
    }

    @Test
    void aBlockingPollDoesNotWaitForATimerOfItsOwnTime() {
        TestTime time = new TestTime();
        try (AioContext ctx = ACCESS.create("own-time", time)) {
            ctx.newTimer(ClockType.REALTIME, () -> { }).modNs(1_000);
            // the timer never comes due by waiting (only the kit's advance moves the time): no wait
            // is computed for it, as for a paused VIRTUAL clock; once due, the poll does not block
            assertEquals(-1, ctx.computeTimeoutNs());
            time.advanceNs(999);
            assertEquals(-1, ctx.computeTimeoutNs());
            time.advanceNs(1);
            assertEquals(0, ctx.computeTimeoutNs());
            assertTrue(ctx.poll(true));
        }
    }

    @Test
    void pendingListsScheduledBottomHalvesAndArmedTimersByName() {
        try (AioContext ctx = ACCESS.create("own-time", new TestTime())) {
            Runnable named = new Runnable() {
                @Override
                public void run() { }

                @Override
                public String toString() {
                    return "namedCallback";
                }
            };
            ctx.newBottomHalf(named).schedule();
            ctx.newTimer(ClockType.HOST, named).modNs(Long.MAX_VALUE);
            List<String> pending = ACCESS.pending(ctx);
            assertEquals(2, pending.size(), pending.toString());
            assertTrue(pending.get(0).startsWith("bottom half scheduled: BottomHalf[namedCallback"), pending.get(0));
            assertTrue(pending.get(1).startsWith("HOST timer due at") && pending.get(1).endsWith("namedCallback"),
                    pending.get(1));
        }
    }
}
