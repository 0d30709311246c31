package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * rv18: the coroutine dump and the resume through a guarded cross-class call (the callee is a
 * nested class: another class file, woven alike by the agent or the plugin).
 */
class Rv18DumpThroughGuardedCallTest {
    static final List<String> TRACE = new ArrayList<>();

    static final class Callee {
        @CoroutineFn
        static int inner(int x) {
            TRACE.add("inner " + x);
            Coroutine.yield(); // line 23
            return x + 1;
        }
    }

    @CoroutineFn
    static void outer() {
        int y = Callee.inner(41); // line 30
        TRACE.add("got " + y);
    }

    @Test
    void theDumpShowsBothFramesAndTheCoroutineResumes() throws Exception {
        Coroutine co = Coroutine.create("rv18-guarded", Rv18DumpThroughGuardedCallTest::outer);
        co.enter();
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        String dump = out.toString();
        int start = dump.indexOf("\"rv18-guarded\" Coroutine@");
        assertTrue(start >= 0, dump);
        int end = dump.indexOf("\n\n", start);
        String block = dump.substring(start, end < 0 ? dump.length() : end);
        String here = "io.aioco.suite.Rv18DumpThroughGuardedCallTest";
        assertTrue(block.contains("\tat " + here + "$Callee.inner(Rv18DumpThroughGuardedCallTest.java:23)\n\tat "
                + here + ".outer(Rv18DumpThroughGuardedCallTest.java:30)"), block);
        co.enter();
        assertTrue(co.isTerminated());
        assertEquals(List.of("inner 41", "got 42"), TRACE);
    }
}
