package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The dump's walk of a suspended coroutine's saved frames goes past a frame whose state has no
 * table (a class woven by an older build, a hand-written coroutine function): that frame is listed
 * as {@code Owner.name(Unknown Source)}, as jstack lists a frame without line numbers, named by
 * what its caller's table says it calls, and the frames inside it are listed too (found from the
 * bottom of the storage). Before, the walk stopped there with a note, and the frames inside it,
 * down to the wait, were lost. The storage is filled by hand here as woven code fills it: each
 * frame pushes its slots, its state last, innermost frame first.
 */
class CoTablesUnknownFrameTest {
    /** States of this test's tables: 30-bit numbers no woven method of the build has. */
    private static final int OUTER = 0x2B1C_0101;
    private static final int INNER = 0x2B1C_0201;
    /** A state with no table: the hand-written (or older-woven) frame. */
    private static final int HAND = 0x2B1C_0301;
    private static final String LOCK = CoTables.class.getPackageName().replace(".internal", "") + ".CoMutex.lock";

    static {
        CoTables.register("C\ttest.Outer\tOuter.java\nM\touterMethod\t" + OUTER + "\nP\t10\t1\t1\tW\ttest.Hand.handWritten\n");
        CoTables.register("C\ttest.Inner\tInner.java\nM\tinnerMethod\t" + INNER + "\nP\t20\t2\t1\tR\t" + LOCK + "\n");
    }

    private final Object wait = new Object();

    /** Outer (table) calls Hand (no table: a local and its state, one reference) calls Inner (table) calls CoMutex.lock. */
    private CoStack middleUnknown() {
        CoStack stack = new CoStack(new Object());
        stack.pushRef(wait); // the runtime function's frame: its wait
        stack.pushLong(12_345L); // Inner: a local, its reference, its state
        stack.pushRef("inner-ref");
        stack.pushInt(INNER);
        stack.pushLong(-7L); // Hand: a local, a reference, its state
        stack.pushRef("hand-ref");
        stack.pushInt(HAND);
        stack.pushRef("outer-ref"); // Outer: a reference, its state
        stack.pushInt(OUTER);
        return stack;
    }

    @Test
    void aFrameWithoutATableInTheMiddleIsUnknownSourceAndTheFramesInsideItAreListed() {
        CoTables.Frames frames = CoTables.describe(middleUnknown(), "test.Entry.run");
        assertEquals(List.of(
                LOCK + "(CoMutex.java)",
                "test.Inner.innerMethod(Inner.java:20)",
                "test.Hand.handWritten(Unknown Source)",
                "test.Outer.outerMethod(Outer.java:10)"), frames.elements());
        assertSame(wait, frames.innermostSaved(), "the wait below the innermost frame is found");
        assertNull(frames.note(), "nothing was left unwalked");
    }

    @Test
    void theElementsOfAnAsyncStackTraceGoPastItToo() {
        CoStack stack = middleUnknown();
        StackTraceElement[] elements = CoTables.elements(stack.primSlots(), stack.primDepth(), stack.refDepth());
        assertArrayEquals(new StackTraceElement[] {
                new StackTraceElement(LOCK.substring(0, LOCK.lastIndexOf('.')), "lock", "CoMutex.java", -1),
                new StackTraceElement("test.Inner", "innerMethod", "Inner.java", 20),
                new StackTraceElement("test.Hand", "handWritten", null, -1),
                new StackTraceElement("test.Outer", "outerMethod", "Outer.java", 10)}, elements);
        assertEquals("test.Hand.handWritten(Unknown Source)", elements[2].toString());
    }

    @Test
    void anOutermostFrameWithoutATableIsNamedByTheEntryWhenKnown() {
        CoStack stack = new CoStack(new Object());
        stack.pushRef(wait);
        stack.pushLong(1L);
        stack.pushRef("inner-ref");
        stack.pushInt(INNER);
        stack.pushInt(HAND); // the entry's frame: only its state
        assertEquals(List.of(LOCK + "(CoMutex.java)", "test.Inner.innerMethod(Inner.java:20)", "test.Entry.run(Unknown Source)"),
                CoTables.describe(stack, "test.Entry.run").elements());
        assertEquals("<unknown>.<unknown>(Unknown Source)", CoTables.describe(stack).elements().get(2));
        assertSame(wait, CoTables.describe(stack).innermostSaved());
    }

    @Test
    void aFrameWithoutATableWithNothingRecognisedInsideSaysSo() {
        CoStack stack = new CoStack(new Object());
        stack.pushLong(99L); // Hand's local (what it waits in is unknown), its state
        stack.pushInt(HAND);
        stack.pushRef("outer-ref");
        stack.pushInt(OUTER);
        CoTables.Frames frames = CoTables.describe(stack, "test.Entry.run");
        assertEquals(List.of("test.Hand.handWritten(Unknown Source)", "test.Outer.outerMethod(Outer.java:10)"),
                frames.elements());
        assertEquals("the frames inside test.Hand.handWritten(Unknown Source) (code without frame tables, state "
                + HAND + ") could not be walked", frames.note());
    }
}
