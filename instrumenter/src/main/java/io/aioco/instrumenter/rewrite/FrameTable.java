package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Why: a suspended coroutine's frames are a state number and saved slots, nothing a reader of a
 * dump can place in the source. This collects, for every suspension point of a class's rewritten
 * methods, its state number, source line, how many primitive and reference slots its frame saves
 * (so that a reader can walk from one saved frame to the next without running any code) and what
 * it calls; the class's static initializer hands the table to the runtime ({@code
 * io.aioco.internal.CoTables.register}), so describing a frame costs nothing while coroutines run.
 *
 * <p>The text, one line per entry, fields separated by tabs (the runtime parses it):
 * <pre>
 * C  class (dotted)  source file (or "-")
 * M  method name     state of the next point
 * P  line (-1: none) primitive slots (the state included)  reference slots  R|W  callee (Owner.name, dotted)
 * </pre>
 * R marks a call to one of the runtime's hand-written coroutine functions (the innermost woven
 * frame: below it lies that function's wait, or nothing for a plain yield), W any other callee.
 * Points follow their M line with consecutive states. Long tables are split into several strings
 * (a constant holds 64 KiB), each starting with its C line.
 *
 * <p>Not part of the calling protocol: frames are saved exactly as before. Deterministic: the agent
 * and the Maven plugin write the same table. Confined to the thread that rewrites the class.
 */
public final class FrameTable {
    /** Characters per string constant: at most 3 bytes each in modified UTF-8, under 65535. */
    private static final int CHUNK = 20_000;

    private final String header;
    private final List<String> chunks = new ArrayList<>();
    private StringBuilder current;

    /** @param owner the class being rewritten */
    public FrameTable(ClassNode owner) {
        this.header = "C\t" + owner.name.replace('/', '.') + "\t" + (owner.sourceFile == null ? "-" : owner.sourceFile)
                + "\n";
    }

    /** Adds the suspension points of one rewritten method (the body's: the fresh body saves the same frames). */
    void add(String methodName, String methodId, int stateBase, List<SuspensionPoint> points) {
        String methodLine = null;
        for (SuspensionPoint point : points) {
            int[] slots = StateMachine.savedSlots(point, methodId);
            MethodInsnNode call = point.call();
            boolean runtime = RuntimeNames.isRuntimeClass(call.owner) && call.getOpcode() != Opcodes.INVOKEINTERFACE;
            String line = "P\t" + point.line() + "\t" + slots[0] + "\t" + slots[1] + "\t" + (runtime ? "R" : "W") + "\t"
                    + call.owner.replace('/', '.') + "." + call.name + "\n";
            if (current == null || current.length() + line.length() + 200 > CHUNK) {
                current = new StringBuilder(header);
                chunks.add(null);
                methodLine = null;
            }
            if (methodLine == null) {
                methodLine = "M\t" + methodName + "\t" + (stateBase + point.index()) + "\n";
                current.append(methodLine);
            }
            current.append(line);
            chunks.set(chunks.size() - 1, current.toString());
        }
    }

    /**
     * Makes the class's static initializer register the table first (one constant and one static
     * call per string; the initializer is created if the class has none). Nothing when no method
     * can suspend.
     */
    public void emitRegistration(ClassNode owner) {
        if (chunks.isEmpty()) {
            return;
        }
        InsnList register = new InsnList();
        for (String chunk : chunks) {
            register.add(new LdcInsnNode(chunk));
            register.add(new MethodInsnNode(Opcodes.INVOKESTATIC, RuntimeNames.TABLES, RuntimeNames.REGISTER,
                    RuntimeNames.REGISTER_DESC, false));
        }
        for (MethodNode method : owner.methods) {
            if (method.name.equals("<clinit>") && method.instructions.size() > 0) {
                AbstractInsnNode first = method.instructions.getFirst();
                method.instructions.insertBefore(first, register);
                method.maxStack = Math.max(method.maxStack, 1);
                return;
            }
        }
        // NOTE: synthetic (the JVM ignores a static initializer's other flags), so that coverage tools
        // (JaCoCo filters synthetic methods) do not count it against the class
        MethodNode init = new MethodNode(Opcodes.ACC_STATIC | Opcodes.ACC_SYNTHETIC, "<clinit>", "()V", null, null);
        init.instructions.add(register);
        init.instructions.add(new InsnNode(Opcodes.RETURN));
        init.maxStack = 1;
        owner.methods.add(init);
    }
}
