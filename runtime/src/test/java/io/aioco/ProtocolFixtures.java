package io.aioco;

import io.aioco.internal.CoStack;

/**
 * Coroutine functions that break the protocol on purpose: {@link CoroutineFnProtocolTest} must
 * report each (it reads this class file as it reads the runtime's). Never called.
 */
final class ProtocolFixtures {
    private static final CoFrame FRAME = new CoFrame("io.aioco.ProtocolFixtures.f()", "f", "()V");
    private static final int TOKEN = CoStack.token("g", "()V");

    private ProtocolFixtures() {}

    /** Publishes its wake-up (a waiter list entry) before it yields, through a helper of its class. */
    @CoroutineFn
    static void publishesBeforeTheYield(WaiterList<CoWait> list, CoWait wait) {
        CoStack stack = FRAME.enter();
        int arrival = FRAME.arrive(stack, ProtocolFixtures.class);
        if (arrival == CoFrame.RESUMED) {
            FRAME.resume(stack);
            return;
        }
        queue(list, wait);
        FRAME.suspend(stack, arrival, wait);
    }

    private static void queue(WaiterList<CoWait> list, CoWait wait) {
        list.add(wait);
    }

    /** Hand-writes the protocol instead of using CoFrame. */
    @CoroutineFn
    static void handWritesTheProtocol() {
        CoStack stack = CoStack.enter("io.aioco.ProtocolFixtures.g()");
        if (stack.arrive(TOKEN, ProtocolFixtures.class) == CoStack.CALLED) {
            stack.suspend();
        }
    }
}
