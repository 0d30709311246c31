package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * A static call to a coroutine function of another class woven alike is a plain call of its fresh
 * body ({@code LocalDirectCalls}); the behaviour is the linked call's: suspend and resume through
 * it, a refused callee's message, and a callee left unwoven still runs as plain code.
 */
class CrossClassDirectCallsTest {
    private static final String OTHER = Fixtures.HEADER + """
            public class Other {
                static final Object LOCK = new Object();
                @CoroutineFn public static int twice(int x) { Driver.log("twice " + x); Coroutine.yield(); return 2 * x; }
                @CoroutineFn public static int plain(int x) { Driver.log("plain " + x); return x + 100; }
                @CoroutineFn public static int refused(int x) { synchronized (LOCK) { Coroutine.yield(); } return x; }
            }
            """;

    private static InstrumentingLoader loader(String caller) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Other", OTHER);
        sources.put("t.Caller", Fixtures.HEADER + caller);
        return InstrumentingLoader.of(sources);
    }

    private static final String CHAIN = """
            public class Caller {
                @CoroutineFn static void go() {
                    int a = Other.twice(3);
                    int b = Other.plain(a);
                    Driver.log("got " + a + " " + b);
                }
                public static Object run() { return Driver.drive(Caller::go); }
            }
            """;

    @Test
    void aSuspendingCalleeOfAnotherClassIsCalledPlainlyAndResumes() {
        InstrumentingLoader loader = loader(CHAIN);
        assertEquals("twice 3,|,plain 6,got 6 106", loader.callStatic("t.Caller", "run"));
        // the fresh calls are plain invokestatics of the fresh bodies (the resume call stays linked)
        ClassNode caller = new ClassNode();
        new ClassReader(loader.result("t.Caller").bytes()).accept(caller, 0);
        int plainToOther = 0;
        for (MethodNode method : caller.methods) {
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode call && call.owner.equals("t/Other")) {
                    assertEquals("(ILio/aioco/internal/CoStack;)I", call.desc, call.name);
                    plainToOther++;
                }
            }
        }
        assertEquals(4, plainToOther, "twice and plain, from the body and the fresh body of go");
    }

    @Test
    void aCalleeOfAClassLeftUnwovenRunsAsPlainCode() {
        InstrumentingLoader loader = loader("""
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + Other.plain(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """).exclude("t.Other");
        assertEquals("plain 1,got 101", loader.callStatic("t.Caller", "run"));
    }

    @Test
    void aRefusedCalleeOfAnotherClassThrowsItsRefusal() {
        InstrumentingLoader loader = loader("""
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + Other.refused(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """);
        InstrumentationResult other = loader.result("t.Other");
        assertEquals(1, other.diagnostics().size(), other.diagnostics().toString());
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Caller", "run"));
        assertEquals(other.diagnostics().get(0).format(), thrown.getMessage());
        assertTrue(thrown.getMessage().contains("t.Other.refused(I)I"), thrown.getMessage());
    }
}
