package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

public class Fine {
    @CoroutineFn
    static void step() {
        Coroutine.yield();
    }
}
