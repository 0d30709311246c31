package io.aioco.instrumenter.classfile;

import java.util.ArrayList;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TypeInsnNode;

/**
 * The helpers over ASM's tree that several parts of the instrumenter share (the orchestrators, the
 * passes and the checks): class file version, source lines, a refused method's throwing body. No
 * QEMU counterpart. Stateless; any thread may call it.
 */
public final class Bytecode {
    private Bytecode() {}

    /**
     * The class file's major version. ASM's {@code version} also holds the minor version in its high
     * bits, so a (damaged) minor version of 0x8000 or more would make it negative.
     */
    public static int majorVersion(ClassNode owner) {
        return owner.version & 0xFFFF;
    }

    /** @return the first source line of the method, or -1 */
    public static int firstLine(MethodNode method) {
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof LineNumberNode line) {
                return line.line;
            }
        }
        return -1;
    }

    /** @return the source line of the instruction, or -1 */
    public static int lineOf(AbstractInsnNode insn) {
        for (AbstractInsnNode previous = insn; previous != null; previous = previous.getPrevious()) {
            if (previous instanceof LineNumberNode line) {
                return line.line;
            }
        }
        return -1;
    }

    /**
     * Replaces a refused method's body by {@code throw new IllegalStateException(message)}, so the
     * mistake surfaces at the first call.
     */
    public static void replaceWithThrow(MethodNode method, String message) {
        InsnList body = new InsnList();
        body.add(new TypeInsnNode(Opcodes.NEW, "java/lang/IllegalStateException"));
        body.add(new InsnNode(Opcodes.DUP));
        body.add(new LdcInsnNode(message));
        body.add(new MethodInsnNode(Opcodes.INVOKESPECIAL, "java/lang/IllegalStateException", "<init>",
                "(Ljava/lang/String;)V", false));
        body.add(new InsnNode(Opcodes.ATHROW));
        method.instructions = body;
        method.tryCatchBlocks = new ArrayList<>();
        method.localVariables = null;
        method.visibleLocalVariableAnnotations = null;
        method.invisibleLocalVariableAnnotations = null;
        method.visibleTypeAnnotations = null;
        method.invisibleTypeAnnotations = null;
        method.maxStack = 3;
    }
}
