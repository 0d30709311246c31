package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.Bytecode;
import io.aioco.instrumenter.classfile.RuntimeNames;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LocalVariableNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Why: the path that does not suspend must not look up the running coroutine (a thread-local read)
 * at every call. Each coroutine function {@code m(A)R} is split: a <em>wrapper</em> with the
 * original signature, access and annotations, which looks the running coroutine's stack up, and the
 * code that receives that stack from its caller. A function that can suspend gets two copies of
 * its code: the <em>body</em> {@code m(A, CoStack, int)R}, which also receives the caller's signal
 * (0 for a fresh call, {@code token | RESUME} to resume its saved frame) and which the wrapper
 * and resuming callers call; and the <em>fresh body</em> {@code m(A, CoStack)R}, the same code
 * without the entry check and the resume blocks, for fresh calls from instrumented code (see
 * {@link StateMachine}). A function that cannot suspend has only the fresh body. Instrumented
 * callers reach the bodies directly when the call is statically bound, and the fresh body through
 * an inline cache for a virtual call whose receiver selects a woven method ({@code
 * CoLinker.linkVirtual}); everybody else (the resume of a virtual call, reflection, code that is
 * not instrumented) goes through the wrapper. Signatures seen by
 * the outside world do not change.
 */
public final class WrapperSplit {
    private WrapperSplit() {}

    /** @return the descriptor of the (resumable) body of a coroutine function with descriptor {@code desc} */
    static String bodyDescriptor(String desc) {
        int close = desc.indexOf(')');
        return desc.substring(0, close) + RuntimeNames.BODY_PARAMETERS + desc.substring(close);
    }

    /** @return the descriptor of the fresh body of a coroutine function with descriptor {@code desc} */
    static String freshDescriptor(String desc) {
        int close = desc.indexOf(')');
        return desc.substring(0, close) + RuntimeNames.STACK_DESC + desc.substring(close);
    }

    /**
     * The fresh body of a static coroutine function that was refused: it throws as the refused
     * method now does. A static call from another class may go straight to the fresh body
     * ({@link LocalDirectCalls}), so the refusal's message must be there too.
     *
     * @param owner the class
     * @param refused the refused method
     * @param desc its descriptor
     * @param message what the refused method throws
     * @return the fresh body to add, or null when there is none to add (not static, or the body
     *     would have too many parameters)
     */
    public static MethodNode refusedFreshBody(ClassNode owner, MethodNode refused, String desc, String message) {
        if ((refused.access & Opcodes.ACC_STATIC) == 0 || MethodRewrite.tooManyParameters(desc, true)) {
            return null;
        }
        MethodNode fresh = new MethodNode(bodyAccess(owner, refused.access) & ~Opcodes.ACC_SYNCHRONIZED,
                refused.name, freshDescriptor(desc), null, null);
        Bytecode.replaceWithThrow(fresh, message);
        return fresh;
    }

    /** @return whether {@code desc} is the descriptor of a body or a fresh body */
    public static boolean isBodyDescriptor(String desc) {
        return !originalDescriptor(desc).equals(desc);
    }

    /**
     * @return the original descriptor of a body's or fresh body's descriptor (or {@code desc} if it
     *     is neither; any string that holds such a descriptor works, e.g. {@code name(desc)})
     */
    public static String originalDescriptor(String desc) {
        for (String parameters : new String[] {RuntimeNames.BODY_PARAMETERS, RuntimeNames.STACK_DESC}) {
            int at = desc.indexOf(parameters + ")");
            if (at >= 0) {
                return desc.substring(0, at) + desc.substring(at + parameters.length());
            }
        }
        return desc;
    }

    /**
     * @return the local slot of the stack parameter in the body of {@code method} (before the split);
     *     the signal parameter follows it
     */
    static int stackSlot(MethodNode method) {
        int slot = (method.access & Opcodes.ACC_STATIC) != 0 ? 0 : 1;
        for (Type argument : Type.getArgumentTypes(method.desc)) {
            slot += argument.getSize();
        }
        return slot;
    }

    /**
     * Turns {@code method} into the body (in place; the fresh body if it cannot suspend) and
     * returns the wrapper to put in the class.
     *
     * @param methodId {@code pkg.Class.name(desc)}, for the wrapper's "outside a coroutine" error
     * @param lambdaMethods the functional interface methods ({@code name + desc}) it implements as a
     *     lambda body: a signal armed for one of them is its own when a lambda proxy called it
     * @param exact the method may hide a package-private method of a superclass of another package
     *     (or a superclass could not be read): its wrapper takes {@code CoStack.admitExact}, which
     *     has no fast path for a receiver of the declaring class
     */
    static MethodNode split(ClassNode owner, MethodNode method, String methodId, String[] lambdaMethods,
            boolean canSuspend, boolean exact) {
        int stackSlot = stackSlot(method);
        boolean isStatic = (method.access & Opcodes.ACC_STATIC) != 0;
        boolean isInterface = (owner.access & Opcodes.ACC_INTERFACE) != 0;
        String[] exceptions = method.exceptions == null ? null : method.exceptions.toArray(new String[0]);
        MethodNode wrapper = new MethodNode(method.access & ~Opcodes.ACC_SYNCHRONIZED, method.name, method.desc,
                method.signature, exceptions);
        moveDeclaration(method, wrapper);
        int line = Bytecode.firstLine(method);
        if (line > 0) {
            LabelNode start = new LabelNode();
            wrapper.instructions.add(start);
            wrapper.instructions.add(new LineNumberNode(line, start));
        }
        Type[] arguments = Type.getArgumentTypes(method.desc);
        int argumentSize = isStatic ? 0 : 1;
        for (Type argument : arguments) {
            argumentSize += argument.getSize();
        }
        String bodyDesc = canSuspend ? bodyDescriptor(method.desc) : freshDescriptor(method.desc);
        Type returnType = Type.getReturnType(method.desc);
        int stackLocal = argumentSize;
        int signalLocal = argumentSize + 1;
        int resultLocal = argumentSize + 2;
        InsnList code = wrapper.instructions;
        code.add(new LdcInsnNode(methodId));
        code.add(new MethodInsnNode(Opcodes.INVOKESTATIC, RuntimeNames.STACK, RuntimeNames.ENTER,
                RuntimeNames.ENTER_DESC, false));
        code.add(new VarInsnNode(Opcodes.ASTORE, stackLocal));
        if (!canSuspend) {
            // a body that cannot suspend does not look at the signal: clear the caller's token here
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new InsnNode(Opcodes.ICONST_0));
            code.add(new FieldInsnNode(Opcodes.PUTFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL,
                    RuntimeNames.SIGNAL_DESC));
            loadArguments(code, isStatic, arguments);
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new MethodInsnNode(isStatic ? Opcodes.INVOKESTATIC : Opcodes.INVOKESPECIAL, owner.name,
                    method.name, bodyDesc, isInterface));
            code.add(new InsnNode(returnType.getOpcode(Opcodes.IRETURN)));
        } else {
            // the wrapper is the only way in for code that is not instrumented: a signal it finds
            // set is its own only if the caller armed it for exactly this method (CoStack.admit);
            // else the call is foreign, and must not come back suspended (the suspension could not
            // cross the caller)
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL,
                    RuntimeNames.SIGNAL_DESC));
            code.add(new VarInsnNode(Opcodes.ISTORE, signalLocal));
            admit(code, owner, method, isStatic, lambdaMethods, stackLocal, signalLocal, exact);
            loadArguments(code, isStatic, arguments);
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new VarInsnNode(Opcodes.ILOAD, signalLocal)); // the body clears the field if not 0
            code.add(new MethodInsnNode(isStatic ? Opcodes.INVOKESTATIC : Opcodes.INVOKESPECIAL, owner.name,
                    method.name, bodyDesc, isInterface));
            if (returnType.getSort() != Type.VOID) {
                code.add(new VarInsnNode(returnType.getOpcode(Opcodes.ISTORE), resultLocal));
            }
            LabelNode done = new LabelNode();
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL,
                    RuntimeNames.SIGNAL_DESC));
            code.add(new InsnNode(Opcodes.ICONST_2)); // RuntimeNames.SUSPEND
            code.add(new JumpInsnNode(Opcodes.IF_ICMPNE, done));
            code.add(new VarInsnNode(Opcodes.ILOAD, signalLocal)); // admitted: the caller saves itself
            code.add(new JumpInsnNode(Opcodes.IFNE, done));
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new LdcInsnNode(methodId));
            code.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RuntimeNames.STACK, RuntimeNames.CROSSED,
                    RuntimeNames.ERROR_DESC, false));
            code.add(new InsnNode(Opcodes.ATHROW));
            code.add(done);
            if (returnType.getSort() != Type.VOID) {
                code.add(new VarInsnNode(returnType.getOpcode(Opcodes.ILOAD), resultLocal));
            }
            code.add(new InsnNode(returnType.getOpcode(Opcodes.IRETURN)));
        }
        wrapper.maxLocals = argumentSize + 2 + returnType.getSize();
        wrapper.maxStack = argumentSize + 5;

        shiftLocals(method, stackSlot);
        method.desc = bodyDesc;
        method.access = bodyAccess(owner, method.access);
        method.signature = null;
        return wrapper;
    }

    private static void loadArguments(InsnList code, boolean isStatic, Type[] arguments) {
        int local = 0;
        if (!isStatic) {
            code.add(new VarInsnNode(Opcodes.ALOAD, 0));
            local = 1;
        }
        for (Type argument : arguments) {
            code.add(new VarInsnNode(argument.getOpcode(Opcodes.ILOAD), local));
            local += argument.getSize();
        }
    }

    /**
     * The wrapper's exact check, when it found the signal set (a fresh call from code that is not
     * instrumented finds it clear and skips it): the signal local becomes 0 unless the caller armed
     * it for exactly this method; see {@code CoStack.admit}, {@code admitExact} and {@code admitLambda}.
     */
    private static void admit(InsnList code, ClassNode owner, MethodNode method, boolean isStatic,
            String[] lambdaMethods, int stackLocal, int signalLocal, boolean exact) {
        LabelNode call = new LabelNode();
        LabelNode lambda = new LabelNode();
        code.add(new VarInsnNode(Opcodes.ILOAD, signalLocal));
        code.add(new JumpInsnNode(Opcodes.IFEQ, call));
        for (String lambdaMethod : lambdaMethods) {
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.CALLEE,
                    RuntimeNames.CALLEE_DESC));
            code.add(new LdcInsnNode(lambdaMethod));
            code.add(new JumpInsnNode(Opcodes.IF_ACMPEQ, lambda));
        }
        code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        code.add(new VarInsnNode(Opcodes.ILOAD, signalLocal));
        code.add(isStatic ? new InsnNode(Opcodes.ACONST_NULL) : new VarInsnNode(Opcodes.ALOAD, 0));
        loadClass(code, Bytecode.majorVersion(owner), owner.name);
        code.add(new LdcInsnNode(method.name + method.desc));
        code.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RuntimeNames.STACK,
                exact ? RuntimeNames.ADMIT_EXACT : RuntimeNames.ADMIT, RuntimeNames.ADMIT_DESC, false));
        code.add(new VarInsnNode(Opcodes.ISTORE, signalLocal));
        if (lambdaMethods.length > 0) {
            code.add(new JumpInsnNode(Opcodes.GOTO, call));
            code.add(lambda);
            code.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            code.add(new VarInsnNode(Opcodes.ILOAD, signalLocal));
            loadClass(code, Bytecode.majorVersion(owner), owner.name);
            code.add(new LdcInsnNode(method.name + method.desc));
            code.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RuntimeNames.STACK, RuntimeNames.ADMIT_LAMBDA,
                    RuntimeNames.ADMIT_LAMBDA_DESC, false));
            code.add(new VarInsnNode(Opcodes.ISTORE, signalLocal));
        }
        code.add(call);
    }

    /**
     * Pushes a class constant: {@code ldc} where the class file allows it (Java 5 and later), else
     * {@code Class.forName} through the calling class's loader.
     */
    static void loadClass(InsnList code, int classVersion, String internalName) {
        if (classVersion >= Opcodes.V1_5) {
            code.add(new LdcInsnNode(Type.getObjectType(internalName)));
        } else {
            code.add(new LdcInsnNode(internalName.replace('/', '.')));
            code.add(new MethodInsnNode(Opcodes.INVOKESTATIC, "java/lang/Class", "forName",
                    "(Ljava/lang/String;)Ljava/lang/Class;", false));
        }
    }

    private static int bodyAccess(ClassNode owner, int access) {
        int kept = access & (Opcodes.ACC_STATIC | Opcodes.ACC_SYNCHRONIZED | Opcodes.ACC_STRICT);
        if ((access & Opcodes.ACC_STATIC) != 0) {
            // static calls from other classes link to the body: it keeps the original visibility
            return kept | (access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED | Opcodes.ACC_PRIVATE))
                    | Opcodes.ACC_SYNTHETIC;
        }
        boolean privateAllowed = (owner.access & Opcodes.ACC_INTERFACE) == 0 || Bytecode.majorVersion(owner) >= Opcodes.V9;
        return kept | Opcodes.ACC_SYNTHETIC | (privateAllowed ? Opcodes.ACC_PRIVATE : Opcodes.ACC_PUBLIC);
    }

    /** The wrapper is the method the world sees: it takes the annotations, parameters and the like. */
    private static void moveDeclaration(MethodNode body, MethodNode wrapper) {
        wrapper.visibleAnnotations = body.visibleAnnotations;
        wrapper.invisibleAnnotations = body.invisibleAnnotations;
        wrapper.visibleParameterAnnotations = body.visibleParameterAnnotations;
        wrapper.invisibleParameterAnnotations = body.invisibleParameterAnnotations;
        wrapper.visibleAnnotableParameterCount = body.visibleAnnotableParameterCount;
        wrapper.invisibleAnnotableParameterCount = body.invisibleAnnotableParameterCount;
        wrapper.visibleTypeAnnotations = body.visibleTypeAnnotations;
        wrapper.invisibleTypeAnnotations = body.invisibleTypeAnnotations;
        wrapper.parameters = body.parameters;
        wrapper.attrs = body.attrs;
        body.visibleAnnotations = null;
        body.invisibleAnnotations = null;
        body.visibleParameterAnnotations = null;
        body.invisibleParameterAnnotations = null;
        body.visibleAnnotableParameterCount = 0;
        body.invisibleAnnotableParameterCount = 0;
        body.visibleTypeAnnotations = null;
        body.invisibleTypeAnnotations = null;
        body.visibleLocalVariableAnnotations = null;
        body.invisibleLocalVariableAnnotations = null;
        body.parameters = null;
        body.attrs = null;
    }

    /** Makes room for the stack and signal parameters: every local at or above their slot moves up by two. */
    private static void shiftLocals(MethodNode method, int stackSlot) {
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof VarInsnNode var && var.var >= stackSlot) {
                var.var += 2;
            } else if (insn instanceof IincInsnNode iinc && iinc.var >= stackSlot) {
                iinc.var += 2;
            }
        }
        if (method.localVariables != null) {
            for (LocalVariableNode variable : method.localVariables) {
                if (variable.index >= stackSlot) {
                    variable.index += 2;
                }
            }
        }
        method.maxLocals += 2;
    }
}
