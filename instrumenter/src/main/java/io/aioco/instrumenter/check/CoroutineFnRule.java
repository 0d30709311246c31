package io.aioco.instrumenter.check;

import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.classfile.Bytecode;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.instrumenter.classfile.CoroutineMethods;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Why: the rewrite makes coroutine functions resumable, but only a caller that is itself a
 * coroutine function passes the coroutine along (QEMU's {@code coroutine_fn} rule, which QEMU
 * checks by static analysis). The agent cannot report a caller that breaks the rule (it leaves it
 * alone and the callee throws at run time); a build tool can, for every call site at once. This
 * pass finds, in one class as compiled (never in a rewritten one):
 * <ul>
 *   <li>calls to coroutine functions from methods that are not coroutine functions (plain methods,
 *       constructors, static initializers, lambdas of interfaces that are not coroutine functions),
 *       and method references that turn a coroutine function into such an interface: errors;
 *   <li>methods that are coroutine functions only because they override one, without the marker:
 *       warnings (they are instrumented anyway; the marker makes it visible to readers);
 *   <li>coroutine functions that override a method that is not one, so that calls through the
 *       supertype bypass the protocol (DESIGN.md, "Known limits"): warnings.
 * </ul>
 * Suspension points inside {@code synchronized} and markers on constructors are refused by the
 * rewrite itself ({@link Instrumenter#instrument(byte[])}); this pass does not repeat them.
 */
public final class CoroutineFnRule {
    private static final String METAFACTORY = "java/lang/invoke/LambdaMetafactory";

    private CoroutineFnRule() {}

    /**
     * @param owner the class as compiled; this pass changes it (read it afresh for anything else)
     * @return the findings, in method order
     */
    public static List<Diagnostic> check(ClassNode owner, ClassHierarchy hierarchy) {
        Map<MethodNode, Boolean> coroutineFns = new IdentityHashMap<>();
        for (CoroutineMethods.Role role : CoroutineMethods.find(owner, hierarchy)) {
            coroutineFns.put(role.method(), Boolean.TRUE);
        }
        List<Diagnostic> findings = new ArrayList<>();
        for (MethodNode method : owner.methods) {
            boolean isCoroutineFn = coroutineFns.containsKey(method);
            if (isCoroutineFn) {
                checkOverriddenMethod(owner, method, hierarchy, findings);
            } else {
                checkMissingMarker(owner, method, hierarchy, findings);
                if (!(method.name.charAt(0) == '<' && CoroutineMethods.isAnnotated(method))) {
                    checkCalls(owner, method, hierarchy, findings); // a marked constructor is refused already
                }
            }
            checkMethodReferences(owner, method, coroutineFns, hierarchy, findings);
        }
        return findings;
    }

    private static void checkCalls(ClassNode owner, MethodNode method, ClassHierarchy hierarchy,
            List<Diagnostic> findings) {
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof MethodInsnNode call && isApplicationOrRuntimeType(call.owner)
                    && CoroutineMethods.isSuspensionPoint(call, hierarchy)) {
                findings.add(error(owner, method, Bytecode.lineOf(call), "call to coroutine function "
                        + describe(call.owner, call.name, call.desc) + " from " + callerKind(method) + fix(method)));
            }
        }
    }

    private static String callerKind(MethodNode method) {
        if (method.name.equals("<init>")) {
            return "a constructor, which cannot be a coroutine function";
        }
        if (method.name.equals("<clinit>")) {
            return "a static initializer, which cannot be a coroutine function";
        }
        if (isLambdaBody(method)) {
            return "a lambda whose functional interface method is not a coroutine function";
        }
        return "a method that is not a coroutine function";
    }

    private static String fix(MethodNode method) {
        if (method.name.charAt(0) == '<') {
            return "; move the call to a @CoroutineFn method called after construction";
        }
        if (isLambdaBody(method)) {
            return "; make the lambda a CoroutineEntry (or another interface whose method is @CoroutineFn)";
        }
        return "; mark this method @CoroutineFn (its callers must then be coroutine functions too), or run"
                + " the call in a coroutine (Coroutine.create(() -> ...).enter())";
    }

    /** A method reference {@code Runnable r = this::suspends} runs a coroutine function outside the protocol. */
    private static void checkMethodReferences(ClassNode owner, MethodNode method, Map<MethodNode, Boolean> coroutineFns,
            ClassHierarchy hierarchy, List<Diagnostic> findings) {
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (!(insn instanceof InvokeDynamicInsnNode indy) || !indy.bsm.getOwner().equals(METAFACTORY)
                    || indy.bsmArgs.length < 3 || !(indy.bsmArgs[0] instanceof Type samType)
                    || !(indy.bsmArgs[1] instanceof Handle impl) || isOwnLambdaBody(owner, impl)) {
                continue;
            }
            Type functional = Type.getReturnType(indy.desc);
            if (functional.getSort() != Type.OBJECT || !isApplicationOrRuntimeType(impl.getOwner())
                    || !hierarchy.isCoroutineFn(impl.getOwner(), impl.getName(), impl.getDesc())
                    || hierarchy.isCoroutineFn(functional.getInternalName(), indy.name, samType.getDescriptor())) {
                continue;
            }
            findings.add(error(owner, method, Bytecode.lineOf(indy), "method reference to coroutine function "
                    + describe(impl.getOwner(), impl.getName(), impl.getDesc()) + " as a "
                    + functional.getClassName() + ", whose method " + indy.name + " is not a coroutine function;"
                    + " use a CoroutineEntry (or another interface whose method is @CoroutineFn)"));
        }
    }

    /** A coroutine function that carries no marker of its own (it inherits one): a warning. */
    private static void checkMissingMarker(ClassNode owner, MethodNode method, ClassHierarchy hierarchy,
            List<Diagnostic> findings) {
        // the coroutine functions were collected already: this one is not, so only abstract ones remain
        if ((method.access & Opcodes.ACC_ABSTRACT) != 0 && isOverridable(method)
                && !CoroutineMethods.isAnnotated(method)
                && hierarchy.overridesCoroutineFn(owner.name, method.name, method.desc)) {
            findings.add(missingMarker(owner, method, hierarchy));
        }
    }

    private static void checkOverriddenMethod(ClassNode owner, MethodNode method, ClassHierarchy hierarchy,
            List<Diagnostic> findings) {
        if (!isOverridable(method)) {
            return;
        }
        if (!CoroutineMethods.isAnnotated(method)) {
            // not marked, not synthetic: a coroutine function because it overrides one
            findings.add(missingMarker(owner, method, hierarchy));
            return;
        }
        String overridden = overriddenPlainMethod(owner.name, method, hierarchy);
        if (overridden != null) {
            findings.add(warning(owner, method, Bytecode.firstLine(method), "coroutine function overrides "
                    + describe(overridden, method.name, method.desc) + ", which is not one: a call through "
                    + overridden.replace('/', '.') + " bypasses the coroutine protocol and throws if this method"
                    + " suspends; mark the overridden method @CoroutineFn, or do not override it"));
        }
    }

    private static Diagnostic missingMarker(ClassNode owner, MethodNode method, ClassHierarchy hierarchy) {
        String declaring = annotatedDeclaration(owner.name, method, hierarchy);
        String what = declaring == null ? "a coroutine function of a supertype"
                : "coroutine function " + declaring;
        return warning(owner, method, Bytecode.firstLine(method), "overrides " + what + " without @CoroutineFn: it is"
                + " instrumented as a coroutine function all the same (the marker is inherited); add @CoroutineFn"
                + " so that readers and callers see it");
    }

    /**
     * @return the nearest supertype that declares the method (or, for a generic override, the
     *     method that one of this class's bridges stands for) with the marker, or null
     */
    private static String annotatedDeclaration(String owner, MethodNode method, ClassHierarchy hierarchy) {
        Set<String> keys = new LinkedHashSet<>(List.of(method.name + method.desc));
        hierarchy.get(owner).methods().forEach((key, info) -> {
            if (method.desc.equals(info.bridgeTarget()) && key.startsWith(method.name + "(")) {
                keys.add(key);
            }
        });
        for (String type : supertypes(owner, hierarchy)) {
            for (String key : keys) {
                ClassHierarchy.MethodInfo info = hierarchy.get(type).methods().get(key);
                if (info != null && info.annotated()) {
                    return type.replace('/', '.') + "." + key;
                }
            }
        }
        return null;
    }

    /** @return the nearest supertype that declares the method and where it is not a coroutine function, or null */
    private static String overriddenPlainMethod(String owner, MethodNode method, ClassHierarchy hierarchy) {
        String key = method.name + method.desc;
        for (String type : supertypes(owner, hierarchy)) {
            ClassHierarchy.MethodInfo info = hierarchy.get(type).methods().get(key);
            if (info != null && isOverridable(info.access())
                    && hierarchy.overridesDeclaration(owner, method.name, method.desc, type)
                    && !hierarchy.isCoroutineFn(type, method.name, method.desc)) {
                return type;
            }
        }
        return null;
    }

    /** @return the proper supertypes that the hierarchy can read, nearest first */
    private static List<String> supertypes(String owner, ClassHierarchy hierarchy) {
        List<String> out = new ArrayList<>();
        Deque<String> todo = new ArrayDeque<>();
        Set<String> seen = new HashSet<>();
        todo.add(owner);
        while (!todo.isEmpty()) {
            String type = todo.poll();
            ClassHierarchy.ClassInfo info = seen.add(type) ? hierarchy.get(type) : null;
            if (info == null) {
                continue;
            }
            ClassHierarchy.checkWalk(seen.size(), owner); // NOTE: seen ends a cycle, this an endless hierarchy
            if (!type.equals(owner)) {
                out.add(type);
            }
            if (info.superName() != null) {
                todo.add(info.superName());
            }
            todo.addAll(List.of(info.interfaces()));
        }
        return out;
    }

    private static boolean isOverridable(MethodNode method) {
        return method.name.charAt(0) != '<' && (method.access & Opcodes.ACC_SYNTHETIC) == 0
                && isOverridable(method.access);
    }

    private static boolean isOverridable(int access) {
        return (access & (Opcodes.ACC_STATIC | Opcodes.ACC_PRIVATE)) == 0;
    }

    private static boolean isLambdaBody(MethodNode method) {
        return (method.access & Opcodes.ACC_SYNTHETIC) != 0 && method.name.startsWith("lambda$");
    }

    private static boolean isOwnLambdaBody(ClassNode owner, Handle impl) {
        if (!impl.getOwner().equals(owner.name)) {
            return false;
        }
        for (MethodNode method : owner.methods) {
            if (method.name.equals(impl.getName()) && method.desc.equals(impl.getDesc())) {
                return isLambdaBody(method);
            }
        }
        return false;
    }

    /** JDK types never declare coroutine functions, nor override them: no need to read them. */
    private static boolean isApplicationOrRuntimeType(String internalName) {
        return internalName.charAt(0) != '[' && !(internalName.startsWith("java/")
                || internalName.startsWith("javax/") || internalName.startsWith("jdk/")
                || internalName.startsWith("sun/"));
    }

    private static String describe(String owner, String name, String desc) {
        return owner.replace('/', '.') + "." + name + desc;
    }

    private static Diagnostic error(ClassNode owner, MethodNode method, int line, String message) {
        return new Diagnostic(Diagnostic.Severity.ERROR, owner.name, method.name, method.desc, owner.sourceFile,
                line, message);
    }

    private static Diagnostic warning(ClassNode owner, MethodNode method, int line, String message) {
        return new Diagnostic(Diagnostic.Severity.WARNING, owner.name, method.name, method.desc, owner.sourceFile,
                line, message);
    }
}
