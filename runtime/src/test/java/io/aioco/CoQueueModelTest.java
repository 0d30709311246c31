package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.callWhile;
import static io.aioco.HandWoven.plain;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of CoQueue with a CoMutex across threads: producers add an item and
 * call {@code next()}, consumers wait while there is none ({@code await(mutex)} in a loop, QEMU's
 * pattern); each is a coroutine run by its own thread, with no context (a waiter handed the mutex
 * by another thread runs there). After every interleaving:
 * no consumer still waits while an item is there (a lost wake-up), items are conserved, the mutex
 * is free.
 */
public class CoQueueModelTest {
    private final CoMutex mutex = new CoMutex();
    private final CoQueue queue = new CoQueue();
    private final List<HandWoven> consumers = new CopyOnWriteArrayList<>();
    private int produced;
    private int items;
    private int consumed;

    @Operation
    public void produce() {
        Coroutine.create(new HandWoven(call("lock", "()V", mutex, mutex::lock), plain(() -> {
            items++;
            produced++;
        }), call("next", "()Z", queue, queue::next), call("unlock", "()V", mutex, mutex::unlock))).enter();
    }

    @Operation
    public void consume() {
        HandWoven body = new HandWoven(call("lock", "()V", mutex, mutex::lock),
                callWhile(() -> items == 0, "await", "(Lio/aioco/CoMutex;)V", queue, () -> queue.await(mutex)),
                plain(() -> {
                    items--;
                    consumed++;
                }), call("unlock", "()V", mutex, mutex::unlock));
        consumers.add(body);
        Coroutine.create(body).enter();
    }

    @Validate
    public void noConsumerWaitsWhileAnItemIsThere() {
        long waiting = consumers.stream().filter(c -> !c.finished()).count();
        if (waiting > 0 && items > 0) {
            throw new AssertionError(waiting + " consumers wait while " + items + " items are there: a lost wake-up");
        }
        if (consumed + items != produced || items < 0) {
            throw new AssertionError("items not conserved: produced " + produced + ", consumed " + consumed
                    + ", left " + items);
        }
        if (mutex.isLocked()) {
            throw new AssertionError("the mutex is still locked");
        }
    }

    @Test
    void wakeUpsAcrossThreadsAreNeverLost() {
        new ModelCheckingOptions()
                .iterations(4)
                .threads(2) // a third thread's next() would rescue a lost wake-up and hide it
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(60)
                .check(getClass());
    }
}
