package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.ClockType;
import io.aioco.Coroutine;
import io.aioco.CoroutineTimeoutException;
import io.aioco.test.CoroutineTests;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;

/**
 * The test kit's plain entry point under jqwik: timeouts and sleeps of up to a month, on the test's
 * virtual time, end exactly at their deadlines (and each try takes microseconds).
 */
class VirtualTimePropertyTest {
    private static final long MONTH_NS = 30L * 24 * 3600 * 1_000_000_000L;

    @Property(tries = 200, seed = "7215019381460271723")
    void aBodyEndsAtItsSleepOrAtItsTimeoutWhicheverComesFirst(
            @ForAll @LongRange(min = 1, max = MONTH_NS) long timeoutNs,
            @ForAll @LongRange(min = 0, max = MONTH_NS) long sleepNs,
            @ForAll boolean timeoutOnHost) throws Exception {
        ClockType timeoutClock = timeoutOnHost ? ClockType.HOST : ClockType.REALTIME;
        CoroutineTests.run(() -> {
            long start = ClockType.VIRTUAL.nowNs();
            String outcome;
            try {
                outcome = Coroutine.withTimeoutNs(timeoutClock, timeoutNs, () -> {
                    Coroutine.sleepNs(ClockType.VIRTUAL, sleepNs);
                    return "slept";
                });
            } catch (CoroutineTimeoutException e) {
                outcome = "timed out";
            }
            if (sleepNs == timeoutNs) {
                // NOTE: equal deadlines on two clocks (jqwik's edge cases draw them: 1 and a month):
                // either timer may fire first, and the time is the same either way
                assertTrue(outcome.equals("slept") || outcome.equals("timed out"), outcome);
            } else {
                assertEquals(sleepNs < timeoutNs ? "slept" : "timed out", outcome);
            }
            assertEquals(Math.min(sleepNs, timeoutNs), ClockType.VIRTUAL.nowNs() - start);
            // and nothing is left armed: the kit's leak check fails the try otherwise
        });
    }
}
