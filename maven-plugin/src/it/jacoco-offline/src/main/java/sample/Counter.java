package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

/** A coroutine function with lines before and after a suspension point and a branch the test never takes. */
public final class Counter {
    private int total;

    @CoroutineFn
    int addTwice(int n) {
        int first = n * 2; // BEFORE
        total += first;
        Coroutine.yield();
        int second = total + n; // AFTER
        if (second < 0) { // BRANCH
            total = -1; // UNTAKEN
        }
        return second;
    }

    /** A coroutine whose entry is a lambda (itself a coroutine function, woven into synthetic bodies). */
    static Coroutine start(Counter counter, int n, int[] result) {
        return Coroutine.create(() -> result[0] = counter.addTwice(n)); // LAMBDA
    }
}
