package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.HashMap;
import java.util.Map;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Why: a direct call between coroutine functions is an {@code invokedynamic} that {@code CoLinker}
 * links to the callee's body, because the callee's class may turn out not to be instrumented. When
 * the callee is in the class being written, its body is right there: a plain call does the same
 * without method-handle frames, which JDK 25's C2 counts against its inlining depth (a chain of
 * small coroutine functions was not inlined at all there). Runs last, on the finished class.
 */
public final class LocalDirectCalls {
    private LocalDirectCalls() {}

    public static void link(ClassNode owner) {
        Map<String, MethodNode> bodies = new HashMap<>();
        for (MethodNode method : owner.methods) {
            if (WrapperSplit.isBodyDescriptor(method.desc)) {
                bodies.put(method.name + method.desc, method);
            }
        }
        if (bodies.isEmpty()) {
            return;
        }
        boolean isInterface = (owner.access & Opcodes.ACC_INTERFACE) != 0;
        for (MethodNode method : owner.methods) {
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (!(insn instanceof InvokeDynamicInsnNode indy) || !isLink(indy)
                        || !((Type) indy.bsmArgs[0]).getInternalName().equals(owner.name)) {
                    continue;
                }
                boolean isStatic = (Integer) indy.bsmArgs[1] == Opcodes.INVOKESTATIC;
                String bodyDesc = isStatic ? indy.desc : withoutReceiver(indy.desc);
                MethodNode body = bodies.get(indy.name + bodyDesc);
                if (body == null || isStatic != ((body.access & Opcodes.ACC_STATIC) != 0)
                        || (!isStatic && (body.access & Opcodes.ACC_PRIVATE) == 0)) {
                    continue; // NOTE: a public body (an interface before Java 9) keeps its linked call
                }
                MethodInsnNode call = new MethodInsnNode(isStatic ? Opcodes.INVOKESTATIC : Opcodes.INVOKESPECIAL,
                        owner.name, indy.name, bodyDesc, isInterface);
                method.instructions.set(indy, call);
                insn = call;
            }
        }
    }

    private static boolean isLink(InvokeDynamicInsnNode indy) {
        return indy.bsm.getOwner().equals(RuntimeNames.LINKER) && indy.bsm.getName().equals(RuntimeNames.LINK)
                && indy.bsmArgs.length == 2 && indy.bsmArgs[0] instanceof Type && indy.bsmArgs[1] instanceof Integer;
    }

    private static String withoutReceiver(String desc) {
        Type[] arguments = Type.getArgumentTypes(desc);
        Type[] rest = new Type[arguments.length - 1];
        System.arraycopy(arguments, 1, rest, 0, rest.length);
        return Type.getMethodDescriptor(Type.getReturnType(desc), rest);
    }
}
