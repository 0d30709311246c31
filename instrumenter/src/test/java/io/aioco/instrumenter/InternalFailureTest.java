package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.analysis.AnalyzerException;

/**
 * An unexpected exception inside a method's rewrite is reported once, by {@link InternalFailure},
 * with the class, the method and its descriptor, where it was thrown, the instruction an analyzer
 * names, and in verbose mode the method's code and the stack trace; the cause stays chained.
 */
class InternalFailureTest {
    private static final String CALLER = """
            public class Caller {
                @CoroutineFn static int run() {
                    int a = Callee.work(2);
                    return a + 1;
                }
            }
            """;
    private static final String CALLEE = """
            public class Callee {
                @CoroutineFn static int work(int x) { Coroutine.yield(); return x; }
            }
            """;

    /**
     * Instruments {@code t.Caller} with a lookup that throws an Error (which the hierarchy, unlike a
     * RuntimeException, does not take for a missing class) when the rewrite asks whether the
     * callee is a coroutine function: an unexpected exception from inside the method's passes.
     */
    private static InstrumentationResult instrumentWithBrokenLookup(boolean verbose) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Caller", Fixtures.HEADER + CALLER);
        sources.put("t.Callee", Fixtures.HEADER + CALLEE);
        Map<String, byte[]> classes = TestCompiler.compile(sources);
        ClassLookup runtime = ClassLookup.ofClassLoader(InternalFailureTest.class.getClassLoader());
        ClassLookup broken = name -> {
            if (name.equals("t/Callee")) {
                throw new AssertionError("lookup broken for " + name);
            }
            return classes.containsKey(name) ? classes.get(name) : runtime.classBytes(name);
        };
        return new Instrumenter(broken, new Instrumenter.Options(false, verbose)).instrument(classes.get("t/Caller"));
    }

    @Test
    void failureInsideAMethodNamesTheClassTheMethodAndWhereItWasThrown() {
        InstrumentationResult result = instrumentWithBrokenLookup(false);
        assertEquals(InstrumentationResult.Outcome.FAILED, result.outcome());
        assertEquals(1, result.diagnostics().size(), result.diagnostics().toString());
        String message = result.diagnostics().get(0).message();
        assertTrue(message.startsWith("cannot instrument: internal error in t.Caller.run()I: java.lang.AssertionError:"
                + " lookup broken for t/Callee (thrown at io.aioco.instrumenter.InternalFailureTest."), message);
        assertFalse(message.contains("\n"), message); // not verbose: one line, no code, no stack trace
    }

    @Test
    void verboseAddsTheMethodAsReadAndTheStackTrace() {
        String message = instrumentWithBrokenLookup(true).diagnostics().get(0).message();
        assertTrue(message.startsWith("cannot instrument: internal error in t.Caller.run()I: "), message);
        int code = message.indexOf("\nthe method as read:\n");
        assertTrue(code > 0, message);
        // the original code (before the rewrite changed it): the call, then the original return
        int call = message.indexOf("INVOKESTATIC t/Callee.work (I)I", code);
        assertTrue(call > 0, message);
        assertTrue(message.indexOf("IRETURN", call) > 0, message);
        assertFalse(message.contains("io/aioco/internal/CoStack"), message); // the rewrite's parameters are not in it
        assertTrue(message.contains("java.lang.AssertionError: lookup broken for t/Callee\n\tat "), message);
    }

    @Test
    void theInstructionAnAnalyzerNamesIsGivenByItsIndexInTheMethodAndTheCauseIsChained() throws Exception {
        Map<String, String> sources = Map.of("t.Caller", Fixtures.HEADER + CALLER, "t.Callee", Fixtures.HEADER + CALLEE);
        ClassReader reader = new ClassReader(TestCompiler.compile(sources).get("t/Caller"));
        ClassNode owner = new ClassNode();
        reader.accept(owner, 0);
        MethodNode run = owner.methods.stream().filter(m -> m.name.equals("run")).findFirst().orElseThrow();
        List<Integer> opcodes = new java.util.ArrayList<>();
        int index = 0;
        int iadd = -1;
        for (var insn = run.instructions.getFirst(); insn != null; insn = insn.getNext(), index++) {
            opcodes.add(insn.getOpcode());
            if (insn.getOpcode() == Opcodes.IADD) {
                iadd = index;
            }
        }
        assertTrue(iadd > 0, opcodes.toString());
        RuntimeException bug = new IllegalStateException("bug",
                new AnalyzerException(run.instructions.get(iadd), "analyzer failed here"));
        InstrumentationException reported = InternalFailure.inMethod("t/Caller", "run", "()I", run, reader, bug, false);
        assertSame(bug, reported.getCause());
        assertTrue(reported.getMessage().startsWith("cannot instrument: internal error in t.Caller.run()I at instruction "
                + iadd + " of the code being rewritten (IADD): java.lang.IllegalStateException: bug (thrown at "),
                reported.getMessage());

        // an instruction of another list (the pass worked on a copy, as the fresh body is) gives no index,
        // though ASM's InsnList.indexOf would answer with its index in the copy
        ClassNode copy = new ClassNode();
        reader.accept(copy, 0);
        MethodNode runCopy = copy.methods.stream().filter(m -> m.name.equals("run")).findFirst().orElseThrow();
        RuntimeException elsewhere = new IllegalStateException("bug",
                new AnalyzerException(runCopy.instructions.get(iadd), "in a copy"));
        String message = InternalFailure.inMethod("t/Caller", "run", "()I", run, reader, elsewhere, false).getMessage();
        assertTrue(message.startsWith("cannot instrument: internal error in t.Caller.run()I: java.lang.IllegalStateException:"),
                message);
    }
}
