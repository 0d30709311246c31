package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.Bytecode;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Why: a direct call between coroutine functions is an {@code invokedynamic} that {@code CoLinker}
 * links to the callee's body, because the callee's class may turn out not to be instrumented. When
 * the callee is in the class being written, its body is right there: a plain call does the same
 * without method-handle frames. JDK 25's C2 stops inlining through them: each call site inlines
 * the same compiled lambda form ({@code linkToTargetMethod}) with the call's first argument, and
 * C2 takes a lambda form met again with the same first argument (a value passed down the chain,
 * or the stack for a function without parameters) for recursion, which it inlines one level deep
 * ("recursive inlining is too deep"). A chain of small coroutine functions was not inlined at all.
 * A static call to a coroutine function of another class becomes a plain call of its fresh body
 * too when the caller of the instrumenter weaves that class alike ({@code Instrumenter.Options
 * wovenAlike}) or its class file already carries the current marker, and the caller's class file
 * is of Java 11 or later: guarded by a dynamic constant ({@code CoLinker.hasBody}, folded by the
 * JIT) that keeps the linked call for a callee whose class was loaded unwoven all the same (boot
 * class path, loaded before the agent started, weaving failed), so the call never fails with a
 * {@code NoSuchMethodError} and runs such a callee as plain code, as before. The call that resumes
 * keeps its link (it runs only to resume, and then the callee is known to be woven). Runs last, on
 * the finished class.
 */
public final class LocalDirectCalls {
    private LocalDirectCalls() {}

    /** As {@link #link(ClassNode, ClassHierarchy, Predicate, Predicate)} with no other class woven alike. */
    public static void link(ClassNode owner) {
        link(owner, null, name -> false, method -> false);
    }

    /**
     * @param owner the finished class
     * @param hierarchy what is known of other classes, or null to leave their calls linked
     * @param wovenAlike the classes woven with this one (internal names)
     * @param unguarded the methods (name and original descriptor, as {@link
     *     WrapperSplit#originalDescriptor} gives it) whose calls to other classes stay linked: the
     *     guard adds code and constants, which a method or class near the JVM's limits cannot take
     * @return the methods (name and original descriptor) given a guarded call
     */
    public static Set<String> link(ClassNode owner, ClassHierarchy hierarchy, Predicate<String> wovenAlike,
            Predicate<String> unguarded) {
        Set<String> guarded = new HashSet<>();
        Map<String, MethodNode> bodies = new HashMap<>();
        for (MethodNode method : owner.methods) {
            if (WrapperSplit.isBodyDescriptor(method.desc)) {
                bodies.put(method.name + method.desc, method);
            }
        }
        boolean isInterface = (owner.access & Opcodes.ACC_INTERFACE) != 0;
        for (MethodNode method : owner.methods) {
            String key = method.name + WrapperSplit.originalDescriptor(method.desc);
            boolean mayGuard = hierarchy != null && !unguarded.test(key);
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (!(insn instanceof InvokeDynamicInsnNode indy) || !isLink(indy)) {
                    continue;
                }
                String callee = ((Type) indy.bsmArgs[0]).getInternalName();
                if (!callee.equals(owner.name)) {
                    Boolean calleeIsInterface = !mayGuard ? null
                            : wovenStaticCallee(owner, indy, callee, hierarchy, wovenAlike);
                    if (calleeIsInterface != null) {
                        insn = guardedCall(method, indy, callee, calleeIsInterface);
                        guarded.add(key);
                    }
                    continue;
                }
                boolean isStatic = (Integer) indy.bsmArgs[1] == Opcodes.INVOKESTATIC;
                String bodyDesc = isStatic ? indy.desc : withoutReceiver(indy.desc);
                MethodNode body = bodies.get(indy.name + bodyDesc);
                boolean dropSignal = false;
                if (body == null && bodyDesc.endsWith(STACK_AND_SIGNAL_LAST + Type.getReturnType(bodyDesc).getDescriptor())
                        && previousOpcode(indy) == Opcodes.ICONST_0) {
                    // a compact caller's fresh call (the signal 0) of a function that cannot
                    // suspend: it has its fresh body only, which the signal is dropped for (a
                    // function that cannot suspend is never resumed). The usual encoding's call
                    // that resumes (its signal an ldc) is left as it was
                    String freshDesc = bodyDesc.replace(STACK_AND_SIGNAL_LAST, STACK_LAST);
                    body = bodies.get(indy.name + freshDesc);
                    dropSignal = body != null;
                    bodyDesc = freshDesc;
                }
                if (body == null || isStatic != ((body.access & Opcodes.ACC_STATIC) != 0)
                        || (!isStatic && (body.access & Opcodes.ACC_PRIVATE) == 0)) {
                    continue; // NOTE: a public body (an interface before Java 9) keeps its linked call
                }
                MethodInsnNode call = new MethodInsnNode(isStatic ? Opcodes.INVOKESTATIC : Opcodes.INVOKESPECIAL,
                        owner.name, indy.name, bodyDesc, isInterface);
                method.instructions.set(indy, call);
                if (dropSignal) {
                    method.instructions.insertBefore(call, new InsnNode(Opcodes.POP));
                }
                insn = call;
            }
        }
        return guarded;
    }

    /**
     * @return for a fresh static call to a coroutine function that {@code callee} declares and that
     *     is woven alike, whether {@code callee} is an interface; else null (the call stays linked)
     */
    private static Boolean wovenStaticCallee(ClassNode owner, InvokeDynamicInsnNode indy, String callee,
            ClassHierarchy hierarchy, Predicate<String> wovenAlike) {
        if ((Integer) indy.bsmArgs[1] != Opcodes.INVOKESTATIC || !indy.desc.contains(STACK_LAST)) {
            return null; // an instance call (super.m(): the body is private), or the call that resumes
        }
        ClassHierarchy.ClassInfo info = hierarchy.get(callee);
        if (info == null || info.wovenVersion() != RuntimeNames.PROTOCOL_VERSION
                && (info.wovenVersion() != 0 || !wovenAlike.test(callee))) {
            return null;
        }
        // declared there (an inherited static method's body is in its declaring class: left linked)
        ClassHierarchy.MethodInfo declared = info.methods().get(indy.name + originalDescriptor(indy.desc));
        // the guard is a dynamic constant (class files of Java 11 and later)
        if (declared == null || (declared.access() & Opcodes.ACC_STATIC) == 0
                || Bytecode.majorVersion(owner) < Opcodes.V11) {
            return null;
        }
        return info.isInterface();
    }

    /**
     * Puts a plain call of the callee's fresh body in front of the linked call, guarded by a dynamic
     * constant ({@code CoLinker.hasBody}) that tells whether the callee's class has that body (it
     * may have been loaded unwoven all the same): <pre>
     * ldc hasBody          // the callee's class, or null; folded by the JIT
     * ifnull slow
     * invokestatic callee.m(A, CoStack)R
     * goto done
     * slow: invokedynamic link m(A, CoStack)R   // as before: the original method if not woven
     * done:</pre>
     * The arguments stay on the operand stack for either call.
     *
     * @return the last node of the guarded call (the loop goes on after it)
     */
    private static AbstractInsnNode guardedCall(MethodNode method, InvokeDynamicInsnNode indy, String callee,
            boolean calleeIsInterface) {
        LabelNode slow = new LabelNode();
        LabelNode done = new LabelNode();
        InsnList guard = new InsnList();
        guard.add(new LdcInsnNode(new ConstantDynamic(indy.name, "Ljava/lang/Object;", HAS_BODY, Type.getObjectType(callee),
                Type.getMethodType(indy.desc))));
        guard.add(new JumpInsnNode(Opcodes.IFNULL, slow));
        guard.add(new MethodInsnNode(Opcodes.INVOKESTATIC, callee, indy.name, indy.desc, calleeIsInterface));
        guard.add(new JumpInsnNode(Opcodes.GOTO, done));
        guard.add(slow);
        method.instructions.insertBefore(indy, guard);
        method.instructions.insert(indy, done);
        return done;
    }

    private static final Handle HAS_BODY = new Handle(Opcodes.H_INVOKESTATIC, RuntimeNames.LINKER,
            RuntimeNames.HAS_BODY, RuntimeNames.HAS_BODY_DESC, false);

    private static final String STACK_LAST = "L" + RuntimeNames.STACK + ";)";
    private static final String STACK_AND_SIGNAL_LAST = "L" + RuntimeNames.STACK + ";I)";

    private static String originalDescriptor(String freshDesc) {
        int end = freshDesc.lastIndexOf(STACK_LAST);
        return freshDesc.substring(0, end) + freshDesc.substring(end + STACK_LAST.length() - 1);
    }

    /** @return the opcode of the instruction before {@code insn} (labels and lines skipped), or -1 */
    private static int previousOpcode(AbstractInsnNode insn) {
        for (AbstractInsnNode previous = insn.getPrevious(); previous != null; previous = previous.getPrevious()) {
            if (previous.getOpcode() >= 0) {
                return previous.getOpcode();
            }
        }
        return -1;
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
