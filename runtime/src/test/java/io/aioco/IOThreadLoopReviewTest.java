package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv14b of bh18 (an IOThread's loop does the outermost poll's bookkeeping once:
 * enterLoop / loopPoll): what a loop did at each poll must still hold between and inside its
 * callbacks, through Errors, nested polls of its own context and of another that polls it back.
 */
@Timeout(60)
class IOThreadLoopReviewTest {
    static final class Boom extends Error {
        Boom(String m) {
            super(m, null, false, false);
        }
    }

    @Test
    void errorsAndNestedPollsAreReportedAsInALoopAndTheStateIsTheLoopsAfterThem() throws Exception {
        List<Throwable> reported = new CopyOnWriteArrayList<>();
        AioContext other = AioContext.create();
        Object[] seen;
        try (IOThread io = IOThread.start("loop-review-1")) {
            AioContext ctx = io.context();
            io.thread().setUncaughtExceptionHandler((t, e) -> reported.add(e));
            CompletableFuture<Object[]> done = new CompletableFuture<>();
            // 1: an Error from a callback of the loop itself
            ctx.scheduleOneshot(() -> {
                throw new Boom("outer");
            });
            // 2: a nested poll of its own context whose callback throws (reported, not thrown here),
            // 3: a nested poll of another context whose callback polls the loop's context back and throws
            ctx.scheduleOneshot(() -> {
                ctx.scheduleOneshot(() -> {
                    throw new Boom("nested own");
                });
                ctx.poll(false); // must not throw: a loop's nested poll reports
                int depthAfterOwn = ctx.probe.depth;
                other.scheduleOneshot(() -> {
                    ctx.scheduleOneshot(() -> {
                        throw new Boom("nested back");
                    });
                    ctx.poll(false);
                });
                other.poll(false);
                int depthAfterOther = ctx.probe.depth;
                // 4: the loop goes on; what its later callbacks see
                ctx.scheduleOneshot(() -> done.complete(new Object[] {depthAfterOwn, depthAfterOther,
                        ctx.probe.depth, AioContext.current(), ctx.probe.what != null}));
            });
            seen = done.get(30, TimeUnit.SECONDS);
            assertSame(ctx, seen[3], "AioContext.current() in a later callback");
        } finally {
            other.close();
        }
        assertEquals(List.of(0, 0, 0, true), List.of(seen[0], seen[1], seen[2], seen[4]),
                "the loop's probe depth after nested polls, in a later callback; the probe names that callback");
        assertEquals(List.of("outer", "nested own", "nested back"), reported.stream().map(Throwable::getMessage).toList());
    }
}
