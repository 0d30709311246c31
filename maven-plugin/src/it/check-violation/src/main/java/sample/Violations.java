package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

public class Violations {
    static final Object LOCK = new Object();

    @CoroutineFn
    static void step() {
        Coroutine.yield();
    }

    public static void main(String[] args) {
        step();
    }

    @CoroutineFn
    static void locked() {
        synchronized (LOCK) {
            step();
        }
    }
}
