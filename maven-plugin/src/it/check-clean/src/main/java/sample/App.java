package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

public class App {
    static final StringBuilder LOG = new StringBuilder();

    @CoroutineFn
    static void produce(int n) {
        for (int i = 1; i <= n; i++) {
            LOG.append("step ").append(i).append("; ");
            Coroutine.yield();
        }
    }

    public static void main(String[] args) {
        Coroutine co = Coroutine.create(() -> produce(3));
        int entries = 0;
        while (!co.isTerminated()) {
            co.enter();
            entries++;
        }
        System.out.println(LOG + "entered " + entries + " times");
    }
}
