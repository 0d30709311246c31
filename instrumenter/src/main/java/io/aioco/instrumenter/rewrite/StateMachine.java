package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.classfile.RuntimeNames;
import io.aioco.instrumenter.rewrite.SlotCodec.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.Handle;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.FieldInsnNode;
import org.objectweb.asm.tree.IntInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.LineNumberNode;
import org.objectweb.asm.tree.LookupSwitchInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.TableSwitchInsnNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.tree.analysis.BasicValue;

/**
 * Why: this is the rewrite itself. Given the suspension points of a coroutine function (with
 * their live locals and operand stacks), it emits the prologue (read the
 * caller's signal, dispatch to a resume point), the code around each suspension point (arm the
 * callee, check after the call), and for each point a suspend block (save, return a dummy) and a
 * resume block (restore, call the callee again). See instrumenter/DESIGN.md for a worked example.
 *
 * <p>It runs twice on a function that can suspend: on the <em>body</em> (resumable: the entry
 * check, the resume blocks and their dispatch), and on a copy of the same code, the <em>fresh
 * body</em>, which fresh calls from instrumented code reach and which has neither: a frame it
 * saves is the same as the body's (same points, same slots), and is resumed by the body.
 *
 * <p>The fast path (nothing suspends) pays, per direct call to a suspension point: one more
 * argument (the stack) and one field load and branch after the call (a call through the wrapper
 * also stores the callee's token before it); nothing on entry (fresh calls reach the fresh body).
 */
final class StateMachine {
    private final MethodNode method;
    private final String methodId;
    private final int[] acceptedTokens;
    private final List<SuspensionPoint> points;
    private final int stackLocal;
    private final int signalLocal;
    private final boolean resumable;
    /** The state number of point 0 ({@link StateBase}): a frame saved by another version of the code fails to resume. */
    private final int stateBase;
    private final InsnList tail = new InsnList();
    /** The class file's major version: which constants it may load. */
    private final int classVersion;
    /**
     * The compact encoding (a method too large for the usual one): points whose frames have the
     * same shape share one save and one restore block, reached with the point's number in
     * {@link #stateLocal} and left through a switch on it.
     */
    private final boolean compact;
    /** Compact: the point's number (its state minus {@link #stateBase}) while a shared block runs. */
    private int stateLocal = -1;
    /** Compact: the shapes met so far, by {@link Shape#key}. */
    private final Map<String, Shape> shapes = new LinkedHashMap<>();
    /** Compact: the locals that hold values only while a point is armed, saved or restored, by role. */
    private final Map<String, Integer> scratchLocals = new HashMap<>();

    private StateMachine(MethodNode method, String methodId, int[] acceptedTokens, List<SuspensionPoint> points,
            int stackLocal, boolean resumable, int classVersion, int stateBase, boolean compact) {
        this.classVersion = classVersion;
        this.compact = compact;
        this.stateBase = stateBase;
        this.method = method;
        this.methodId = methodId;
        this.acceptedTokens = acceptedTokens;
        this.points = points;
        this.stackLocal = stackLocal;
        this.signalLocal = stackLocal + 1;
        this.resumable = resumable;
    }

    /**
     * Rewrites the method in place.
     *
     * @param methodId {@code pkg.Class.name(desc)}, for error messages
     * @param acceptedTokens the signals that mean "called by instrumented code": its own token
     *     first, then those of the functional interface methods it implements as a lambda body
     * @param points its suspension points, in instruction order (may be empty)
     * @param stackLocal the parameter that holds the running coroutine's stack (in the body, the
     *     caller's signal is the next one)
     * @param resumable true for the body, false for the fresh body (no entry check, no resume)
     * @param classVersion the class file's major version
     * @param stateBase {@link StateBase#of} the original method: the same for its body and fresh body
     */
    static void rewrite(MethodNode method, String methodId, int[] acceptedTokens, List<SuspensionPoint> points,
            int stackLocal, boolean resumable, int classVersion, int stateBase) {
        rewrite(method, methodId, acceptedTokens, points, stackLocal, resumable, classVersion, stateBase, false);
    }

    /**
     * As above; {@code compact} selects the compact encoding (see {@link #compact}): the same
     * calling protocol and the same saved frames (slots, order of kinds per point, state numbers),
     * less code per suspension point, a little more work when a frame suspends or resumes.
     */
    static void rewrite(MethodNode method, String methodId, int[] acceptedTokens, List<SuspensionPoint> points,
            int stackLocal, boolean resumable, int classVersion, int stateBase, boolean compact) {
        new StateMachine(method, methodId, acceptedTokens, points, stackLocal, resumable, classVersion, stateBase,
                compact).emit();
    }

    /** Compact: a local for one role (same role, same local), else a new one. */
    private int scratchLocal(String role, int size) {
        if (!compact) {
            return newLocal(size);
        }
        return scratchLocals.computeIfAbsent(role + "/" + size, r -> newLocal(size));
    }

    private int newLocal(int size) {
        int local = method.maxLocals;
        method.maxLocals += size;
        return local;
    }

    private void emit() {
        LabelNode start = new LabelNode();
        LabelNode dispatch = new LabelNode();
        List<LabelNode> resumeLabels = new ArrayList<>();
        if (compact && !points.isEmpty()) {
            stateLocal = newLocal(1);
        }
        for (SuspensionPoint point : points) {
            resumeLabels.add(compact ? emitCompactPoint(point) : emitPoint(point));
        }
        for (Shape shape : shapes.values()) {
            emitShape(shape);
        }
        if (!localsShapes.isEmpty()) {
            emitLocalsTrie();
        }
        LabelNode corrupt = new LabelNode();
        method.instructions.insert(prologue(start, dispatch));
        if (resumable && !points.isEmpty()) {
            tail.add(dispatch);
            markLine(firstLine() == null ? -1 : firstLine().line);
            tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            tail.add(stackCall(RuntimeNames.POP_INT, RuntimeNames.POP_INT_DESC));
            if (compact) {
                // the point's number, for the switch that ends its shape's restore block (one shape:
                // straight there once the number is checked)
                tail.add(new LdcInsnNode(stateBase));
                tail.add(new InsnNode(Opcodes.ISUB));
                if (localsShapes.size() == 1) {
                    tail.add(new InsnNode(Opcodes.DUP));
                    tail.add(new VarInsnNode(Opcodes.ISTORE, stateLocal));
                    tail.add(new JumpInsnNode(Opcodes.IFLT, corrupt));
                    tail.add(new VarInsnNode(Opcodes.ILOAD, stateLocal));
                    tail.add(pushInt(points.size()));
                    tail.add(new JumpInsnNode(Opcodes.IF_ICMPGE, corrupt));
                    tail.add(new JumpInsnNode(Opcodes.GOTO, resumeLabels.get(0)));
                } else {
                    tail.add(new InsnNode(Opcodes.DUP));
                    tail.add(new VarInsnNode(Opcodes.ISTORE, stateLocal));
                    tail.add(new TableSwitchInsnNode(0, points.size() - 1, corrupt, resumeLabels.toArray(new LabelNode[0])));
                }
            } else {
                tail.add(new TableSwitchInsnNode(stateBase, stateBase + points.size() - 1, corrupt,
                        resumeLabels.toArray(new LabelNode[0])));
            }
            tail.add(corrupt); // NOTE: also a frame saved before a hot swap of this method (StateBase)
            tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            tail.add(new LdcInsnNode(methodId + " (if it was redefined while a coroutine was suspended in it: such a"
                    + " coroutine cannot resume, only new calls run the new body)"));
            tail.add(stackCall(RuntimeNames.CORRUPT, RuntimeNames.ERROR_DESC));
            tail.add(new InsnNode(Opcodes.ATHROW));
        }
        method.instructions.add(tail);
    }

    /**
     * The entry check. A direct call from instrumented code passes 0 as the signal argument, so the
     * fast path is a test of an argument. Anything else (a resume, a call through the wrapper,
     * which passes the signal it found and leaves the caller's token in the field) goes out of
     * line: clear the field, then dispatch to the saved state on {@code token | RESUME}, else
     * start afresh. A method that cannot suspend ignores the argument: its wrapper clears a
     * caller's token, so that the caller's check after the call finds the field clear.
     */
    private InsnList prologue(LabelNode start, LabelNode dispatch) {
        InsnList out = new InsnList();
        LineNumberNode firstLine = firstLine();
        if (firstLine != null) {
            LabelNode lineLabel = new LabelNode();
            out.add(lineLabel);
            out.add(new LineNumberNode(firstLine.line, lineLabel));
        }
        if (!resumable || points.isEmpty()) {
            out.add(start); // a fresh call: its wrapper or caller leaves the signal clear
            return out;
        }
        LabelNode slowEntry = new LabelNode();
        out.add(new VarInsnNode(Opcodes.ILOAD, signalLocal));
        out.add(new JumpInsnNode(Opcodes.IFNE, slowEntry));
        out.add(start);

        // slow entry, out of line: a resume, or a call through the wrapper (from instrumented code
        // with a virtual call, or from code that is not instrumented: the wrapper checks that such
        // a call does not return suspended)
        tail.add(slowEntry);
        storeSignal(tail, 0);
        for (int token : acceptedTokens) {
            tail.add(new VarInsnNode(Opcodes.ILOAD, signalLocal));
            tail.add(new LdcInsnNode(token | RuntimeNames.RESUME));
            tail.add(new JumpInsnNode(Opcodes.IF_ICMPEQ, dispatch));
        }
        tail.add(new JumpInsnNode(Opcodes.GOTO, start));
        return out;
    }

    private LineNumberNode firstLine() {
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof LineNumberNode line) {
                return line;
            }
        }
        return null;
    }

    /** The locals that hold a suspension point's operand stack and receiver while it is saved or restored. */
    private record Spill(List<Kind> belowKinds, int[] belowLocals, int receiverLocal, Kind receiverKind) {}

    /** Instruments one suspension point; returns the label of its resume block. */
    private LabelNode emitPoint(SuspensionPoint point) {
        if (point.linkage() == SuspensionPoint.Linkage.INLINE_YIELD) {
            return emitInlineYield(point);
        }
        MethodInsnNode call = point.call();
        Type[] arguments = point.argumentTypes();
        int receiverLocal = -1;
        int[] argumentLocals = new int[arguments.length];
        InsnList before = new InsnList();
        if (point.hasReceiver()) {
            // keep the receiver: resuming must call the same object's method again
            for (int a = 0; a < arguments.length; a++) {
                argumentLocals[a] = newLocal(arguments[a].getSize());
            }
            for (int a = arguments.length - 1; a >= 0; a--) {
                before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ISTORE), argumentLocals[a]));
            }
            receiverLocal = newLocal(1);
            before.add(new InsnNode(Opcodes.DUP));
            before.add(new VarInsnNode(Opcodes.ASTORE, receiverLocal));
            for (int a = 0; a < arguments.length; a++) {
                before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), argumentLocals[a]));
            }
        }
        boolean direct = point.linkage() == SuspensionPoint.Linkage.DIRECT;
        boolean virtual = point.linkage() == SuspensionPoint.Linkage.VIRTUAL;
        if (!direct && !virtual) {
            // the wrapper, or a hand-written runtime function, tells an instrumented caller by its token
            storeSignal(before, point.token());
        }
        LabelNode callLabel = new LabelNode();
        AbstractInsnNode callInsn = call;
        if (direct || virtual) {
            before.add(new VarInsnNode(Opcodes.ALOAD, stackLocal)); // the fresh body's last argument
            callInsn = virtual ? linkedCall(call, false, RuntimeNames.LINK_VIRTUAL) : directCall(call, false);
            method.instructions.set(call, callInsn);
        }
        if (!virtual) {
            before.add(callLabel);
        }
        if (!direct && !virtual) {
            armTarget(before, call, receiverLocal); // a resume stores its signal and comes here too
        }
        method.instructions.insertBefore(callInsn, before);

        LabelNode suspend = new LabelNode();
        LabelNode after = new LabelNode();
        LabelNode resumeCall = new LabelNode();
        LabelNode notSelected = new LabelNode();
        InsnList check = new InsnList();
        if (virtual) {
            // the call as written, next to the inline cache and inside the same exception handlers
            // (the JIT lays it out of line): for a receiver the cache did not call (it left
            // NOT_SELECTED), and to resume (the wrapper pops the frame); armed as any call through
            // a wrapper. Its own check: a resume reaches it without the argument locals set
            check.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            check.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
            check.add(new JumpInsnNode(Opcodes.IFNE, notSelected));
            check.add(new JumpInsnNode(Opcodes.GOTO, after));
            check.add(callLabel);
            armTarget(check, call, receiverLocal);
            check.add(call);
        }
        if (direct && resumable) {
            // the call that resumes the callee's (resumable) body sits next to the fresh call, inside
            // the same exception handlers; the JIT lays it out of line
            LabelNode returned = new LabelNode();
            check.add(new JumpInsnNode(Opcodes.GOTO, returned));
            check.add(resumeCall);
            check.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            check.add(new LdcInsnNode(point.token() | RuntimeNames.RESUME));
            check.add(directCall(call, true));
            check.add(returned);
        }
        check.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        check.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
        check.add(new JumpInsnNode(Opcodes.IFNE, suspend));
        check.add(after);
        method.instructions.insert(callInsn, check);

        Spill spill = spill(point, receiverLocal);
        LabelNode stale = new LabelNode();
        Type returnType = point.returnType();
        if (virtual) {
            // the inline cache did not call: drop its dummy, and make the call as written
            tail.add(notSelected);
            markLine(point.line());
            tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            tail.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
            tail.add(new InsnNode(Opcodes.ICONST_4)); // RuntimeNames.NOT_SELECTED
            tail.add(new JumpInsnNode(Opcodes.IF_ICMPNE, suspend));
            if (returnType.getSort() != Type.VOID) {
                tail.add(new InsnNode(returnType.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP));
            }
            tail.add(new VarInsnNode(Opcodes.ALOAD, receiverLocal));
            for (int a = 0; a < arguments.length; a++) {
                tail.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), argumentLocals[a]));
            }
            storeSignal(tail, point.token());
            tail.add(new JumpInsnNode(Opcodes.GOTO, callLabel));
        }
        tail.add(suspend);
        markLine(point.line());
        tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        tail.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
        tail.add(new InsnNode(Opcodes.ICONST_2)); // RuntimeNames.SUSPEND
        tail.add(new JumpInsnNode(Opcodes.IF_ICMPNE, stale));
        if (returnType.getSort() != Type.VOID) {
            tail.add(new InsnNode(returnType.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP));
        }
        saveAndReturn(point, spill);
        // the callee left a signal that is not SUSPEND: it was not instrumented and never cleared it
        tail.add(stale);
        storeSignal(tail, 0);
        tail.add(new JumpInsnNode(Opcodes.GOTO, after));
        if (!resumable) {
            return null;
        }

        LabelNode resume = new LabelNode();
        tail.add(resume);
        restore(point, spill);
        for (Type argument : arguments) {
            tail.add(SlotCodec.zero(argument));
        }
        if (direct) {
            tail.add(new JumpInsnNode(Opcodes.GOTO, resumeCall)); // the callee's body, told to resume
        } else {
            storeSignal(tail, point.token() | RuntimeNames.RESUME);
            tail.add(new JumpInsnNode(Opcodes.GOTO, callLabel));
        }
        return resume;
    }

    /**
     * Compact: what points share a save and a restore block. Points of one shape save the same
     * slots with the same types (so that the frames merged where the blocks join keep every live
     * value's type), leave the same operand stack, and are resumed by the same call.
     */
    private static final class Shape {
        final SuspensionPoint first;
        final Spill spill;
        final LabelNode suspend = new LabelNode();
        final LabelNode stale = new LabelNode();
        final LabelNode restore = new LabelNode();
        /** The points' numbers, ascending. */
        final List<Integer> indices = new ArrayList<>();
        /** Where each point goes on after its call (a stale signal, or a resumed yield). */
        final List<LabelNode> afters = new ArrayList<>();
        /** Where each point's resume block goes: its call, or after its yield. */
        final List<LabelNode> resumeTargets = new ArrayList<>();

        /** The shape of its locals alone, whose save and restore blocks it shares with other shapes. */
        final LocalsShape locals;

        Shape(SuspensionPoint first, Spill spill, LocalsShape locals) {
            this.first = first;
            this.spill = spill;
            this.locals = locals;
        }
    }

    /**
     * Compact: the values a point saves, with their types: the operand stack under the call and the
     * receiver, from the locals its shape's block keeps them in, and the locals. Their save and
     * restore code is that of its node in the trie of {@link #emitLocalsTrie}, shared with the
     * sets that extend it; the frame saves the state last.
     */
    private static final class LocalsShape {
        final SuspensionPoint first;
        /** What it saves: the operand stack under the call and the receiver (from the locals they are kept in), then the locals. */
        final List<SuspensionPoint.Slot> slots;
        final LabelNode save = new LabelNode();
        final LabelNode restore = new LabelNode();
        /** The points' numbers, ascending, and the restore block of each one's shape. */
        final List<Integer> indices = new ArrayList<>();
        final List<LabelNode> shapeRestores = new ArrayList<>();
        final java.util.Set<Shape> shapes = new java.util.HashSet<>();

        LocalsShape(SuspensionPoint first, List<SuspensionPoint.Slot> slots) {
            this.first = first;
            this.slots = slots;
        }
    }

    /** Compact: the locals shapes met so far, by their key. */
    private final Map<String, LocalsShape> localsShapes = new LinkedHashMap<>();

    /** Compact: the shape of a point's frame: linkage, callee, and every saved value's kind and type. */
    private Shape shapeOf(SuspensionPoint point, int receiverLocal) {
        StringBuilder key = new StringBuilder().append(point.linkage());
        if (point.linkage() != SuspensionPoint.Linkage.INLINE_YIELD) {
            key.append(' ').append(point.call().getOpcode()).append(' ').append(point.call().owner).append('.')
                    .append(point.call().name).append(point.call().desc);
            if (point.hasReceiver()) {
                key.append(" receiver ").append(point.receiverType().getType());
            }
        }
        key.append(" below");
        for (BasicValue value : point.stackBelow()) {
            key.append(' ').append(value.getType());
        }
        // the values under the call and the receiver are saved from the locals they are kept in, as
        // the locals are (the constant null is not saved)
        Spill spill = spill(point, receiverLocal);
        List<SuspensionPoint.Slot> slots = new ArrayList<>();
        for (int i = 0; i < spill.belowKinds().size(); i++) {
            if (spill.belowKinds().get(i) != Kind.NULL) {
                slots.add(new SuspensionPoint.Slot(spill.belowLocals()[i], point.stackBelow().get(i)));
            }
        }
        if (spill.receiverKind() != null && spill.receiverKind() != Kind.NULL) {
            slots.add(new SuspensionPoint.Slot(receiverLocal, point.receiverType()));
        }
        slots.addAll(point.liveLocals());
        StringBuilder localsKey = new StringBuilder();
        for (SuspensionPoint.Slot slot : slots) {
            localsKey.append(' ').append(slotKey(slot));
        }
        key.append(" locals").append(localsKey);
        LocalsShape locals = localsShapes.computeIfAbsent(localsKey.toString(), k -> new LocalsShape(point, slots));
        Shape shape = shapes.computeIfAbsent(key.toString(), k -> new Shape(point, spill, locals));
        locals.indices.add(point.index());
        locals.shapeRestores.add(shape.restore);
        locals.shapes.add(shape);
        return shape;
    }

    /**
     * Compact: instruments one suspension point with the code only it needs: the call and the check
     * after it in place, and out of line its number and a jump to its shape's suspend block. A direct
     * call reaches the callee's body (the signal 0, a fresh call; to resume, its shape's restore block
     * comes back to the call with {@code token | RESUME}); a call through a wrapper is armed as usual.
     *
     * @return the label of its shape's restore block
     */
    private LabelNode emitCompactPoint(SuspensionPoint point) {
        MethodInsnNode call = point.call();
        LabelNode suspend = new LabelNode();
        LabelNode after = new LabelNode();
        LabelNode callLabel = new LabelNode();
        int receiverLocal = -1;
        if (point.linkage() == SuspensionPoint.Linkage.INLINE_YIELD) {
            InsnList replacement = new InsnList();
            replacement.add(new JumpInsnNode(Opcodes.GOTO, suspend));
            replacement.add(after);
            method.instructions.insert(call, replacement);
            method.instructions.remove(call);
        } else {
            Type[] arguments = point.argumentTypes();
            InsnList before = new InsnList();
            if (point.hasReceiver()) {
                int[] argumentLocals = new int[arguments.length];
                for (int a = 0; a < arguments.length; a++) {
                    argumentLocals[a] = argumentLocal(a, arguments[a]);
                }
                for (int a = arguments.length - 1; a >= 0; a--) {
                    before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ISTORE), argumentLocals[a]));
                }
                receiverLocal = scratchLocal("receiver", 1);
                before.add(new InsnNode(Opcodes.DUP));
                before.add(new VarInsnNode(Opcodes.ASTORE, receiverLocal));
                for (int a = 0; a < arguments.length; a++) {
                    before.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), argumentLocals[a]));
                }
            }
            boolean direct = point.linkage() == SuspensionPoint.Linkage.DIRECT;
            AbstractInsnNode callInsn = call;
            if (direct) {
                before.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
                if (resumable) {
                    // one call for both: a fresh call passes 0 (a statically bound callee that is only
                    // a wrapper, super.m() of another class, is given its token, as a fresh call arms it)
                    boolean wrapperOnly = call.getOpcode() == Opcodes.INVOKESPECIAL
                            && !call.owner.equals(ownerOf(methodId)) ;
                    before.add(wrapperOnly ? new LdcInsnNode(point.token()) : new InsnNode(Opcodes.ICONST_0));
                    before.add(callLabel);
                }
                callInsn = directCall(call, resumable);
                method.instructions.set(call, callInsn);
            } else if (point.linkage() == SuspensionPoint.Linkage.VIRTUAL) {
                before.add(new VarInsnNode(Opcodes.ALOAD, stackLocal)); // the fresh body's last argument
                callInsn = linkedCall(call, false, RuntimeNames.LINK_VIRTUAL);
                method.instructions.set(call, callInsn);
            } else {
                storeSignal(before, point.token());
                before.add(callLabel);
                armTarget(before, call, receiverLocal);
            }
            method.instructions.insertBefore(callInsn, before);
            InsnList check = new InsnList();
            if (point.linkage() == SuspensionPoint.Linkage.VIRTUAL) {
                // the call as written, next to the inline cache and inside the same exception
                // handlers: its shape's blocks come here for a receiver the cache did not call (it
                // left NOT_SELECTED), and to resume; both calls share the check after them
                LabelNode checked = new LabelNode();
                check.add(new JumpInsnNode(Opcodes.GOTO, checked));
                check.add(callLabel);
                armTarget(check, call, receiverLocal);
                check.add(call);
                check.add(checked);
            }
            check.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            check.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
            check.add(new JumpInsnNode(Opcodes.IFNE, suspend));
            check.add(after);
            method.instructions.insert(callInsn, check);
        }
        Shape shape = shapeOf(point, receiverLocal);
        shape.indices.add(point.index());
        shape.afters.add(after);
        shape.resumeTargets.add(point.linkage() == SuspensionPoint.Linkage.INLINE_YIELD ? after : callLabel);
        tail.add(suspend);
        markLine(point.line());
        if (point.linkage() == SuspensionPoint.Linkage.VIRTUAL) {
            // the inline cache did not call (it left NOT_SELECTED): drop its dummy, and make the call
            // as written, with the receiver and the arguments from the locals the point kept them in
            LabelNode suspended = new LabelNode();
            tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            tail.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
            tail.add(new InsnNode(Opcodes.ICONST_4)); // RuntimeNames.NOT_SELECTED
            tail.add(new JumpInsnNode(Opcodes.IF_ICMPNE, suspended));
            Type returnType = point.returnType();
            if (returnType.getSort() != Type.VOID) {
                tail.add(new InsnNode(returnType.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP));
            }
            tail.add(new VarInsnNode(Opcodes.ALOAD, receiverLocal));
            Type[] arguments = point.argumentTypes();
            for (int a = 0; a < arguments.length; a++) {
                tail.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), argumentLocal(a, arguments[a])));
            }
            storeSignal(tail, point.token());
            tail.add(new JumpInsnNode(Opcodes.GOTO, callLabel));
            tail.add(suspended);
        }
        tail.add(pushInt(point.index()));
        tail.add(new JumpInsnNode(Opcodes.GOTO, shape.suspend));
        return resumable ? shape.locals.restore : null;
    }

    /** Compact: the local that keeps a call's argument number {@code a}, of that type, while it is armed. */
    private int argumentLocal(int a, Type argument) {
        return scratchLocal("argument " + a + " " + argument.getSort(), argument.getSize());
    }

    /** @return the internal name of the class in a method id ({@code pkg.Class.name(desc)}) */
    private static String ownerOf(String methodId) {
        String qualified = methodId.substring(0, methodId.indexOf('('));
        return qualified.substring(0, qualified.lastIndexOf('.')).replace('.', '/');
    }

    /**
     * Compact: one shape's shared blocks. Suspend: (for a call) a stale signal goes back after the
     * point's call, else the operand stack under the call is kept in locals and the frame saved by
     * its locals shape's code (the same slots as {@link #saveAndReturn} saves, in another order),
     * the state last. Restore (the body only): once the locals shape's code restored the frame, the
     * operand stack pushed back with the callee's dummy arguments and resume signal, and on to the
     * point's call (or after its yield).
     */
    private void emitShape(Shape shape) {
        SuspensionPoint point = shape.first;
        boolean yield = point.linkage() == SuspensionPoint.Linkage.INLINE_YIELD;
        int line = firstLine() == null ? -1 : firstLine().line;
        tail.add(shape.suspend);
        markLine(line);
        tail.add(new VarInsnNode(Opcodes.ISTORE, stateLocal));
        if (!yield) {
            tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
            tail.add(new FieldInsnNode(Opcodes.GETFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
            tail.add(new InsnNode(Opcodes.ICONST_2)); // RuntimeNames.SUSPEND
            tail.add(new JumpInsnNode(Opcodes.IF_ICMPNE, shape.stale));
            Type returnType = point.returnType();
            if (returnType.getSort() != Type.VOID) {
                tail.add(new InsnNode(returnType.getSize() == 2 ? Opcodes.POP2 : Opcodes.POP));
            }
        }
        spillStack(shape.spill);
        tail.add(new JumpInsnNode(Opcodes.GOTO, shape.locals.save));
        if (!yield) {
            // the callee left a signal that is not SUSPEND: it was not instrumented and never cleared it
            tail.add(shape.stale);
            storeSignal(tail, 0);
            toPoint(shape.indices, shape.afters);
        }
        if (!resumable) {
            return;
        }
        tail.add(shape.restore);
        markLine(line);
        reloadStack(shape.spill);
        if (!yield) {
            Type[] arguments = point.argumentTypes();
            boolean virtual = point.linkage() == SuspensionPoint.Linkage.VIRTUAL;
            for (int a = 0; a < arguments.length; a++) {
                tail.add(SlotCodec.zero(arguments[a]));
                if (virtual) {
                    // NOTE: kept where the call keeps its arguments: the shared blocks after the call
                    // as written (which may make it again for NOT_SELECTED) load them, on every path
                    tail.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ISTORE), argumentLocal(a, arguments[a])));
                }
            }
            if (virtual) {
                for (int a = 0; a < arguments.length; a++) {
                    tail.add(new VarInsnNode(arguments[a].getOpcode(Opcodes.ILOAD), argumentLocal(a, arguments[a])));
                }
            }
            if (point.linkage() == SuspensionPoint.Linkage.DIRECT) {
                tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
                tail.add(new LdcInsnNode(point.token() | RuntimeNames.RESUME));
            } else {
                storeSignal(tail, point.token() | RuntimeNames.RESUME);
            }
        }
        toPoint(shape.indices, shape.resumeTargets);
    }

    /** Compact: on to the label of the point whose number {@link #stateLocal} holds, one of {@code indices}. */
    private void toPoint(List<Integer> indices, List<LabelNode> targets) {
        if (indices.size() == 1) {
            tail.add(new JumpInsnNode(Opcodes.GOTO, targets.get(0)));
            return;
        }
        tail.add(new VarInsnNode(Opcodes.ILOAD, stateLocal));
        tail.add(pointSwitch(indices, targets, targets.get(0))); // NOTE: always one of them (the dispatch checked it)
    }

    /**
     * Compact: with the operand stack holding exactly the values below the call, keeps them in
     * their locals (the receiver is in its own already), which the locals shape's blocks save.
     */
    private void spillStack(Spill spill) {
        List<Kind> belowKinds = spill.belowKinds();
        for (int i = belowKinds.size() - 1; i >= 0; i--) {
            Kind kind = belowKinds.get(i);
            tail.add(kind == Kind.NULL ? new InsnNode(Opcodes.POP) : SlotCodec.store(kind, spill.belowLocals()[i]));
        }
    }

    /** Compact: once the locals shape's blocks restored them, pushes the values below the call and the receiver back. */
    private void reloadStack(Spill spill) {
        List<Kind> belowKinds = spill.belowKinds();
        if (spill.receiverKind() == Kind.NULL) {
            tail.add(new InsnNode(Opcodes.ACONST_NULL));
            tail.add(new VarInsnNode(Opcodes.ASTORE, spill.receiverLocal()));
        }
        for (int i = 0; i < belowKinds.size(); i++) {
            Kind kind = belowKinds.get(i);
            tail.add(kind == Kind.NULL ? new InsnNode(Opcodes.ACONST_NULL) : SlotCodec.load(kind, spill.belowLocals()[i]));
        }
        if (spill.receiverKind() != null) {
            tail.add(new VarInsnNode(Opcodes.ALOAD, spill.receiverLocal()));
        }
    }

    /**
     * Compact: one node of the trie of the locals shapes. Each shape's locals, in the method's
     * order of its locals ({@link #emitLocalsTrie}), are a path from the root; a node saves and
     * restores the one local it adds to its parent's, so that shapes that extend one another (a
     * method where each call defines one more local) share the code of the locals they have in
     * common.
     */
    private static final class LocalsNode {
        /** The local it adds (null at the root, which has none). */
        final SuspensionPoint.Slot slot;
        final LocalsNode parent;
        final Map<String, LocalsNode> children = new LinkedHashMap<>();
        /** The locals shape whose last local this is, or null. */
        LocalsShape member;
        LabelNode save = new LabelNode();
        final LabelNode restore = new LabelNode();
        /** Restoring: where the member's frame goes on (when the walk goes on to children). */
        final LabelNode exit = new LabelNode();
        /** The smallest member number in its subtree (members are numbered in preorder). */
        int lowest;
        /** Its member's number, if it is one. */
        int number = -1;

        LocalsNode(SuspensionPoint.Slot slot, LocalsNode parent) {
            this.slot = slot;
            this.parent = parent;
        }
    }

    /**
     * Compact: the save and restore code of every locals shape, as a trie. A frame saves its locals
     * from its shape's node up to the root (the last one first: a node's save code goes on to its
     * parent's, the last child's falls into it), then the state; restoring, the walk goes from the
     * root down (the first local saved is popped last), each node choosing the child towards the
     * shape by the shape's number, kept in a local by the dispatch. The locals are ordered by the
     * number of shapes that hold them (then by slot), so that a set of locals held by every shape
     * that holds a smaller one is a prefix of the larger one's path.
     */
    private void emitLocalsTrie() {
        Map<String, Integer> holders = new HashMap<>();
        for (LocalsShape shape : localsShapes.values()) {
            for (SuspensionPoint.Slot slot : shape.slots) {
                holders.merge(slotKey(slot), 1, Integer::sum);
            }
        }
        LocalsNode root = new LocalsNode(null, null);
        for (LocalsShape shape : localsShapes.values()) {
            List<SuspensionPoint.Slot> slots = new ArrayList<>(shape.slots);
            slots.sort((a, b) -> {
                int byHolders = Integer.compare(holders.get(slotKey(b)), holders.get(slotKey(a)));
                return byHolders != 0 ? byHolders : Integer.compare(a.local(), b.local());
            });
            LocalsNode node = root;
            for (SuspensionPoint.Slot slot : slots) {
                LocalsNode parent = node;
                node = node.children.computeIfAbsent(slotKey(slot), k -> new LocalsNode(slot, parent));
            }
            node.member = shape;
            node.save = shape.save; // NOTE: where its shapes' blocks go on to
        }
        // preorder: parents before children, the members numbered in that order
        List<LocalsNode> preorder = new ArrayList<>();
        List<LocalsNode> pending = new ArrayList<>(List.of(root));
        int members = 0;
        while (!pending.isEmpty()) {
            LocalsNode node = pending.remove(pending.size() - 1);
            preorder.add(node);
            node.lowest = members;
            if (node.member != null) {
                node.number = members++;
            }
            List<LocalsNode> children = new ArrayList<>(node.children.values());
            for (int i = children.size() - 1; i >= 0; i--) {
                pending.add(children.get(i));
            }
        }
        int line = firstLine() == null ? -1 : firstLine().line;

        // save: in reverse preorder, a node's first child comes right before it and falls into it
        // (its other children jump to it)
        markLine(line);
        for (int i = preorder.size() - 1; i >= 0; i--) {
            LocalsNode node = preorder.get(i);
            tail.add(node.save);
            if (node.parent == null) {
                tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
                tail.add(new VarInsnNode(Opcodes.ILOAD, stateLocal));
                tail.add(new LdcInsnNode(stateBase));
                tail.add(new InsnNode(Opcodes.IADD));
                returnSuspended();
                continue;
            }
            Kind kind = SlotCodec.kindOf(node.slot.value(), methodId);
            if (kind != Kind.NULL) {
                SlotCodec.save(tail, stackLocal, kind, node.slot.local());
            }
            if (i - 1 < 0 || preorder.get(i - 1) != node.parent) {
                tail.add(new JumpInsnNode(Opcodes.GOTO, node.parent.save));
            }
        }
        if (!resumable) {
            return;
        }

        // restore: the dispatch comes to a member's label, which sets its number
        markLine(line);
        int memberLocal = members > 1 ? scratchLocal("locals shape", 1) : -1;
        for (LocalsNode node : preorder) {
            if (node.member == null) {
                continue;
            }
            tail.add(node.member.restore);
            if (memberLocal >= 0) {
                tail.add(pushInt(node.number));
                tail.add(new VarInsnNode(Opcodes.ISTORE, memberLocal));
            }
            tail.add(new JumpInsnNode(Opcodes.GOTO, root.restore));
        }
        for (LocalsNode node : preorder) {
            tail.add(node.restore);
            if (node.parent != null) {
                Kind kind = SlotCodec.kindOf(node.slot.value(), methodId);
                SlotCodec.restore(tail, stackLocal, kind, node.slot.value());
                tail.add(SlotCodec.store(kind == Kind.NULL ? Kind.REFERENCE : kind, node.slot.local()));
            }
            List<LocalsNode> children = new ArrayList<>(node.children.values());
            if (node.member != null) {
                if (children.isEmpty()) {
                    restored(node.member);
                    continue;
                }
                tail.add(new VarInsnNode(Opcodes.ILOAD, memberLocal));
                tail.add(pushInt(node.number));
                tail.add(new JumpInsnNode(Opcodes.IF_ICMPEQ, node.exit));
            }
            for (int c = children.size() - 1; c >= 1; c--) {
                tail.add(new VarInsnNode(Opcodes.ILOAD, memberLocal));
                tail.add(pushInt(children.get(c).lowest));
                tail.add(new JumpInsnNode(Opcodes.IF_ICMPGE, children.get(c).restore));
            }
            // on to the first child, next in preorder
        }
        for (LocalsNode node : preorder) {
            if (node.member != null && !node.children.isEmpty()) {
                tail.add(node.exit);
                restored(node.member);
            }
        }
    }

    /** Compact: once a locals shape's locals are restored, on to its point's shape's restore block. */
    private void restored(LocalsShape shape) {
        if (shape.shapes.size() == 1) {
            tail.add(new JumpInsnNode(Opcodes.GOTO, shape.shapeRestores.get(0)));
        } else {
            toPoint(shape.indices, shape.shapeRestores);
        }
    }

    private static String slotKey(SuspensionPoint.Slot slot) {
        return slot.local() + "=" + slot.value().getType();
    }

    /** A switch on a point's number to its label (the smaller of a table and a lookup switch). */
    private static AbstractInsnNode pointSwitch(List<Integer> indices, List<LabelNode> targets, LabelNode otherwise) {
        int min = indices.get(0);
        int max = indices.get(indices.size() - 1);
        long tableSize = 4L * (max - min + 1) + 12;
        long lookupSize = 8L * indices.size() + 8;
        if (tableSize <= lookupSize) {
            LabelNode[] labels = new LabelNode[max - min + 1];
            java.util.Arrays.fill(labels, otherwise);
            for (int i = 0; i < indices.size(); i++) {
                labels[indices.get(i) - min] = targets.get(i);
            }
            return new TableSwitchInsnNode(min, max, otherwise, labels);
        }
        int[] keys = new int[indices.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = indices.get(i);
        }
        return new LookupSwitchInsnNode(otherwise, keys, targets.toArray(new LabelNode[0]));
    }

    private static AbstractInsnNode pushInt(int value) {
        if (value >= -1 && value <= 5) {
            return new InsnNode(Opcodes.ICONST_0 + value);
        } else if (value >= Byte.MIN_VALUE && value <= Byte.MAX_VALUE) {
            return new IntInsnNode(Opcodes.BIPUSH, value);
        } else if (value >= Short.MIN_VALUE && value <= Short.MAX_VALUE) {
            return new IntInsnNode(Opcodes.SIPUSH, value);
        }
        return new LdcInsnNode(value);
    }

    /**
     * {@code Coroutine.yield()} needs no call: the frame saves itself and returns with SUSPEND, and
     * its resume block continues right after the (removed) call.
     */
    private LabelNode emitInlineYield(SuspensionPoint point) {
        MethodInsnNode call = point.call();
        LabelNode suspend = new LabelNode();
        LabelNode after = new LabelNode();
        InsnList replacement = new InsnList();
        replacement.add(new JumpInsnNode(Opcodes.GOTO, suspend));
        replacement.add(after);
        method.instructions.insert(call, replacement);
        method.instructions.remove(call);

        Spill spill = spill(point, -1);
        tail.add(suspend);
        markLine(point.line());
        saveAndReturn(point, spill);
        if (!resumable) {
            return null;
        }

        LabelNode resume = new LabelNode();
        tail.add(resume);
        restore(point, spill);
        tail.add(new JumpInsnNode(Opcodes.GOTO, after)); // the prologue already cleared the signal
        return resume;
    }

    /**
     * Why: the blocks added after the method's code would otherwise take the line of the code
     * before them in the class file (the method's last line): a debugger stepping over a call that
     * suspends would stop on a line the program never reached, and a stack trace taken while a
     * frame saves or restores itself would name it. From here on in the tail, the code is
     * {@code line}'s (a suspension point's own line, the first line for the dispatch); nothing if
     * the class has no line numbers.
     */
    private void markLine(int line) {
        if (line > 0) {
            LabelNode label = new LabelNode();
            tail.add(label);
            tail.add(new LineNumberNode(line, label));
        }
    }

    private Spill spill(SuspensionPoint point, int receiverLocal) {
        List<Kind> belowKinds = new ArrayList<>();
        int[] belowLocals = new int[point.stackBelow().size()];
        for (int i = 0; i < point.stackBelow().size(); i++) {
            Kind kind = SlotCodec.kindOf(point.stackBelow().get(i), methodId);
            belowKinds.add(kind);
            belowLocals[i] = scratchLocal("below " + i + " " + kind, SlotCodec.size(kind));
        }
        Kind receiverKind = receiverLocal < 0 ? null : SlotCodec.kindOf(point.receiverType(), methodId);
        return new Spill(belowKinds, belowLocals, receiverLocal, receiverKind);
    }

    /**
     * With the operand stack holding exactly the values below the call: saves the live locals, that
     * stack, the receiver and the state, leaves SUSPEND for the caller, and returns a dummy value.
     */
    private void saveAndReturn(SuspensionPoint point, Spill spill) {
        saveValues(point, spill);
        tail.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        tail.add(new LdcInsnNode(stateBase + point.index()));
        returnSuspended();
    }

    /** With the stack and the state on the operand stack: pushes the state, leaves SUSPEND, returns a dummy. */
    private void returnSuspended() {
        tail.add(SlotCodec.push(Kind.INT));
        storeSignal(tail, RuntimeNames.SUSPEND);
        SlotCodec.returnDummy(tail, Type.getReturnType(method.desc));
    }

    /** With the operand stack holding exactly the values below the call: saves all but the state. */
    private void saveValues(SuspensionPoint point, Spill spill) {
        List<Kind> belowKinds = spill.belowKinds();
        for (int i = belowKinds.size() - 1; i >= 0; i--) {
            Kind kind = belowKinds.get(i);
            tail.add(kind == Kind.NULL ? new InsnNode(Opcodes.POP) : SlotCodec.store(kind, spill.belowLocals()[i]));
        }
        for (SuspensionPoint.Slot slot : point.liveLocals()) {
            Kind kind = SlotCodec.kindOf(slot.value(), methodId);
            if (kind != Kind.NULL) {
                SlotCodec.save(tail, stackLocal, kind, slot.local());
            }
        }
        for (int i = 0; i < belowKinds.size(); i++) {
            if (belowKinds.get(i) != Kind.NULL) {
                SlotCodec.save(tail, stackLocal, belowKinds.get(i), spill.belowLocals()[i]);
            }
        }
        if (spill.receiverKind() != null && spill.receiverKind() != Kind.NULL) {
            SlotCodec.save(tail, stackLocal, Kind.REFERENCE, spill.receiverLocal());
        }
    }

    /**
     * How many slots {@link #saveAndReturn} saves at {@code point}: the same walk, counting.
     *
     * @return primitive slots (the state number included) and reference slots
     */
    static int[] savedSlots(SuspensionPoint point, String methodId) {
        int prims = 1; // the state
        int refs = 0;
        List<Kind> kinds = new ArrayList<>();
        for (BasicValue value : point.stackBelow()) {
            kinds.add(SlotCodec.kindOf(value, methodId));
        }
        for (SuspensionPoint.Slot slot : point.liveLocals()) {
            kinds.add(SlotCodec.kindOf(slot.value(), methodId));
        }
        if (point.linkage() != SuspensionPoint.Linkage.INLINE_YIELD && point.hasReceiver()) {
            kinds.add(SlotCodec.kindOf(point.receiverType(), methodId));
        }
        for (Kind kind : kinds) {
            if (kind == Kind.REFERENCE) {
                refs++;
            } else if (kind != Kind.NULL) {
                prims++;
            }
        }
        return new int[] {prims, refs};
    }

    /** Pops what {@link #saveAndReturn} saved, and pushes the operand stack and receiver back. */
    private void restore(SuspensionPoint point, Spill spill) {
        List<Kind> belowKinds = spill.belowKinds();
        if (spill.receiverKind() != null) {
            SlotCodec.restore(tail, stackLocal, spill.receiverKind(), point.receiverType());
            tail.add(new VarInsnNode(Opcodes.ASTORE, spill.receiverLocal()));
        }
        for (int i = belowKinds.size() - 1; i >= 0; i--) {
            Kind kind = belowKinds.get(i);
            if (kind != Kind.NULL) {
                SlotCodec.restore(tail, stackLocal, kind, point.stackBelow().get(i));
                tail.add(SlotCodec.store(kind, spill.belowLocals()[i]));
            }
        }
        List<SuspensionPoint.Slot> locals = point.liveLocals();
        for (int i = locals.size() - 1; i >= 0; i--) {
            SuspensionPoint.Slot slot = locals.get(i);
            Kind kind = SlotCodec.kindOf(slot.value(), methodId);
            SlotCodec.restore(tail, stackLocal, kind, slot.value());
            tail.add(SlotCodec.store(kind == Kind.NULL ? Kind.REFERENCE : kind, slot.local()));
        }
        for (int i = 0; i < belowKinds.size(); i++) {
            Kind kind = belowKinds.get(i);
            tail.add(kind == Kind.NULL ? new InsnNode(Opcodes.ACONST_NULL) : SlotCodec.load(kind, spill.belowLocals()[i]));
        }
        if (spill.receiverKind() != null) {
            tail.add(new VarInsnNode(Opcodes.ALOAD, spill.receiverLocal()));
        }
    }

    /**
     * The invokedynamic, linked by {@code CoLinker}, that calls the callee's fresh body with the
     * stack, or (to resume it) its body with the stack and a signal.
     */
    private static InvokeDynamicInsnNode directCall(MethodInsnNode call, boolean resume) {
        return linkedCall(call, resume, RuntimeNames.LINK);
    }

    /** An invokedynamic of the call's type with the stack (and signal) added, bootstrapped by {@code CoLinker.bootstrap}. */
    private static InvokeDynamicInsnNode linkedCall(MethodInsnNode call, boolean resume, String bootstrapName) {
        Type[] arguments = Type.getArgumentTypes(call.desc);
        List<Type> parameters = new ArrayList<>();
        if (call.getOpcode() != Opcodes.INVOKESTATIC) {
            parameters.add(Type.getObjectType(call.owner));
        }
        parameters.addAll(List.of(arguments));
        parameters.add(Type.getObjectType(RuntimeNames.STACK));
        if (resume) {
            parameters.add(Type.INT_TYPE);
        }
        String desc = Type.getMethodDescriptor(Type.getReturnType(call.desc), parameters.toArray(new Type[0]));
        Handle bootstrap = new Handle(Opcodes.H_INVOKESTATIC, RuntimeNames.LINKER, bootstrapName,
                RuntimeNames.LINK_DESC, false);
        return new InvokeDynamicInsnNode(call.name, desc, bootstrap, Type.getObjectType(call.owner), call.getOpcode());
    }

    /**
     * With the signal stored: the exact method called (its name and descriptor, an interned string
     * constant) and the receiver, or for a statically bound call the class it names, so that the
     * callee's wrapper can tell this call from one made by a frame that was not rewritten
     * ({@code CoStack.admit}). Two reference stores to the stack, which the signal's store has in
     * cache already.
     */
    private void armTarget(InsnList out, MethodInsnNode call, int receiverLocal) {
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        out.add(new LdcInsnNode(call.name + call.desc));
        out.add(new FieldInsnNode(Opcodes.PUTFIELD, RuntimeNames.STACK, RuntimeNames.CALLEE, RuntimeNames.CALLEE_DESC));
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        if (call.getOpcode() == Opcodes.INVOKESTATIC || call.getOpcode() == Opcodes.INVOKESPECIAL) {
            WrapperSplit.loadClass(out, classVersion, call.owner); // static, super. or private (old class files)
        } else {
            out.add(new VarInsnNode(Opcodes.ALOAD, receiverLocal));
        }
        out.add(new FieldInsnNode(Opcodes.PUTFIELD, RuntimeNames.STACK, RuntimeNames.RECEIVER, RuntimeNames.RECEIVER_DESC));
    }

    private void storeSignal(InsnList out, int value) {
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        out.add(value == 0 ? new InsnNode(Opcodes.ICONST_0) : new LdcInsnNode(value));
        out.add(new FieldInsnNode(Opcodes.PUTFIELD, RuntimeNames.STACK, RuntimeNames.SIGNAL, RuntimeNames.SIGNAL_DESC));
    }

    private void throwError(InsnList out, String factory) {
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        out.add(new LdcInsnNode(methodId));
        out.add(stackCall(factory, RuntimeNames.ERROR_DESC));
        out.add(new InsnNode(Opcodes.ATHROW));
    }

    private static MethodInsnNode stackCall(String name, String desc) {
        return new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RuntimeNames.STACK, name, desc, false);
    }
}

