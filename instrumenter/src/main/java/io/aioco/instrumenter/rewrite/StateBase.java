package io.aioco.instrumenter.rewrite;

import java.util.HashMap;
import java.util.Map;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.MultiANewArrayInsnNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Why: a saved coroutine frame holds a state number and values, not the code it was saved by. If
 * the method is redefined (a debugger's hot swap) while a coroutine is suspended in it, the new
 * body must not resume that frame at the old number, which may be another suspension point of
 * other code (code before it would run twice, silently). So the state numbers of a method start at
 * a base derived from its original code: the resume dispatch's {@code tableswitch} runs from base
 * to base + n - 1 (no subtraction: the JVM's switch does it), and a frame saved by another version
 * of the code falls into its default branch, which throws.
 *
 * <p>The base depends only on the method's name, descriptor and instructions (opcodes, operands,
 * the order of labels, lines, handlers), never on where the method is woven: the agent and the
 * Maven plugin compute the same one.
 */
final class StateBase {
    /** Bases stay below 2^30, so that base + the number of suspension points never overflows. */
    private static final int MASK = 0x3FFF_FFFF;

    private StateBase() {}

    /** @return the base of the state numbers of {@code method}, from its code as read from the class file */
    static int of(MethodNode method) {
        Map<LabelNode, Integer> labels = new HashMap<>();
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof LabelNode label) {
                labels.put(label, labels.size());
            }
        }
        long hash = mix(0xCBF29CE484222325L, method.name + method.desc);
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            hash = mix(hash, insn.getOpcode());
            hash = mix(hash, operands(insn, labels));
        }
        for (TryCatchBlockNode handler : method.tryCatchBlocks) {
            hash = mix(hash, labels.get(handler.start) + " " + labels.get(handler.end) + " "
                    + labels.get(handler.handler) + " " + handler.type);
        }
        return (int) (hash ^ (hash >>> 32)) & MASK;
    }

    /** @return the operands of one instruction as text, labels by their order in the method */
    private static String operands(AbstractInsnNode insn, Map<LabelNode, Integer> labels) {
        if (insn instanceof IntInsnNode node) {
            return Integer.toString(node.operand);
        } else if (insn instanceof VarInsnNode node) {
            return Integer.toString(node.var);
        } else if (insn instanceof IincInsnNode node) {
            return node.var + " " + node.incr;
        } else if (insn instanceof TypeInsnNode node) {
            return node.desc;
        } else if (insn instanceof FieldInsnNode node) {
            return node.owner + "." + node.name + node.desc;
        } else if (insn instanceof MethodInsnNode node) {
            return node.owner + "." + node.name + node.desc;
        } else if (insn instanceof InvokeDynamicInsnNode node) {
            return node.name + node.desc + node.bsm + java.util.Arrays.toString(node.bsmArgs);
        } else if (insn instanceof LdcInsnNode node) {
            return node.cst.getClass().getName() + " " + node.cst;
        } else if (insn instanceof JumpInsnNode node) {
            return labels.get(node.label).toString();
        } else if (insn instanceof LineNumberNode node) {
            return node.line + " " + labels.get(node.start);
        } else if (insn instanceof TableSwitchInsnNode node) {
            StringBuilder text = new StringBuilder().append(node.min).append(' ').append(labels.get(node.dflt));
            node.labels.forEach(label -> text.append(' ').append(labels.get(label)));
            return text.toString();
        } else if (insn instanceof LookupSwitchInsnNode node) {
            StringBuilder text = new StringBuilder(node.keys.toString()).append(' ').append(labels.get(node.dflt));
            node.labels.forEach(label -> text.append(' ').append(labels.get(label)));
            return text.toString();
        } else if (insn instanceof MultiANewArrayInsnNode node) {
            return node.desc + " " + node.dims;
        }
        return ""; // NOTE: labels and frames: their order is in the operands that name them
    }

    private static long mix(long hash, String text) {
        for (int i = 0; i < text.length(); i++) {
            hash = mix(hash, text.charAt(i));
        }
        return mix(hash, -1);
    }

    /** FNV-1a, one int at a time. */
    private static long mix(long hash, int value) {
        return (hash ^ value) * 0x100000001B3L;
    }
}
