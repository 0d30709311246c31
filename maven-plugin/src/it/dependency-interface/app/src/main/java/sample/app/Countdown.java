package sample.app;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import sample.api.Source;

/** Implements the api's coroutine function with the marker; yields before every value. */
public final class Countdown implements Source<String> {
    private int left;

    public Countdown(int from) {
        this.left = from;
    }

    @Override
    @CoroutineFn
    public String next() {
        Coroutine.yield();
        return left > 0 ? "t-" + left-- : null;
    }
}
