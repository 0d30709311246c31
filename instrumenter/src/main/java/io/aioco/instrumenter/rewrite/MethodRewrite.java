package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.analysis.FrameAnalysis;
import io.aioco.instrumenter.analysis.Liveness;
import io.aioco.instrumenter.analysis.MonitorRegions;
import io.aioco.instrumenter.classfile.Bytecode;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.instrumenter.classfile.CoroutineMethods;
import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LocalVariableNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TryCatchBlockNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.tree.analysis.Frame;
import org.objectweb.asm.commons.JSRInlinerAdapter;

/**
 * The rewrite of one coroutine function, as an ordered list of passes:
 * <ol>
 *   <li>inline JSR/RET subroutines (old class files),
 *   <li>collect the suspension points,
 *   <li>refuse suspension points where a monitor is held,
 *   <li>move allocations whose constructor arguments suspend,
 *   <li>analyse frame types and local liveness at each suspension point,
 *   <li>emit the state machine.
 * </ol>
 */
public final class MethodRewrite {
    /** A method that must not be instrumented, with the reason (becomes an ERROR diagnostic). */
    public static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        public final int line;

        public Refusal(String message, int line) {
            super(message, null, false, false);
            this.line = line;
        }
    }

    private MethodRewrite() {}

    /**
     * Rewrites a coroutine function: {@code method} becomes (or is replaced by) its body, and the
     * wrapper with the original signature is returned with it.
     *
     * @param lambdaMethods the functional interface methods it implements as a lambda body
     * @param table where the function's suspension points are described, for coroutine dumps
     * @return the wrapper, the body and (for a function that can suspend) the fresh body, to put in
     *     the class in place of {@code method}
     * @throws Refusal when the method breaks a rule of INSTRUMENTATION.md ({@code method} is then
     *     left as it was)
     * @throws InstrumentationException when its code cannot be analysed
     */
    public static List<MethodNode> rewrite(ClassNode owner, MethodNode method, int[] acceptedTokens,
            String[] lambdaMethods, ClassHierarchy hierarchy, FrameTable table) throws Refusal {
        return rewrite(owner, method, acceptedTokens, lambdaMethods, hierarchy, table, false, true);
    }

    /**
     * As above; {@code compact}: for a method too large once rewritten the usual way, the compact
     * encoding (suspension points with frames of the same shape share their save and restore code:
     * see INSTRUMENTATION.md, "Code growth"). The calling protocol and the saved frames are the same.
     *
     * @param virtualCalls whether its virtual and interface calls to coroutine functions get an
     *     inline cache ({@link SuspensionPoint.Linkage#VIRTUAL}), in either encoding; else they stay
     *     the original calls (a method too large with the cache's code)
     */
    public static List<MethodNode> rewrite(ClassNode owner, MethodNode method, int[] acceptedTokens,
            String[] lambdaMethods, ClassHierarchy hierarchy, FrameTable table, boolean compact, boolean virtualCalls)
            throws Refusal {
        String methodId = owner.name.replace('/', '.') + "." + method.name + method.desc;
        refuseTooManyParameters(method);
        int stateBase = StateBase.of(method);
        MethodNode body = inlineSubroutines(method);
        List<MethodInsnNode> calls = collectSuspensionCalls(body, hierarchy);
        if (!calls.isEmpty() && (body.access & Opcodes.ACC_SYNCHRONIZED) != 0) {
            throw new Refusal("a synchronized method cannot suspend (it would hold its monitor across the"
                    + " suspension); use a CoMutex, or move the suspending call out of the synchronized"
                    + " method", Bytecode.lineOf(calls.get(0)));
        }
        refuseHeldMonitors(owner.name, body, calls, hierarchy);
        int stackSlot = WrapperSplit.stackSlot(body);
        String originalDesc = body.desc;
        // a method that may hide a package-private one of a superclass takes the exact check (see
        // CoStack.admitExact); only class methods that can suspend have a check at all
        boolean exact = !calls.isEmpty() && (owner.access & Opcodes.ACC_INTERFACE) == 0
                && (body.access & (Opcodes.ACC_STATIC | Opcodes.ACC_PRIVATE)) == 0
                && hierarchy.mayHidePackagePrivate(owner.name, body.name, body.desc);
        MethodNode wrapper = WrapperSplit.split(owner, body, methodId, lambdaMethods, !calls.isEmpty(), exact);
        FrameAnalysis analysis = FrameAnalysis.analyze(owner.name, body, hierarchy);
        if (UninitializedObjects.rewrite(owner.name, body, new LinkedHashSet<>(calls))) {
            analysis = FrameAnalysis.analyze(owner.name, body, hierarchy);
        }
        List<SuspensionPoint> points = describe(Bytecode.majorVersion(owner), body, analysis, calls, hierarchy,
                compact ? stackSlot : -1, virtualCalls);
        if (calls.isEmpty()) {
            StateMachine.rewrite(body, methodId, acceptedTokens, points, stackSlot, false, Bytecode.majorVersion(owner),
                    stateBase); // already the fresh body
            return List.of(wrapper, body);
        }
        MethodNode fresh = copyOf(body, WrapperSplit.freshDescriptor(originalDesc));
        List<SuspensionPoint> freshPoints = new ArrayList<>();
        for (SuspensionPoint point : points) {
            MethodInsnNode call = (MethodInsnNode) fresh.instructions.get(body.instructions.indexOf(point.call()));
            freshPoints.add(new SuspensionPoint(point.index(), call, point.linkage(), point.line(), point.liveLocals(),
                    point.stackBelow(), point.receiverType()));
        }
        table.add(body.name, methodId, stateBase, points); // NOTE: before the rewrite, which changes the calls
        StateMachine.rewrite(body, methodId, acceptedTokens, points, stackSlot, true, Bytecode.majorVersion(owner), stateBase,
                compact);
        StateMachine.rewrite(fresh, methodId, acceptedTokens, freshPoints, stackSlot, false, Bytecode.majorVersion(owner),
                stateBase, compact);
        return List.of(wrapper, body, fresh);
    }

    /**
     * A copy of {@code method}'s code under descriptor {@code desc}, with labels of its own (ASM's
     * {@code accept} would share the label nodes between the two).
     */
    private static MethodNode copyOf(MethodNode method, String desc) {
        String[] exceptions = method.exceptions == null ? null : method.exceptions.toArray(new String[0]);
        MethodNode copy = new MethodNode(Opcodes.ASM9, method.access, method.name, desc, null, exceptions);
        Map<LabelNode, LabelNode> labels = new HashMap<>();
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof LabelNode label) {
                labels.put(label, new LabelNode());
            }
        }
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            copy.instructions.add(insn.clone(labels));
        }
        for (TryCatchBlockNode block : method.tryCatchBlocks) {
            copy.tryCatchBlocks.add(new TryCatchBlockNode(labels.get(block.start), labels.get(block.end),
                    labels.get(block.handler), block.type));
        }
        if (method.localVariables != null) {
            copy.localVariables = new ArrayList<>();
            for (LocalVariableNode variable : method.localVariables) {
                copy.localVariables.add(new LocalVariableNode(variable.name, variable.desc, variable.signature,
                        labels.get(variable.start), labels.get(variable.end), variable.index));
            }
        }
        copy.maxLocals = method.maxLocals;
        copy.maxStack = method.maxStack;
        return copy;
    }

    /**
     * The JVM limits a method's parameters to {@value #MAX_PARAMETER_SLOTS} slots ({@code this},
     * and two for each long and double, included; JVMS 4.3.3); a body takes
     * {@value #ADDED_PARAMETER_SLOTS} more.
     */
    static final int MAX_PARAMETER_SLOTS = 255;
    /** The slots a body adds to the original parameters: the coroutine's stack and the signal. */
    static final int ADDED_PARAMETER_SLOTS = 2;

    /**
     * @param isStatic whether the method has no {@code this}
     * @return the parameter slots of a method with descriptor {@code desc}, {@code this} included
     */
    static int parameterSlots(String desc, boolean isStatic) {
        return (Type.getArgumentsAndReturnSizes(desc) >> 2) - (isStatic ? 1 : 0); // NOTE: ASM counts this always
    }

    /** @return whether the body of a method with these parameters would pass the JVM's limit */
    static boolean tooManyParameters(String desc, boolean isStatic) {
        return parameterSlots(desc, isStatic) + ADDED_PARAMETER_SLOTS > MAX_PARAMETER_SLOTS;
    }

    private static void refuseTooManyParameters(MethodNode method) throws Refusal {
        boolean isStatic = (method.access & Opcodes.ACC_STATIC) != 0;
        if (tooManyParameters(method.desc, isStatic)) {
            throw new Refusal("a coroutine function can have at most " + (MAX_PARAMETER_SLOTS - ADDED_PARAMETER_SLOTS)
                    + " parameter slots (this one has " + parameterSlots(method.desc, isStatic) + ", counting this and"
                    + " two for each long and double): its resumable copy takes " + ADDED_PARAMETER_SLOTS + " more and"
                    + " the JVM allows " + MAX_PARAMETER_SLOTS + "; pass some of them in an object or an array",
                    Bytecode.firstLine(method));
        }
    }

    private static MethodNode inlineSubroutines(MethodNode method) {
        boolean hasJsr = false;
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            hasJsr |= insn.getOpcode() == Opcodes.JSR || insn.getOpcode() == Opcodes.RET;
        }
        if (!hasJsr) {
            return method;
        }
        String[] exceptions = method.exceptions == null ? null : method.exceptions.toArray(new String[0]);
        JSRInlinerAdapter inliner = new JSRInlinerAdapter(null, method.access, method.name, method.desc,
                method.signature, exceptions);
        method.accept(inliner);
        return inliner;
    }

    private static List<MethodInsnNode> collectSuspensionCalls(MethodNode method, ClassHierarchy hierarchy) {
        List<MethodInsnNode> calls = new ArrayList<>();
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof MethodInsnNode call && CoroutineMethods.isSuspensionPoint(call, hierarchy)) {
                calls.add(call);
            }
        }
        return calls;
    }

    private static void refuseHeldMonitors(String owner, MethodNode method, List<MethodInsnNode> calls,
            ClassHierarchy hierarchy) throws Refusal {
        boolean hasMonitors = false;
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            hasMonitors |= insn.getOpcode() == Opcodes.MONITORENTER;
        }
        if (!hasMonitors || calls.isEmpty()) {
            return;
        }
        FrameAnalysis analysis = FrameAnalysis.analyze(owner, method, hierarchy);
        int[] held = MonitorRegions.heldBefore(method.instructions, analysis.successors, analysis.normalSuccessors);
        for (MethodInsnNode call : calls) {
            if (held[method.instructions.indexOf(call)] > 0) {
                throw new Refusal("call to coroutine function " + call.owner.replace('/', '.') + "." + call.name
                        + call.desc + " inside a synchronized block: a coroutine cannot suspend while it holds"
                        + " a monitor; use a CoMutex, or move the call out of the synchronized block",
                        Bytecode.lineOf(call));
            }
        }
    }

    /**
     * @param compactStackSlot for the compact encoding, the stack parameter's slot: every local that
     *     holds a value is saved, live or not (but the stack and the signal), so that far fewer
     *     points differ in the shape of their frames (in a {@code finally} copied onto an exception
     *     exit, locals die one by one); else -1: the live locals only
     */
    private static List<SuspensionPoint> describe(int classVersion, MethodNode method, FrameAnalysis analysis,
            List<MethodInsnNode> calls, ClassHierarchy hierarchy, int compactStackSlot, boolean virtualCalls) {
        InsnList instructions = method.instructions;
        BitSet[] live = Liveness.liveBefore(instructions, analysis.successors);
        List<SuspensionPoint> points = new ArrayList<>();
        for (MethodInsnNode call : calls) {
            int index = instructions.indexOf(call);
            Frame<BasicValue> frame = analysis.frames[index];
            if (frame == null) {
                continue; // unreachable: left as it is
            }
            List<SuspensionPoint.Slot> locals = new ArrayList<>();
            for (int local = 0; local < frame.getLocals(); local++) {
                BasicValue value = frame.getLocal(local);
                if (value.getType() == null) {
                    continue;
                }
                if (live[index].get(local) || compactStackSlot >= 0 && local != compactStackSlot
                        && local != compactStackSlot + 1 && savable(value)) {
                    locals.add(new SuspensionPoint.Slot(local, value));
                }
                local += value.getSize() - 1;
            }
            int consumed = Type.getArgumentTypes(call.desc).length + (call.getOpcode() == Opcodes.INVOKESTATIC ? 0 : 1);
            int below = frame.getStackSize() - consumed;
            List<BasicValue> stackBelow = new ArrayList<>();
            for (int i = 0; i < below; i++) {
                stackBelow.add(frame.getStack(i));
            }
            BasicValue receiver = call.getOpcode() == Opcodes.INVOKESTATIC ? null : frame.getStack(below);
            points.add(new SuspensionPoint(points.size(), call, linkage(call, classVersion, hierarchy, virtualCalls), Bytecode.lineOf(call),
                    locals, stackBelow, receiver));
        }
        return points;
    }

    /** @return whether a value that is not live may be saved all the same: a primitive or an initialized reference */
    private static boolean savable(BasicValue value) {
        switch (value.getType().getSort()) {
            case Type.BOOLEAN: case Type.CHAR: case Type.BYTE: case Type.SHORT: case Type.INT:
            case Type.FLOAT: case Type.LONG: case Type.DOUBLE: case Type.ARRAY: case Type.OBJECT:
                return true;
            default:
                return false;
        }
    }

    /** @return whether {@code method}'s rewrite gave a virtual or interface call an inline cache */
    public static boolean hasVirtualCalls(MethodNode body) {
        for (AbstractInsnNode insn = body.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof org.objectweb.asm.tree.InvokeDynamicInsnNode indy
                    && indy.bsm.getOwner().equals(RuntimeNames.LINKER) && indy.bsm.getName().equals(RuntimeNames.LINK_VIRTUAL)) {
                return true;
            }
        }
        return false;
    }

    private static SuspensionPoint.Linkage linkage(MethodInsnNode call, int classVersion, ClassHierarchy hierarchy,
            boolean virtualCalls) {
        if (CoroutineMethods.isYield(call)) {
            return SuspensionPoint.Linkage.INLINE_YIELD;
        }
        if (classVersion < Opcodes.V1_7 || RuntimeNames.isRuntimeClass(call.owner)) {
            return SuspensionPoint.Linkage.ORIGINAL; // no invokedynamic before Java 7; the runtime has no bodies
        }
        if (tooManyParameters(call.desc, call.getOpcode() == Opcodes.INVOKESTATIC)) {
            return SuspensionPoint.Linkage.ORIGINAL; // NOTE: the callee has no body: it was refused (see above)
        }
        switch (call.getOpcode()) {
            case Opcodes.INVOKESTATIC:
            case Opcodes.INVOKESPECIAL:
                return SuspensionPoint.Linkage.DIRECT;
            default:
                if (hierarchy.isPrivate(call.owner, call.name, call.desc)) {
                    return SuspensionPoint.Linkage.DIRECT;
                }
                // NOTE: an owner in array form ([L...;.clone) is never a coroutine function's
                return virtualCalls && call.owner.charAt(0) != '[' ? SuspensionPoint.Linkage.VIRTUAL
                        : SuspensionPoint.Linkage.ORIGINAL;
        }
    }
}
