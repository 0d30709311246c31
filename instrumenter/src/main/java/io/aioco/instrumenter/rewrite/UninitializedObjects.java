package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.analysis.Liveness;
import io.aioco.instrumenter.classfile.Bytecode;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
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
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.BasicInterpreter;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.tree.analysis.Frame;
import org.objectweb.asm.tree.analysis.Interpreter;

/**
 * Why: an object that is allocated but not yet constructed ({@code new Foo(suspendingCall())}: NEW,
 * DUP, then the arguments) cannot be saved by a suspended frame; the JVM allows nothing but its
 * constructor call on it (and copies: DUP, stores to and loads from locals). javac keeps it on the
 * operand stack, or, when an argument is a switch expression with a {@code try} inside, in local
 * variables (it spills the operand stack there, since a handler starts with an empty stack). This
 * pass allocates such objects only at their constructor call: the NEW becomes a {@code null}
 * placeholder that is copied, stored and loaded exactly where the uninitialized object was (and is
 * saved and restored like any null), and at the constructor call the arguments go to fresh
 * locals, the placeholders under them are dropped, and NEW, DUP, the arguments again, and the
 * constructor call follow. The only visible difference is that the class of the new object is
 * initialised after its constructor's arguments are evaluated rather than before.
 */
final class UninitializedObjects {
    private UninitializedObjects() {}

    /** The value a NEW leaves, until its constructor is called: one per NEW instruction. */
    private static final class Uninitialized extends BasicValue {
        final TypeInsnNode newInsn;

        Uninitialized(TypeInsnNode newInsn) {
            super(Type.getObjectType(newInsn.desc));
            this.newInsn = newInsn;
        }

        @Override
        public boolean equals(Object other) {
            return other == this; // NOTE: two NEWs of one class are two values
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(this);
        }
    }

    /** A reference that is an uninitialized object on one path and something else on another. */
    private static final BasicValue MIXED = new BasicValue(Type.getObjectType("aioco/MixedUninitialized"));

    /** What the analysis found: the constructor calls of each NEW, and which NEWs the pass cannot move. */
    private static final class Findings {
        final Map<TypeInsnNode, Set<MethodInsnNode>> constructorCalls = new LinkedHashMap<>();
        boolean mixedConstructed;
    }

    /**
     * Rewrites the method in place.
     *
     * @param suspensionCalls the calls that may suspend
     * @return whether anything changed (the method must then be analysed again)
     * @throws InstrumentationException for an allocation of a shape this pass does not know
     */
    static boolean rewrite(String owner, MethodNode method, Set<MethodInsnNode> suspensionCalls) {
        InsnList instructions = method.instructions;
        boolean hasNew = false;
        for (AbstractInsnNode insn = instructions.getFirst(); insn != null && !hasNew; insn = insn.getNext()) {
            hasNew = insn.getOpcode() == Opcodes.NEW;
        }
        if (!hasNew || suspensionCalls.isEmpty()) {
            return false; // NOTE: the common case: no second analysis
        }
        Findings findings = new Findings();
        List<List<Integer>> successors = new ArrayList<>();
        Frame<BasicValue>[] frames = analyze(owner, method, findings, successors);
        BitSet[] live = Liveness.liveBefore(instructions, successors);
        Set<TypeInsnNode> moved = new LinkedHashSet<>();
        for (MethodInsnNode call : suspensionCalls) {
            int index = instructions.indexOf(call);
            Frame<BasicValue> frame = frames[index];
            if (frame == null) {
                continue;
            }
            for (int i = 0; i < frame.getStackSize() + frame.getLocals(); i++) {
                boolean onStack = i < frame.getStackSize();
                if (!onStack && !live[index].get(i - frame.getStackSize())) {
                    continue; // NOTE: a dead local is not saved; javac reuses its spill slots
                }
                BasicValue value = onStack ? frame.getStack(i) : frame.getLocal(i - frame.getStackSize());
                if (value == MIXED) {
                    throw unsupported(owner, method, call, "an object under construction");
                }
                if (value instanceof Uninitialized uninitialized) {
                    moved.add(uninitialized.newInsn);
                }
            }
        }
        if (moved.isEmpty()) {
            return false;
        }
        if (findings.mixedConstructed) {
            throw unsupported(owner, method, moved.iterator().next(), "an object under construction");
        }
        List<Runnable> edits = new ArrayList<>();
        // NOTE: the constructor calls share their argument locals (by position and kind): each is
        // used only between its stores and loads right before the call, with no other code in
        // between. A fresh pair per call grew the method's locals with every call, and the compact
        // encoding saves every local that holds a value: each point then saved all earlier calls'
        // arguments (quadratic code, and ASM's frame budget passed at about 5 KiB; rv14b)
        java.util.Map<String, Integer> temps = new java.util.HashMap<>();
        for (TypeInsnNode newInsn : moved) {
            Set<MethodInsnNode> calls = findings.constructorCalls.getOrDefault(newInsn, Set.of());
            if (calls.isEmpty()) {
                throw unsupported(owner, method, newInsn, "an object under construction (" + newInsn.desc.replace('/', '.')
                        + ") that is never constructed");
            }
            for (MethodInsnNode call : calls) {
                int index = instructions.indexOf(call);
                int copies = copiesUnderArguments(frames[index], call, newInsn, live[index]);
                if (copies < 0) {
                    throw unsupported(owner, method, call, "an object under construction ("
                            + newInsn.desc.replace('/', '.') + ") that is copied where its constructor call does not"
                            + " find it");
                }
                edits.add(() -> construct(method, newInsn.desc, call, copies, temps));
            }
            edits.add(() -> instructions.set(newInsn, new InsnNode(Opcodes.ACONST_NULL)));
        }
        edits.forEach(Runnable::run); // NOTE: after every check: a refused method is left as it was
        return true;
    }

    private static InstrumentationException unsupported(String owner, MethodNode method, AbstractInsnNode at,
            String what) {
        int line = Bytecode.lineOf(at);
        return new InstrumentationException("unsupported shape in " + owner.replace('/', '.') + "." + method.name
                + method.desc + (line > 0 ? " at line " + line : "") + ": " + what + " is live at a suspension point"
                + " in a way this rewrite does not know; move the suspending call out of the constructor's arguments"
                + " into a local variable");
    }

    /**
     * @return how many copies of the object sit right under the constructor's arguments (the
     *     receiver and the copies to keep), or -1 if a copy is anywhere else where it could still be
     *     read (further down the stack, or in a live local)
     */
    private static int copiesUnderArguments(Frame<BasicValue> frame, MethodInsnNode call, TypeInsnNode newInsn,
            BitSet liveLocals) {
        int receiver = frame.getStackSize() - Type.getArgumentTypes(call.desc).length - 1;
        int copies = 0;
        while (receiver - copies >= 0 && isCopy(frame.getStack(receiver - copies), newInsn)) {
            copies++;
        }
        for (int i = 0; i < receiver - copies + 1; i++) {
            if (isCopy(frame.getStack(i), newInsn)) {
                return -1;
            }
        }
        for (int local = 0; local < frame.getLocals(); local++) {
            if (isCopy(frame.getLocal(local), newInsn) && liveLocals.get(local)) {
                return -1; // NOTE: javac's spilled copies are dead once reloaded: the placeholder is never read
            }
        }
        return copies;
    }

    private static boolean isCopy(BasicValue value, TypeInsnNode newInsn) {
        return value instanceof Uninitialized uninitialized && uninitialized.newInsn == newInsn;
    }

    /**
     * Before {@code call}: the arguments to locals (shared by every constructor call of the method,
     * by position and kind), the placeholders dropped, then NEW, DUPs, the arguments.
     */
    private static void construct(MethodNode method, String type, MethodInsnNode call, int copies,
            java.util.Map<String, Integer> shared) {
        Type[] arguments = Type.getArgumentTypes(call.desc);
        int[] temps = new int[arguments.length];
        for (int a = 0; a < arguments.length; a++) {
            int size = arguments[a].getSize();
            temps[a] = shared.computeIfAbsent(a + "/" + arguments[a].getOpcode(Opcodes.ISTORE), k -> {
                int local = method.maxLocals;
                method.maxLocals += size;
                return local;
            });
        }
        InsnList before = new InsnList();
        for (int a = arguments.length - 1; a >= 0; a--) {
            before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ISTORE), temps[a]));
        }
        for (int c = 0; c < copies; c++) {
            before.add(new InsnNode(Opcodes.POP));
        }
        before.add(new TypeInsnNode(Opcodes.NEW, type));
        for (int c = 1; c < copies; c++) {
            before.add(new InsnNode(Opcodes.DUP));
        }
        for (int a = 0; a < arguments.length; a++) {
            before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), temps[a]));
        }
        method.instructions.insertBefore(call, before);
    }

    @SuppressWarnings("unchecked")
    private static Frame<BasicValue>[] analyze(String owner, MethodNode method, Findings findings,
            List<List<Integer>> successors) {
        for (int i = 0; i < method.instructions.size(); i++) {
            successors.add(new ArrayList<>(2));
        }
        Analyzer<BasicValue> analyzer = new Analyzer<>(new Tracker()) {
            @Override
            protected Frame<BasicValue> newFrame(int numLocals, int numStack) {
                return new TrackingFrame(numLocals, numStack, findings);
            }

            @Override
            protected Frame<BasicValue> newFrame(Frame<? extends BasicValue> frame) {
                TrackingFrame copy = new TrackingFrame(frame.getLocals(), frame.getMaxStackSize(), findings);
                copy.init(frame);
                return copy;
            }

            @Override
            protected void newControlFlowEdge(int insnIndex, int successorIndex) {
                successors.get(insnIndex).add(successorIndex);
            }

            @Override
            protected boolean newControlFlowExceptionEdge(int insnIndex, int successorIndex) {
                successors.get(insnIndex).add(successorIndex);
                return true;
            }
        };
        try {
            return analyzer.analyze(owner, method);
        } catch (AnalyzerException e) {
            throw new InstrumentationException("cannot analyze " + owner.replace('/', '.') + "." + method.name
                    + method.desc + ": " + e.getMessage(), e);
        }
    }

    /** Types as sizes only (no hierarchy needed), each NEW's value kept apart until its constructor runs. */
    private static final class Tracker extends BasicInterpreter {
        /** NOTE: one value per NEW, however often the analyzer runs it, so that two paths from it merge to it. */
        private final Map<AbstractInsnNode, Uninitialized> values = new HashMap<>();

        Tracker() {
            super(Opcodes.ASM9);
        }

        @Override
        public BasicValue newOperation(AbstractInsnNode insn) throws AnalyzerException {
            if (insn.getOpcode() == Opcodes.NEW) {
                return values.computeIfAbsent(insn, newInsn -> new Uninitialized((TypeInsnNode) newInsn));
            }
            return super.newOperation(insn);
        }

        @Override
        public BasicValue merge(BasicValue value1, BasicValue value2) {
            if (value1 == value2) {
                return value1;
            }
            if (value1 instanceof Uninitialized || value2 instanceof Uninitialized || value1 == MIXED || value2 == MIXED) {
                // NOTE: an uninitialized object met by anything else; unused on a path that joins (the JVM's
                // verifier allows that only as long as it is not used), but it must not pass for either
                return value1.getSize() == 1 && value2.getSize() == 1 ? MIXED : BasicValue.UNINITIALIZED_VALUE;
            }
            return super.merge(value1, value2);
        }
    }

    /** A frame that, at a constructor call, turns every copy of the object constructed into a plain reference. */
    private static final class TrackingFrame extends Frame<BasicValue> {
        private final Findings findings;

        TrackingFrame(int numLocals, int maxStack, Findings findings) {
            super(numLocals, maxStack);
            this.findings = findings;
        }

        @Override
        public void execute(AbstractInsnNode insn, Interpreter<BasicValue> interpreter) throws AnalyzerException {
            BasicValue receiver = null;
            if (insn instanceof MethodInsnNode call && call.getOpcode() == Opcodes.INVOKESPECIAL
                    && call.name.equals("<init>")) {
                receiver = getStack(getStackSize() - Type.getArgumentTypes(call.desc).length - 1);
                if (receiver instanceof Uninitialized uninitialized) {
                    findings.constructorCalls.computeIfAbsent(uninitialized.newInsn, k -> new LinkedHashSet<>()).add(call);
                } else if (receiver == MIXED) {
                    findings.mixedConstructed = true;
                }
            }
            super.execute(insn, interpreter);
            if (receiver instanceof Uninitialized) {
                for (int i = 0; i < getLocals(); i++) {
                    if (getLocal(i) == receiver) {
                        setLocal(i, BasicValue.REFERENCE_VALUE);
                    }
                }
                for (int i = 0; i < getStackSize(); i++) {
                    if (getStack(i) == receiver) {
                        setStack(i, BasicValue.REFERENCE_VALUE);
                    }
                }
            }
        }
    }
}
