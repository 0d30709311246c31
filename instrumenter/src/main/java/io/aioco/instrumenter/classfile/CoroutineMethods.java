package io.aioco.instrumenter.classfile;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Why: the rewrite applies to coroutine functions only, and a method is one for several reasons
 * (INSTRUMENTATION.md, "What is a coroutine function"): its marker, an overridden method's marker,
 * or being the body of a lambda whose interface method is one. This pass finds them all, with the
 * tokens each must accept from its callers. Method references used through a coroutine interface
 * (to coroutine functions or to plain methods and constructors) get a small synthetic body in this
 * class (as javac makes for lambdas), so that every coroutine lambda's implementation is a method
 * of this class that knows the interface method it implements and consumes the caller's signal.
 */
public final class CoroutineMethods {
    private static final String METAFACTORY = "java/lang/invoke/LambdaMetafactory";
    private static final int FLAG_SERIALIZABLE = 1;
    private static final int FLAG_MARKERS = 2;
    private static final int FLAG_BRIDGES = 4;

    /**
     * A coroutine function of the class, the signals that mean "called by instrumented code", and
     * the functional interface methods it implements as a lambda body ({@code name + descriptor}),
     * for which its caller is a lambda proxy.
     */
    public record Role(MethodNode method, int[] acceptedTokens, String[] lambdaMethods) {}

    private CoroutineMethods() {}

    /** @return the coroutine functions of the class, in declaration order (forwarders added last) */
    public static List<Role> find(ClassNode owner, ClassHierarchy hierarchy) {
        Map<MethodNode, List<Integer>> tokens = new LinkedHashMap<>();
        Map<MethodNode, List<String>> lambdaMethods = new LinkedHashMap<>();
        for (MethodNode method : owner.methods) {
            if (method.instructions.size() == 0 || method.name.charAt(0) == '<') {
                continue;
            }
            boolean stressed = hierarchy.allMethods() && (method.access & Opcodes.ACC_BRIDGE) == 0;
            if (stressed || isAnnotated(method) || hierarchy.isCoroutineFn(owner.name, method.name, method.desc)) {
                tokens.put(method, new ArrayList<>(List.of(RuntimeNames.token(method.name, method.desc))));
            }
        }
        List<MethodNode> forwarders = new ArrayList<>();
        for (MethodNode method : new ArrayList<>(owner.methods)) {
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof InvokeDynamicInsnNode indy) {
                    lambda(owner, indy, hierarchy, tokens, lambdaMethods, forwarders);
                }
            }
        }
        owner.methods.addAll(forwarders);
        List<Role> roles = new ArrayList<>();
        tokens.forEach((method, list) -> roles.add(new Role(method,
                list.stream().distinct().mapToInt(Integer::intValue).toArray(),
                lambdaMethods.getOrDefault(method, List.of()).stream().distinct().toArray(String[]::new))));
        return roles;
    }

    public static boolean isAnnotated(MethodNode method) {
        return hasMarker(method.visibleAnnotations) || hasMarker(method.invisibleAnnotations);
    }

    private static boolean hasMarker(List<AnnotationNode> annotations) {
        if (annotations != null) {
            for (AnnotationNode annotation : annotations) {
                if (annotation.desc.equals(RuntimeNames.COROUTINE_FN_DESC)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static void lambda(ClassNode owner, InvokeDynamicInsnNode indy, ClassHierarchy hierarchy,
            Map<MethodNode, List<Integer>> tokens, Map<MethodNode, List<String>> lambdaMethods,
            List<MethodNode> forwarders) {
        if (!indy.bsm.getOwner().equals(METAFACTORY) || indy.bsmArgs.length < 3
                || !(indy.bsmArgs[0] instanceof Type samType) || !(indy.bsmArgs[1] instanceof Handle impl)) {
            return;
        }
        Type functional = Type.getReturnType(indy.desc);
        if (functional.getSort() != Type.OBJECT
                || !hierarchy.isCoroutineFn(functional.getInternalName(), indy.name, samType.getDescriptor())) {
            return;
        }
        List<Integer> samTokens = new ArrayList<>();
        samTokens.add(RuntimeNames.token(indy.name, samType.getDescriptor()));
        List<String> samMethods = new ArrayList<>();
        samMethods.add(indy.name + samType.getDescriptor());
        int flags = 0;
        if (indy.bsm.getName().equals("altMetafactory") && indy.bsmArgs.length > 3
                && indy.bsmArgs[3] instanceof Integer value) {
            flags = value;
            int next = 4;
            if ((flags & FLAG_MARKERS) != 0) {
                next += 1 + (Integer) indy.bsmArgs[next];
            }
            if ((flags & FLAG_BRIDGES) != 0) {
                int count = (Integer) indy.bsmArgs[next++];
                for (int i = 0; i < count; i++) {
                    String bridge = ((Type) indy.bsmArgs[next++]).getDescriptor();
                    samTokens.add(RuntimeNames.token(indy.name, bridge));
                    samMethods.add(indy.name + bridge);
                }
            }
        }
        MethodNode body = findLambdaBody(owner, impl);
        Type instantiated = indy.bsmArgs[2] instanceof Type type ? type : samType;
        int captured = Type.getArgumentTypes(indy.desc).length;
        boolean serializable = (flags & FLAG_SERIALIZABLE) != 0;
        if (body != null && (serializable || !proxyConverts(impl, captured, instantiated))) {
            tokens.computeIfAbsent(body, m -> new ArrayList<>(List.of(RuntimeNames.token(m.name, m.desc))))
                    .addAll(samTokens);
            lambdaMethods.computeIfAbsent(body, m -> new ArrayList<>()).addAll(samMethods);
            return;
        }
        if (serializable) {
            return;
        }
        if (body != null) {
            // A lambda body with primitive parameters where the interface passes boxes (javac makes
            // such bodies for method references it does not link directly: varargs, super::m, a
            // protected method of another package, Java 8 nestmates): the proxy would unbox the
            // caller's dummy arguments on resume. The body stays a coroutine function, called by
            // a forwarder that takes the boxes.
            tokens.computeIfAbsent(body, m -> new ArrayList<>(List.of(RuntimeNames.token(m.name, m.desc))));
        }
        // A forwarder even for a plain target: the caller armed the call for the interface method
        // and the proxy's receiver, and only an instrumented body consumes that signal. A proxy that
        // went straight into plain code would leave it armed, and a lambda body of this class that
        // the plain code calls would take it for its own (CoStack.admitLambda checks the proxy: its host class, and for a serializable one its implementation method).
        MethodNode forwarder = forwarder(owner, impl, forwarders.size() + countForwarders(owner),
                Type.getArgumentTypes(indy.desc), instantiated);
        if (forwarder == null) {
            return;
        }
        if (body != null) {
            for (AbstractInsnNode insn = forwarder.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode call) {
                    hierarchy.markForwardedCall(call); // NOTE: the body is a coroutine function without a marker
                }
            }
        }
        forwarders.add(forwarder);
        tokens.put(forwarder, new ArrayList<>(samTokens));
        lambdaMethods.put(forwarder, samMethods);
        indy.bsmArgs[1] = new Handle(Opcodes.H_INVOKESTATIC, owner.name, forwarder.name, forwarder.desc,
                (owner.access & Opcodes.ACC_INTERFACE) != 0);
    }

    /**
     * @return whether the lambda proxy would unbox a value on the way: an argument the interface
     *     passes boxed to a primitive parameter of the implementation (a dummy null on resume), or
     *     a boxed result the interface returns as a primitive (a dummy null on suspension)
     */
    private static boolean proxyConverts(Handle impl, int captured, Type instantiated) {
        int tag = impl.getTag();
        Type[] implArguments = Type.getArgumentTypes(impl.getDesc());
        int receiver = tag == Opcodes.H_INVOKEVIRTUAL || tag == Opcodes.H_INVOKEINTERFACE
                || tag == Opcodes.H_INVOKESPECIAL ? 1 : 0;
        Type[] interfaceArguments = instantiated.getArgumentTypes();
        for (int i = Math.max(captured, receiver); i < implArguments.length + receiver
                && i - captured < interfaceArguments.length; i++) {
            if (isPrimitive(implArguments[i - receiver]) && !isPrimitive(interfaceArguments[i - captured])) {
                return true;
            }
        }
        Type result = Type.getReturnType(impl.getDesc());
        return tag != Opcodes.H_NEWINVOKESPECIAL && !isPrimitive(result)
                && isPrimitive(instantiated.getReturnType()) && instantiated.getReturnType() != Type.VOID_TYPE;
    }

    /** @return the synthetic lambda body of this class that the handle points to, or null */
    private static MethodNode findLambdaBody(ClassNode owner, Handle impl) {
        if (!impl.getOwner().equals(owner.name)) {
            return null;
        }
        for (MethodNode method : owner.methods) {
            if (method.name.equals(impl.getName()) && method.desc.equals(impl.getDesc())
                    && (method.access & Opcodes.ACC_SYNTHETIC) != 0 && method.instructions.size() > 0) {
                return method;
            }
        }
        return null;
    }

    private static int countForwarders(ClassNode owner) {
        int count = 0;
        for (MethodNode method : owner.methods) {
            if (method.name.startsWith("lambda$aioco$")) {
                count++;
            }
        }
        return count;
    }

    /**
     * A static synthetic method of this class that calls the method reference's target, so that
     * the lambda's implementation is a coroutine function of this class.
     *
     * <p>Where the interface passes a boxed value (a generic interface) to a primitive parameter,
     * the forwarder takes the boxed value and unboxes it itself: the lambda proxy only forwards
     * it. On resume the caller passes dummy arguments (null for a reference) and the forwarder's
     * resume block calls the target again without reading them; a proxy that unboxed them would
     * throw {@code NullPointerException} before the forwarder could resume. Likewise a boxed result
     * that the interface returns as a primitive is unboxed here, after the call's suspension check,
     * so that a suspended call's dummy null result is never unboxed. The target may be a synthetic
     * lambda body of this class (javac's desugaring of some method references) with such
     * parameters.
     *
     * <p>A captured argument keeps the type the {@code invokedynamic} passes it as: the
     * metafactory requires a captured argument's type to equal the implementation's parameter
     * exactly, and a bound method reference's receiver ({@code this::m}, {@code sub::m}) may be of
     * a subclass of the class declaring {@code m}.
     *
     * @param capturedTypes the types of the arguments the lambda captures (they come first)
     * @param instantiated the interface method's type as the lambda is used
     */
    private static MethodNode forwarder(ClassNode owner, Handle impl, int number, Type[] capturedTypes,
            Type instantiated) {
        int captured = capturedTypes.length;
        int tag = impl.getTag();
        boolean instance = tag == Opcodes.H_INVOKEVIRTUAL || tag == Opcodes.H_INVOKEINTERFACE
                || (tag == Opcodes.H_INVOKESPECIAL && impl.getOwner().equals(owner.name));
        boolean constructor = tag == Opcodes.H_NEWINVOKESPECIAL;
        if (tag != Opcodes.H_INVOKESTATIC && !instance && !constructor) {
            return null;
        }
        Type[] implArguments = Type.getArgumentTypes(impl.getDesc());
        List<Type> parameters = new ArrayList<>();
        if (instance) {
            parameters.add(Type.getObjectType(impl.getOwner()));
        }
        parameters.addAll(List.of(implArguments));
        Type[] targetTypes = parameters.toArray(new Type[0]);
        for (int i = 0; i < captured && i < parameters.size(); i++) {
            if (!isPrimitive(capturedTypes[i]) && !isPrimitive(targetTypes[i])) {
                parameters.set(i, capturedTypes[i]); // a subclass of the target's type: passed on as it is
            }
        }
        Type[] interfaceArguments = instantiated.getArgumentTypes();
        for (int i = captured; i < parameters.size() && i - captured < interfaceArguments.length; i++) {
            Type passed = interfaceArguments[i - captured];
            if (isPrimitive(targetTypes[i]) && !isPrimitive(passed)) {
                parameters.set(i, passed); // boxed: the forwarder unboxes it
            }
        }
        Type targetReturn = constructor ? Type.getObjectType(impl.getOwner()) : Type.getReturnType(impl.getDesc());
        Type wanted = instantiated.getReturnType();
        // a boxed result the interface returns as a primitive: unboxed here, after the suspension
        // check, so that the dummy null of a suspended call is never unboxed
        boolean unboxResult = !isPrimitive(targetReturn) && isPrimitive(wanted) && wanted.getSort() != Type.VOID;
        Type returnType = unboxResult ? wanted : targetReturn;
        String desc = Type.getMethodDescriptor(returnType, parameters.toArray(new Type[0]));
        MethodNode forwarder = new MethodNode(Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_SYNTHETIC,
                "lambda$aioco$" + number, desc, null, null);
        if (constructor) {
            forwarder.instructions.add(new TypeInsnNode(Opcodes.NEW, impl.getOwner()));
            forwarder.instructions.add(new InsnNode(Opcodes.DUP));
        }
        int local = 0;
        for (int i = 0; i < parameters.size(); i++) {
            Type parameter = parameters.get(i);
            forwarder.instructions.add(new VarInsnNode(parameter.getOpcode(Opcodes.ILOAD), local));
            if (isPrimitive(targetTypes[i]) && !isPrimitive(parameter)) {
                unbox(forwarder, parameter, targetTypes[i]);
            }
            local += parameter.getSize();
        }
        int opcode = switch (tag) {
            case Opcodes.H_INVOKESTATIC -> Opcodes.INVOKESTATIC;
            case Opcodes.H_INVOKEVIRTUAL -> Opcodes.INVOKEVIRTUAL;
            case Opcodes.H_INVOKEINTERFACE -> Opcodes.INVOKEINTERFACE;
            default -> Opcodes.INVOKESPECIAL;
        };
        forwarder.instructions.add(new MethodInsnNode(opcode, impl.getOwner(), impl.getName(), impl.getDesc(),
                impl.isInterface()));
        if (unboxResult) {
            unbox(forwarder, targetReturn, wanted);
        }
        forwarder.instructions.add(new InsnNode(returnType.getOpcode(Opcodes.IRETURN)));
        forwarder.maxLocals = local;
        forwarder.maxStack = Math.max(2 * local + 2, 2);
        return forwarder;
    }

    private static boolean isPrimitive(Type type) {
        return type.getSort() != Type.OBJECT && type.getSort() != Type.ARRAY;
    }

    /** Wrapper classes by the sort of the primitive type they box. */
    private static final String[] BOXES = new String[Type.DOUBLE + 1];

    static {
        BOXES[Type.BOOLEAN] = "java/lang/Boolean";
        BOXES[Type.CHAR] = "java/lang/Character";
        BOXES[Type.BYTE] = "java/lang/Byte";
        BOXES[Type.SHORT] = "java/lang/Short";
        BOXES[Type.INT] = "java/lang/Integer";
        BOXES[Type.FLOAT] = "java/lang/Float";
        BOXES[Type.LONG] = "java/lang/Long";
        BOXES[Type.DOUBLE] = "java/lang/Double";
    }

    /**
     * Converts the boxed value on the stack to {@code target} as the lambda proxy would: unboxing
     * (a wrapper of the value's own type, or a cast to {@code target}'s wrapper), then widening.
     */
    private static void unbox(MethodNode forwarder, Type boxed, Type target) {
        int sort = -1;
        for (int candidate = Type.BOOLEAN; candidate <= Type.DOUBLE; candidate++) {
            if (boxed.getInternalName().equals(BOXES[candidate])) {
                sort = candidate;
            }
        }
        if (sort < 0) {
            sort = target.getSort();
            forwarder.instructions.add(new TypeInsnNode(Opcodes.CHECKCAST, BOXES[sort]));
        }
        Type primitive = primitiveOf(sort);
        forwarder.instructions.add(new MethodInsnNode(Opcodes.INVOKEVIRTUAL, BOXES[sort],
                primitive.getClassName() + "Value", "()" + primitive.getDescriptor(), false));
        widen(forwarder, primitive, target);
    }

    private static Type primitiveOf(int sort) {
        return switch (sort) {
            case Type.BOOLEAN -> Type.BOOLEAN_TYPE;
            case Type.CHAR -> Type.CHAR_TYPE;
            case Type.BYTE -> Type.BYTE_TYPE;
            case Type.SHORT -> Type.SHORT_TYPE;
            case Type.INT -> Type.INT_TYPE;
            case Type.FLOAT -> Type.FLOAT_TYPE;
            case Type.LONG -> Type.LONG_TYPE;
            default -> Type.DOUBLE_TYPE;
        };
    }

    /** A widening primitive conversion (JLS 5.1.2), the only kind a method reference allows here. */
    private static void widen(MethodNode forwarder, Type from, Type to) {
        int fromSort = from.getSort() <= Type.INT ? Type.INT : from.getSort(); // boolean, char, byte, short: an int
        int toSort = to.getSort() <= Type.INT ? Type.INT : to.getSort();
        int opcode = switch (fromSort * 16 + toSort) {
            case Type.INT * 16 + Type.LONG -> Opcodes.I2L;
            case Type.INT * 16 + Type.FLOAT -> Opcodes.I2F;
            case Type.INT * 16 + Type.DOUBLE -> Opcodes.I2D;
            case Type.LONG * 16 + Type.FLOAT -> Opcodes.L2F;
            case Type.LONG * 16 + Type.DOUBLE -> Opcodes.L2D;
            case Type.FLOAT * 16 + Type.DOUBLE -> Opcodes.F2D;
            default -> Opcodes.NOP;
        };
        if (opcode != Opcodes.NOP) {
            forwarder.instructions.add(new InsnNode(opcode));
        }
    }

    /** @return whether {@code call} suspends: a call to {@code Coroutine.yield()} or to a coroutine function */
    public static boolean isSuspensionPoint(MethodInsnNode call, ClassHierarchy hierarchy) {
        if (call.owner.charAt(0) == '[') {
            return false;
        }
        return isYield(call) || hierarchy.isForwardedCall(call) || hierarchy.isCoroutineFn(call.owner, call.name, call.desc);
    }

    /** @return whether {@code call} is {@code Coroutine.yield()} */
    public static boolean isYield(MethodInsnNode call) {
        return call.owner.equals(RuntimeNames.COROUTINE) && call.name.equals(RuntimeNames.YIELD)
                && call.desc.equals(RuntimeNames.YIELD_DESC);
    }
}
