package io.aioco;

/**
 * The event loop's log lines, in one place: logger {@code io.aioco} ({@link System.Logger}, so
 * {@code java.util.logging} unless the application routes it elsewhere). Called from any thread.
 */
final class LoopLog {
    private static final System.Logger LOG = System.getLogger("io.aioco");

    private LoopLog() {}

    /** A loop thread cleared an interrupt status that a callback (most likely) left on it. */
    static void strayInterrupt(Object loop) {
        LOG.log(System.Logger.Level.WARNING, "aioco: " + loop + " on thread " + Thread.currentThread().getName()
                + " cleared an interrupt status left by a callback; loop threads ignore interrupts (QEMU has"
                + " none), and a status left set would make every wait return at once. Logged once per loop.");
    }

    /** At most this many leaked bottom halves are named in the line; the rest are counted. */
    static final int LEAKS_NAMED = 10;

    /**
     * Bottom halves were still scheduled when {@code ctx} closed (QEMU's "BH leaked", which aborts):
     * one line naming the first few.
     */
    static void bottomHalvesLeaked(AioContext ctx, java.util.List<BottomHalf> leaked) {
        StringBuilder line = new StringBuilder("aioco: ").append(ctx).append(" closed with ")
                .append(leaked.size()).append(" bottom half(s) still scheduled, dropped without running (BH leaked): ");
        for (int i = 0; i < Math.min(leaked.size(), LEAKS_NAMED); i++) {
            line.append(i == 0 ? "" : ", ").append(leaked.get(i));
        }
        if (leaked.size() > LEAKS_NAMED) {
            line.append(", and ").append(leaked.size() - LEAKS_NAMED).append(" more");
        }
        LOG.log(System.Logger.Level.WARNING, line.toString());
    }
}
