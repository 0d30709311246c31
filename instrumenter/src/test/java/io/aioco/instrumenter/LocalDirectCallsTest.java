package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/** Direct calls to bodies of the same class are plain calls; calls to other classes stay linked. */
class LocalDirectCallsTest {
    @Test
    void callsWithinTheClassGoStraightToTheBodyOthersThroughTheLinker() {
        Map<String, byte[]> classes = TestCompiler.compile(Map.of(
                "t.Other", "package t; import io.aioco.*; public class Other {"
                        + " @CoroutineFn public static int twice(int x) { Coroutine.yield(); return 2 * x; } }",
                "t.Chain", "package t; import io.aioco.*; public class Chain {"
                        + " @CoroutineFn static int one(int x) { Coroutine.yield(); return x + 1; }"
                        + " @CoroutineFn private int two(int x) { return one(x) + Other.twice(x); }"
                        + " @CoroutineFn int three(int x) { return two(x) + 3; } }"));
        ClassLookup lookup = classes::get;
        byte[] rewritten = new Instrumenter(name -> {
            byte[] own = lookup.classBytes(name);
            return own != null ? own : ClassLookup.ofClassLoader(getClass().getClassLoader()).classBytes(name);
        }).instrument(classes.get("t/Chain")).bytes();
        ClassNode node = new ClassNode();
        new ClassReader(rewritten).accept(node, 0);
        List<String> calls = new ArrayList<>();
        for (MethodNode method : node.methods) {
            if (!method.desc.contains("CoStack;I)")) {
                continue; // wrappers
            }
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode call && call.desc.contains("CoStack;I)")) {
                    calls.add(method.name + " -> " + call.name + " " + (call.getOpcode() == 184 ? "static" : "special"));
                } else if (insn instanceof InvokeDynamicInsnNode indy) {
                    calls.add(method.name + " -> " + indy.name + " linked");
                }
            }
        }
        // one call instruction per call site: the resume block jumps back to it
        assertEquals(List.of("three -> two special", "two -> one static", "two -> twice linked"),
                calls.stream().sorted().toList());
    }
}
