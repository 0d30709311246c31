package io.aioco.suite;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import java.util.ArrayList;
import java.util.List;

/** Runs a coroutine to completion, entering it again after every yield, and records a trace. */
final class Drive {
    final List<String> trace = new ArrayList<>();
    int enters;

    void log(Object event) {
        trace.add(String.valueOf(event));
    }

    /** Enters until terminated; adds "|" to the trace at every yield. */
    String run(CoroutineEntry entry) {
        Coroutine co = Coroutine.create(entry);
        while (!co.isTerminated()) {
            co.enter();
            enters++;
            if (!co.isTerminated()) {
                trace.add("|");
            }
            if (enters > 1_000_000) {
                throw new AssertionError("coroutine does not terminate");
            }
        }
        return String.join(",", trace);
    }
}
