package io.aioco.test;

import io.aioco.Coroutine;
import io.aioco.internal.TestAccess;
import io.aioco.internal.loop.TestTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists a test's unfinished coroutines for deadlock and leak reports: those created on the test's
 * thread while it ran in virtual time (the runtime notes them, see {@link TestTime#created()}),
 * entered and not terminated, with what each waits for.
 *
 * <p>TODO(coroutine dump): this is the hook for the runtime's coroutine dump API: when it exists,
 * add each coroutine's logical stack here (and list coroutines of real-time tests too).
 */
final class CoroutineDump {
    private CoroutineDump() {}

    /**
     * Called on the test's thread, between polls.
     *
     * @param time the test's time, or null in real time (nothing is listed then)
     * @param except the test's own coroutine, reported by the caller
     */
    static List<String> describe(TestTime time, Coroutine except) {
        List<String> out = new ArrayList<>();
        if (time == null) {
            return out;
        }
        for (Object o : time.created()) {
            Coroutine co = (Coroutine) o;
            if (co == except || !TestAccess.get().isSuspended(co)) {
                continue;
            }
            String wait = TestAccess.get().describeWait(co);
            out.add("coroutine suspended: " + co + (wait != null ? " waiting for " + wait : ""));
        }
        return out;
    }
}
