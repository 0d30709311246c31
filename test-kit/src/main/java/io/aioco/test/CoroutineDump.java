package io.aioco.test;

import io.aioco.Coroutine;
import io.aioco.internal.TestAccess;
import io.aioco.internal.loop.TestTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Lists a test's unfinished coroutines for deadlock and leak reports: those created on the test's
 * thread while it ran (the runtime notes them, see {@link TestTime.Created}: the test's own time's
 * record in virtual time, the one {@link Driver} binds to the thread in real time), entered and not
 * terminated, each as the runtime's coroutine dump ({@code Coroutine.dump}) shows it: what it waits
 * for and its suspended stack, one {@code at} line per frame.
 */
final class CoroutineDump {
    private CoroutineDump() {}

    /**
     * Called on the test's thread, between polls.
     *
     * @param created the coroutines the test created and that have not terminated, oldest first
     * @param except the test's own coroutine, reported by the caller
     */
    static List<String> describe(TestTime.Created created, Coroutine except) {
        List<String> out = new ArrayList<>();
        for (Object o : created.list()) {
            Coroutine co = (Coroutine) o;
            if (co == except || !TestAccess.get().isSuspended(co)) {
                continue;
            }
            out.add("coroutine suspended: " + dumped(co));
        }
        return out;
    }

    /** @return {@code co} as the coroutine dump shows it, its lines after the first indented to sit under a list item */
    static String dumped(Coroutine co) {
        StringBuilder text = new StringBuilder();
        try {
            TestAccess.get().dump(co, text);
        } catch (IOException impossible) {
            throw new UncheckedIOException(impossible); // NOTE: a StringBuilder never throws
        }
        return text.toString().strip().replace("\n", "\n    ");
    }
}
