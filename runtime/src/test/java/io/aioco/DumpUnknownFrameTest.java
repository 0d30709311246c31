package io.aioco;

import static io.aioco.HandWoven.call;
import static io.aioco.HandWoven.yieldCall;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.CoStack;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A coroutine suspended in a hand-written coroutine function that saves a state with no frame
 * table (as a class woven by an older build does): the dump lists that frame as {@code
 * pkg.Class.method(Unknown Source)}, jstack's form for a frame without line numbers, and still says
 * what the coroutine waits for and who holds it. Before, the walk stopped at that frame: no frame
 * at all, only a note.
 */
class DumpUnknownFrameTest {
    /** A state no table has. */
    private static final int STATE = 0x2B1C_0401;

    /** Follows the caller's side of the protocol by hand and saves a state of its own, without a table. */
    static final class HandEntry implements CoroutineEntry {
        private static final int RUN_TOKEN = CoStack.token("run", "()V");
        private static final int LOCK_TOKEN = CoStack.token("lock", "()V");
        private final CoMutex mutex;
        boolean done;

        HandEntry(CoMutex mutex) {
            this.mutex = mutex;
        }

        @Override
        public void run() {
            CoStack stack = CoStack.current();
            boolean resume = stack.signal == (RUN_TOKEN | CoStack.RESUME);
            stack.signal = 0;
            if (resume) {
                assertEquals(STATE, stack.popInt());
            }
            stack.arm(resume ? LOCK_TOKEN | CoStack.RESUME : LOCK_TOKEN, "lock()V", mutex);
            mutex.lock();
            if (stack.signal == CoStack.SUSPEND) {
                stack.pushInt(STATE); // its frame: only its state
                return;
            }
            stack.signal = 0;
            stack.arm(CoStack.token("unlock", "()V"), "unlock()V", mutex);
            mutex.unlock();
            stack.signal = 0;
            done = true;
        }
    }

    @Test
    void aFrameWithoutATableIsListedAsUnknownSourceWithItsWait() throws Exception {
        try (AioContext ctx = AioContext.create()) {
            CoMutex mutex = new CoMutex();
            Coroutine holder = Coroutine.create("hand-holder", new HandWoven(call("lock", "()V", mutex, mutex::lock),
                    yieldCall(), call("unlock", "()V", mutex, mutex::unlock)));
            HandEntry entry = new HandEntry(mutex);
            Coroutine waiter = Coroutine.create("hand-waiter", entry);
            holder.enter(ctx); // holds the mutex, yields
            waiter.enter(ctx); // waits for it in a frame without a table

            StringBuilder out = new StringBuilder();
            CoroutineDump.writeOne(out, waiter);
            List<String> lines = Arrays.asList(out.toString().split("\n"));
            assertTrue(lines.get(0).startsWith("\"hand-waiter\" " + id(waiter) + " context=\"" + ctx + "\""), out.toString());
            assertEquals("   state: SUSPENDED, waiting for the lock of " + mutex + ", held by \"hand-holder\" " + id(holder),
                    lines.get(1));
            assertEquals("\tat " + HandEntry.class.getName() + ".run(Unknown Source)", lines.get(2));
            assertEquals(3, lines.size(), out.toString());

            holder.enter(ctx); // unlocks: the waiter gets the mutex
            while (ctx.poll(false)) {
                // NOTE: runs the woken waiter
            }
            assertTrue(entry.done, "the hand-written frame resumed from its saved state");
        }
    }

    private static String id(Coroutine co) {
        return "Coroutine@" + Integer.toHexString(System.identityHashCode(co));
    }
}
