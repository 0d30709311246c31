package io.aioco.instrumenter.analysis;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.InsnList;

/**
 * Why: a coroutine must not suspend while it holds a monitor (the monitor would stay locked while
 * the thread runs other code, and be released by whichever thread resumes the coroutine, which the
 * JVM forbids). Computes, by forward data flow, how many monitors may be held before each
 * instruction.
 */
public final class MonitorRegions {
    private static final int CAP = 64;

    private MonitorRegions() {}

    /**
     * @param successors all successors of each instruction
     * @param normalSuccessors successors through normal flow (the rest are exception edges)
     * @return for each instruction, the most monitors that may be held before it (-1: unreachable)
     */
    public static int[] heldBefore(InsnList instructions, List<List<Integer>> successors,
            List<List<Integer>> normalSuccessors) {
        int size = instructions.size();
        int[] held = new int[size];
        Arrays.fill(held, -1);
        if (size == 0) {
            return held;
        }
        ArrayDeque<Integer> work = new ArrayDeque<>();
        held[0] = 0;
        work.add(0);
        while (!work.isEmpty()) {
            int i = work.poll();
            int opcode = instructions.get(i).getOpcode();
            int after = held[i];
            if (opcode == Opcodes.MONITORENTER) {
                after = Math.min(CAP, after + 1);
            } else if (opcode == Opcodes.MONITOREXIT) {
                after = Math.max(0, after - 1);
            }
            List<Integer> normal = normalSuccessors.get(i);
            for (int successor : successors.get(i)) {
                // an exception edge leaves with the count held before the instruction
                int value = normal.contains(successor) ? after : held[i];
                if (value > held[successor]) {
                    held[successor] = value;
                    work.add(successor);
                }
            }
        }
        return held;
    }
}
