package io.aioco.instrumenter.rewrite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.TestCompiler;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;

/**
 * The code the rewrite adds after a method's code (each suspension point's suspend and resume
 * blocks, the dispatch) carries source lines of its own: the suspension point's line, the first
 * line for the dispatch; never the line of the code before it in the class file (the method's
 * last line), where a debugger stepping over a call that suspends would otherwise stop.
 */
class TailLinesTest {
    private static final String SOURCE = String.join("\n",
            "package t; import io.aioco.*; public class Lines {",              // 1
            "  @CoroutineFn static int one(int x) { Coroutine.yield(); return x + 1; }", // 2
            "  @CoroutineFn public static int run(int x) {",                     // 3
            "    int a = x + 1;",                                                // 4
            "    Coroutine.yield();",                                            // 5
            "    int b = one(a);",                                               // 6
            "    return a + b;",                                                 // 7
            "  }",
            "}");

    @Test
    void theSuspendAndResumeBlocksHaveTheSuspensionPointsLinesTheDispatchTheFirstLine() {
        Map<String, byte[]> classes = TestCompiler.compile(Map.of("t.Lines", SOURCE));
        ClassLookup lookup = classes::get;
        byte[] rewritten = new Instrumenter(name -> {
            byte[] own = lookup.classBytes(name);
            return own != null ? own : ClassLookup.ofClassLoader(getClass().getClassLoader()).classBytes(name);
        }).instrument(classes.get("t/Lines")).bytes();
        ClassNode node = new ClassNode();
        new ClassReader(rewritten).accept(node, 0);
        Map<String, String> seen = new TreeMap<>();
        for (MethodNode method : node.methods) {
            if (!method.name.equals("run") || !method.desc.contains("CoStack;")) {
                continue; // the wrapper has no suspension point of its own
            }
            String kind = method.desc.contains("CoStack;I)") ? "body" : "fresh";
            TreeSet<Integer> saveRestoreLines = new TreeSet<>();
            TreeSet<Integer> dispatchLines = new TreeSet<>();
            int line = -1;
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof LineNumberNode number) {
                    line = number.line;
                } else if (insn instanceof MethodInsnNode call && call.owner.equals("io/aioco/internal/CoStack")
                        && (call.name.startsWith("push") || call.name.startsWith("pop"))) {
                    (kind.equals("body") && call.name.equals("popInt") && insn.getNext() instanceof TableSwitchInsnNode
                            ? dispatchLines : saveRestoreLines).add(line);
                } else if (insn instanceof TableSwitchInsnNode) {
                    dispatchLines.add(line);
                }
            }
            assertFalse(saveRestoreLines.isEmpty(), kind);
            seen.put(kind, "save/restore on " + saveRestoreLines + ", dispatch on " + dispatchLines);
        }
        assertEquals(Map.of("body", "save/restore on [5, 6], dispatch on [4]", "fresh", "save/restore on [5], dispatch on []"),
                seen);
    }
}
