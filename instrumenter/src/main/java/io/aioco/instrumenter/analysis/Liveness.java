package io.aioco.instrumenter.analysis;

import java.util.ArrayDeque;
import java.util.BitSet;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.IincInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.VarInsnNode;

/**
 * Why: a suspended frame must save only the locals that will be read again, so that a suspended
 * coroutine keeps nothing dead reachable and saving costs as little as possible. Classic backward
 * data flow over the analyzer's control-flow graph (exception edges included, so a local read in a
 * handler is live throughout its try block).
 */
public final class Liveness {
    private Liveness() {}

    /**
     * @return for each instruction, the locals (by slot) live just before it
     */
    public static BitSet[] liveBefore(InsnList instructions, List<List<Integer>> successors) {
        int size = instructions.size();
        BitSet[] liveIn = new BitSet[size];
        BitSet[] uses = new BitSet[size];
        int[] defs = new int[size];
        for (int i = 0; i < size; i++) {
            liveIn[i] = new BitSet();
            uses[i] = new BitSet();
            defs[i] = -1;
            AbstractInsnNode insn = instructions.get(i);
            if (insn instanceof VarInsnNode var) {
                int opcode = var.getOpcode();
                if (opcode >= Opcodes.ISTORE && opcode <= Opcodes.ASTORE) {
                    defs[i] = var.var;
                } else {
                    uses[i].set(var.var); // loads, and RET
                }
            } else if (insn instanceof IincInsnNode iinc) {
                uses[i].set(iinc.var);
            }
        }
        // predecessors, for the worklist
        @SuppressWarnings("unchecked")
        List<Integer>[] predecessors = new List[size];
        for (int i = 0; i < size; i++) {
            predecessors[i] = new java.util.ArrayList<>(2);
        }
        for (int i = 0; i < size; i++) {
            for (int successor : successors.get(i)) {
                predecessors[successor].add(i);
            }
        }
        ArrayDeque<Integer> work = new ArrayDeque<>();
        boolean[] queued = new boolean[size];
        for (int i = size - 1; i >= 0; i--) {
            work.add(i);
            queued[i] = true;
        }
        BitSet scratch = new BitSet();
        while (!work.isEmpty()) {
            int i = work.poll();
            queued[i] = false;
            scratch.clear();
            for (int successor : successors.get(i)) {
                scratch.or(liveIn[successor]);
            }
            if (defs[i] >= 0) {
                scratch.clear(defs[i]);
            }
            scratch.or(uses[i]);
            if (!scratch.equals(liveIn[i])) {
                liveIn[i] = (BitSet) scratch.clone();
                for (int predecessor : predecessors[i]) {
                    if (!queued[predecessor]) {
                        queued[predecessor] = true;
                        work.add(predecessor);
                    }
                }
            }
        }
        return liveIn;
    }
}
