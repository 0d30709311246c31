package io.aioco.agentfixture;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

/** A class with a coroutine function, read as bytes by the transformer tests (never run). */
public class Fixture {
    @CoroutineFn
    static int twice(int x) {
        Coroutine.yield();
        return 2 * x;
    }

    @CoroutineFn
    static void refused() {
        synchronized (Fixture.class) {
            Coroutine.yield();
        }
    }
}
