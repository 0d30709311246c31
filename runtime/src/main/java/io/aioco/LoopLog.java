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

    /** A bottom half was still scheduled when its context closed (QEMU's "BH leaked"). */
    static void bottomHalfLeaked(AioContext ctx, Object bh) {
        LOG.log(System.Logger.Level.WARNING, "aioco: " + bh + " was still scheduled when " + ctx
                + " closed; it will never run (QEMU: \"BH leaked\")");
    }
}
