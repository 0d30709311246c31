package sample;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

public class Locked {
    private final Object lock = new Object();

    @CoroutineFn
    void holdsAMonitor() {
        synchronized (lock) {
            Coroutine.yield();
        }
    }

    @CoroutineFn
    synchronized void synchronizedMethod() {
        Coroutine.yield();
    }

    @CoroutineFn
    void releasesFirst() {
        synchronized (lock) {
            lock.notifyAll();
        }
        Coroutine.yield();
    }
}
