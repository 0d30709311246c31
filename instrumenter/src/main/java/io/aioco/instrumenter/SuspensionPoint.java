package io.aioco.instrumenter;

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
 * @param line the source line, or -1
 * @param liveLocals the locals to save: slot and verification type, in slot order
 * @param stackBelow the operand stack below the call's receiver and arguments, bottom first
 * @param receiverType the receiver's type for an instance call, else null
 */
record SuspensionPoint(int index, MethodInsnNode call, int line, List<Slot> liveLocals,
        List<BasicValue> stackBelow, BasicValue receiverType) {

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
