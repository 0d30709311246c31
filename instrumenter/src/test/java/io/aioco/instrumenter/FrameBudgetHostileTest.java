package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Review rv14b of grow18b (ASM's budget for computing frames, raised fourfold): ASM's exception
 * names no method, so the instrumenter blamed the largest rewritten method. A class whose frames
 * ASM cannot compute because of another method (a plain one, or a smaller coroutine function)
 * must not have an innocent coroutine function refused as too large, and the failure or refusal
 * must name the method that passed the budget.
 */
class FrameBudgetHostileTest {
    /**
     * A static method {@code name(I)I} that uses local {@code locals} and has {@code blocks}
     * conditional jumps (ASM's frames: about locals x blocks ints), optionally a coroutine
     * function that yields once.
     */
    static MethodNode heavy(String name, int locals, int blocks, boolean coroutine) {
        MethodNode m = new MethodNode(Opcodes.ACC_STATIC | Opcodes.ACC_PUBLIC, name, "(I)I", null, null);
        InsnList code = m.instructions;
        code.add(new InsnNode(Opcodes.ICONST_0));
        code.add(new VarInsnNode(Opcodes.ISTORE, locals));
        if (coroutine) {
            m.visibleAnnotations = new java.util.ArrayList<>(List.of(new AnnotationNode("Lio/aioco/CoroutineFn;")));
            code.add(new MethodInsnNode(Opcodes.INVOKESTATIC, "io/aioco/Coroutine", "yield", "()V", false));
        }
        for (int b = 0; b < blocks; b++) {
            LabelNode skip = new LabelNode();
            code.add(new VarInsnNode(Opcodes.ILOAD, 0));
            code.add(new JumpInsnNode(Opcodes.IFEQ, skip));
            code.add(new IincInsnNode(0, -1));
            code.add(new IincInsnNode(locals, 1));
            code.add(skip);
        }
        code.add(new VarInsnNode(Opcodes.ILOAD, locals));
        code.add(new InsnNode(Opcodes.IRETURN));
        m.maxLocals = locals + 1;
        m.maxStack = 1;
        return m;
    }

    /** t.Q as javac compiles it (a small coroutine function co, a large one big), plus {@code extra}. */
    static Map<String, byte[]> classes(MethodNode... extra) {
        StringBuilder big = new StringBuilder();
        for (int i = 0; i < 1500; i++) {
            big.append("        s = s * 31 + ").append(i).append(";\n");
        }
        Map<String, byte[]> compiled = TestCompiler.compile(Map.of("t.Q", """
                package t;
                import io.aioco.*;
                public class Q {
                    @CoroutineFn public static int co(int x) { Coroutine.yield(); return x + 1; }
                    @CoroutineFn public static int big(int s) {
                        Coroutine.yield();
                """ + big + """
                        return s;
                    }
                }
                """));
        ClassNode node = new ClassNode();
        new ClassReader(compiled.get("t/Q")).accept(node, ClassReader.SKIP_FRAMES);
        node.methods.addAll(List.of(extra));
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_FRAMES);
        writer.setComputeLimits(Integer.MAX_VALUE, Long.MAX_VALUE);
        node.accept(writer);
        Map<String, byte[]> out = new LinkedHashMap<>(compiled);
        out.put("t/Q", writer.toByteArray());
        return out;
    }

    private static InstrumentationResult instrument(Map<String, byte[]> classes) {
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(FrameBudgetHostileTest.class.getClassLoader())),
                new Instrumenter.Options(false, false, classes::containsKey));
        return instrumenter.instrument(classes.get("t/Q"));
    }

    @Test
    void aPlainMethodWithinFourTimesTheBudgetLetsTheClassBeWoven() {
        InstrumentationResult result = instrument(classes(heavy("heavy", 4000, 400, false)));
        assertEquals(List.of(), result.diagnostics());
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
    }

    @Test
    void aPlainMethodPastTheBudgetIsNamedAndNoCoroutineFunctionIsBlamed() {
        InstrumentationResult result = instrument(classes(heavy("heavy", 8000, 800, false)));
        assertEquals(InstrumentationResult.Outcome.FAILED, result.outcome());
        String message = result.diagnostics().toString();
        assertTrue(message.contains("heavy(I)I"), "the method whose frames ASM gave up on is named: " + message);
        assertTrue(!message.contains("co(I)I") && !message.contains("big(I)I"), "a coroutine function blamed: " + message);
    }

    @Test
    void aCoroutineFunctionPastTheBudgetIsRefusedNotTheLargestOne() {
        InstrumentationResult result = instrument(classes(heavy("heavyCo", 8000, 800, true)));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome(), result.diagnostics().toString());
        assertEquals(1, result.diagnostics().size(), result.diagnostics().toString());
        String message = result.diagnostics().get(0).format();
        assertTrue(message.contains("t.Q.heavyCo(I)I") && message.contains("ASM gave up computing its stack map frames"),
                "the refusal names the method that passed the budget, and why: " + message);
    }
}
