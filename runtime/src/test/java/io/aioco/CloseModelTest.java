package io.aioco;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * Model checking (Lincheck) of {@link AioContext#close()} from several threads at once: it is
 * documented idempotent, so every interleaving of two closes must let both return normally, as two
 * closes in a row do. Issue 14 item 8: the old close threw IllegalStateException in the second
 * closer when it found the claim held by the first, not yet done (taken for a poller); the model
 * checker finds that interleaving at once, where a stress test of hundreds of rounds did not.
 */
public class CloseModelTest {
    private final AioContext ctx = AioContext.create();

    @Operation
    public boolean close() {
        ctx.close();
        return ctx.isClosed();
    }

    @Test
    void concurrentClosesAreIdempotent() {
        new ModelCheckingOptions()
                .iterations(1) // one operation kind: every scenario is close || close
                .threads(2)
                .actorsPerThread(1)
                .actorsBefore(0)
                .actorsAfter(0)
                .invocationsPerIteration(100)
                .check(getClass());
    }
}
