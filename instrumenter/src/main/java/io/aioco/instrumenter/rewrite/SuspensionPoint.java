package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.analysis.BasicValue;

/**
 * A call that may suspend, and what a frame must save when it does.
 *
 * @param index its number in the method (the state the frame saves)
 * @param call the call instruction
 * @param linkage how the call is made
 * @param line the source line, or -1
 * @param liveLocals the locals to save: slot and verification type, in slot order
 * @param stackBelow the operand stack below the call's receiver and arguments, bottom first
 * @param receiverType the receiver's type for an instance call, else null
 */
record SuspensionPoint(int index, MethodInsnNode call, Linkage linkage, int line, List<Slot> liveLocals,
        List<BasicValue> stackBelow, BasicValue receiverType) {

    /** How the rewritten code reaches the callee. */
    enum Linkage {
        /** {@code Coroutine.yield()}: no call at all, the frame suspends in place. */
        INLINE_YIELD,
        /** Statically bound: an invokedynamic linked to the callee's body, the stack passed along. */
        DIRECT,
        /**
         * Virtual or interface: an invokedynamic inline cache ({@code CoLinker.linkVirtual}) that
         * calls the fresh body of the receiver's woven method with the stack passed along, or else
         * leaves {@code NOT_SELECTED}, and then the original call, next to it (also the call that
         * resumes).
         */
        VIRTUAL,
        /** The original call, whose wrapper looks the stack up (old class files, the runtime's functions). */
        ORIGINAL
    }

    /** A local variable slot and its verification type. */
    record Slot(int local, BasicValue value) {}

    boolean hasReceiver() {
        return call.getOpcode() != Opcodes.INVOKESTATIC;
    }

    Type[] argumentTypes() {
        return Type.getArgumentTypes(call.desc);
    }

    Type returnType() {
        return Type.getReturnType(call.desc);
    }

    int token() {
        return RuntimeNames.token(call.name, call.desc);
    }
}
