package io.aioco.internal.loop;

import java.time.Instant;

/**
 * The clocks' readings by index, the ordinals of {@code io.aioco.ClockType} ({@code
 * qemu_clock_get_ns}): the timer group reads them without knowing the public enum, so this package
 * imports nothing from {@code io.aioco}. A test checks that the indexes match the enum's order.
 * Called from any thread.
 */
public final class Clocks {
    /** {@code ClockType.REALTIME}: {@link System#nanoTime()}. */
    public static final int REALTIME = 0;
    /** {@code ClockType.VIRTUAL}: {@link VirtualClock}. */
    public static final int VIRTUAL = 1;
    /** {@code ClockType.HOST}: nanoseconds since the Unix epoch. */
    public static final int HOST = 2;
    /** How many clocks there are. */
    public static final int COUNT = 3;

    private Clocks() {}

    /** The current time of clock {@code clock} in nanoseconds. */
    public static long nowNs(int clock) {
        TestTime test = TestTime.bound();
        if (test != null) {
            return test.nowNs(clock); // a context with its own time (the test kit's): see TestTime
        }
        switch (clock) {
            case REALTIME:
                return System.nanoTime();
            case VIRTUAL:
                return VirtualClock.nowNs();
            default:
                Instant now = Instant.now();
                return now.getEpochSecond() * 1_000_000_000L + now.getNano();
        }
    }
}
