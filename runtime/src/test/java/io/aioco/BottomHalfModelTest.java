package io.aioco;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of a bottom half's schedule, cancel and delete from other threads
 * against the loop polling (without blocking) on its own thread: every interleaving must give
 * results some order of the same calls made one at a time gives (linearizability). What it
 * catches: a schedule lost or doubled by a racing cancel or dispatch, a run after delete, a cancel
 * that undoes a later schedule. {@link HandshakeModelTest} covers the blocking side (wake-ups).
 */
public class BottomHalfModelTest {
    private final AioContext ctx = AioContext.create();
    private int runs; // loop thread only
    private final BottomHalf bh = ctx.newBottomHalf(() -> runs++);
    private final BottomHalf other = ctx.newBottomHalf(() -> runs += 100);

    @Operation
    public void schedule() {
        bh.schedule();
    }

    @Operation
    public void scheduleOther() {
        other.schedule();
    }

    @Operation
    public void cancel() {
        bh.cancel();
    }

    @Operation
    public void delete() {
        bh.delete();
    }

    /** The loop: one poll that does not block; how many runs it made (the other bottom half's count 100). */
    @Operation(nonParallelGroup = "loop")
    public int poll() {
        int before = runs;
        ctx.poll(false);
        return runs - before;
    }

    @Test
    void scheduleCancelAndDeleteFromOtherThreadsAreLinearizableAgainstThePoll() {
        new ModelCheckingOptions()
                .iterations(Integer.getInteger("aioco.lincheck.iterations", 10))
                .invocationsPerIteration(200)
                .threads(3)
                .actorsPerThread(2)
                .actorsBefore(1)
                .actorsAfter(2)
                .check(getClass());
    }
}
