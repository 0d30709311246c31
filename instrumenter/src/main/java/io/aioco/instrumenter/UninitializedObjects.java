package io.aioco.instrumenter;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.tree.analysis.Frame;

/**
 * Why: an object that is allocated but not yet constructed ({@code new Foo(suspendingCall())}: NEW,
 * DUP, then the arguments) cannot be saved by a suspended frame; the JVM allows nothing but its
 * constructor call on it. This pass moves such NEW/DUP pairs after the constructor's arguments:
 * the arguments go to fresh locals, then NEW, DUP, the arguments again, and the constructor call.
 * The only visible difference is that the class of the new object is initialised after its
 * constructor's arguments are evaluated rather than before.
 */
final class UninitializedObjects {
    private UninitializedObjects() {}

    /** A NEW whose uninitialized value is on the operand stack at a suspension point. */
    private record Allocation(TypeInsnNode newInsn, AbstractInsnNode dup, MethodInsnNode constructorCall) {}

    /**
     * Rewrites the method in place.
     *
     * @param suspensionCalls the calls that may suspend
     * @return whether anything changed (the method must then be analysed again)
     * @throws InstrumentationException for an allocation of a shape this pass does not know
     */
    static boolean rewrite(String owner, MethodNode method, Frame<BasicValue>[] frames,
            Set<MethodInsnNode> suspensionCalls) {
        InsnList instructions = method.instructions;
        List<Allocation> allocations = new ArrayList<>();
        for (int i = 0; i < instructions.size(); i++) {
            AbstractInsnNode insn = instructions.get(i);
            if (insn.getOpcode() != Opcodes.NEW || frames[i] == null) {
                continue;
            }
            int position = frames[i].getStackSize(); // where the NEW's value sits on the stack
            MethodInsnNode constructorCall = null;
            boolean spansSuspension = false;
            for (int j = i + 1; j < instructions.size() && constructorCall == null; j++) {
                AbstractInsnNode candidate = instructions.get(j);
                if (frames[j] == null) {
                    continue;
                }
                if (candidate instanceof MethodInsnNode call) {
                    int arguments = Type.getArgumentTypes(call.desc).length;
                    if (call.getOpcode() == Opcodes.INVOKESPECIAL && call.name.equals("<init>")
                            && frames[j].getStackSize() - arguments - 1 <= position + 1
                            && frames[j].getStackSize() - arguments - 1 >= position) {
                        constructorCall = call;
                    } else if (suspensionCalls.contains(call) && frames[j].getStackSize() > position) {
                        spansSuspension = true;
                    }
                }
                if (frames[j].getStackSize() <= position) {
                    break; // the allocation left the stack without a constructor call (dead or odd code)
                }
            }
            if (!spansSuspension) {
                continue;
            }
            AbstractInsnNode dup = nextReal(insn);
            if (constructorCall == null || dup == null || dup.getOpcode() != Opcodes.DUP
                    || !constructorCall.owner.equals(((TypeInsnNode) insn).desc)) {
                throw new InstrumentationException("unsupported shape in " + owner.replace('/', '.') + "."
                        + method.name + method.desc + ": an object under construction ("
                        + ((TypeInsnNode) insn).desc.replace('/', '.')
                        + ") is on the stack at a suspension point, and it is not a plain NEW, DUP,"
                        + " arguments, constructor call; move the suspending call out of the"
                        + " constructor's arguments into a local variable");
            }
            allocations.add(new Allocation((TypeInsnNode) insn, dup, constructorCall));
        }
        for (Allocation allocation : allocations) {
            move(method, allocation);
        }
        return !allocations.isEmpty();
    }

    private static void move(MethodNode method, Allocation allocation) {
        InsnList instructions = method.instructions;
        Type[] arguments = Type.getArgumentTypes(allocation.constructorCall().desc);
        int[] temps = new int[arguments.length];
        for (int a = 0; a < arguments.length; a++) {
            temps[a] = method.maxLocals;
            method.maxLocals += arguments[a].getSize();
        }
        InsnList before = new InsnList();
        for (int a = arguments.length - 1; a >= 0; a--) {
            before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ISTORE), temps[a]));
        }
        before.add(new TypeInsnNode(Opcodes.NEW, allocation.newInsn().desc));
        before.add(new InsnNode(Opcodes.DUP));
        for (int a = 0; a < arguments.length; a++) {
            before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), temps[a]));
        }
        instructions.insertBefore(allocation.constructorCall(), before);
        instructions.remove(allocation.newInsn());
        instructions.remove(allocation.dup());
    }

    private static AbstractInsnNode nextReal(AbstractInsnNode insn) {
        AbstractInsnNode next = insn.getNext();
        while (next != null && next.getOpcode() < 0) {
            next = next.getNext();
        }
        return next;
    }
}
