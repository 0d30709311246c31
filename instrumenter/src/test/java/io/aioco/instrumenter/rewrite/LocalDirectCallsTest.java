package io.aioco.instrumenter.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.TestCompiler;
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
            String kind = method.desc.contains("CoStack;I)") ? "body" : method.desc.contains("CoStack;)") ? "fresh" : null;
            if (kind == null) {
                continue; // wrappers
            }
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode call && call.desc.contains("CoStack;")) {
                    calls.add(method.name + " " + kind + " -> " + call.name + " " + (call.getOpcode() == 184 ? "static" : "special")
                            + (call.desc.contains("CoStack;I)") ? " resume" : " fresh"));
                } else if (insn instanceof InvokeDynamicInsnNode indy) {
                    calls.add(method.name + " " + kind + " -> " + indy.name + " linked"
                            + (indy.desc.contains("CoStack;I)") ? " resume" : " fresh"));
                }
            }
        }
        // per call site: the body calls the callee's fresh body, and its body to resume it; the fresh
        // body has only the first call
        assertEquals(List.of(
                "three body -> two special fresh", "three body -> two special resume", "three fresh -> two special fresh",
                "two body -> one static fresh", "two body -> one static resume",
                "two body -> twice linked fresh", "two body -> twice linked resume",
                "two fresh -> one static fresh", "two fresh -> twice linked fresh").stream().sorted().toList(),
                calls.stream().sorted().toList());
    }
}
