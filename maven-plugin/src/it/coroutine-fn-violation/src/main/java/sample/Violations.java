package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;

public class Violations {
    @CoroutineFn
    static void step() {
        Coroutine.yield();
    }

    public static void main(String[] args) {
        step();
    }

    static Runnable task() {
        return () -> step();
    }

    static class Worker implements CoroutineEntry {
        public void run() {
            step();
        }
    }
}
