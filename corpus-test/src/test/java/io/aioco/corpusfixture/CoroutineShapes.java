package io.aioco.corpusfixture;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;

/**
 * Coroutine functions of several shapes: a seed of the fuzzer that the agent's transformer really
 * rewrites (the corpus jars have no coroutine functions, so the agent leaves them alone).
 */
public class CoroutineShapes {
    private final List<String> log = new ArrayList<>();
    private final Object lock = new Object();

    /** @return the sum of the first {@code n} values, yielding between them */
    @CoroutineFn
    public static long sum(int n) {
        long total = 0;
        for (int i = 0; i < n; i++) {
            Coroutine.yield();
            total += i * 2L;
        }
        return total;
    }

    /** Yields inside try/finally and a switch. */
    @CoroutineFn
    public String steps(String kind) {
        try {
            switch (kind) {
                case "a" -> Coroutine.yield();
                case "b" -> log.add(String.valueOf(sum(3)));
                default -> log.add(kind);
            }
            return kind + log.size();
        } finally {
            log.add("done");
        }
    }

    /** Refused: suspends inside a synchronized block. */
    @CoroutineFn
    public void heldMonitor() {
        synchronized (lock) {
            Coroutine.yield();
        }
    }

    /** @return a coroutine whose body is a lambda (a coroutine function by its interface) */
    public Coroutine lambda() {
        CoroutineEntry entry = () -> {
            log.add("in");
            Coroutine.yield();
            log.add(new StringBuilder(steps("b")).reverse().toString());
        };
        return Coroutine.create(entry);
    }
}
