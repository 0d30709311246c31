package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A blocking poll that has a bottom half to run does not wait (QEMU's aio_poll raises notify_me
 * only when its timeout is not 0): it looks at its channels with a zero timeout, as a non-blocking
 * poll does. These tests pin what that shortcut must keep: a bottom half that schedules itself
 * again from its callback at every poll does not starve a readable channel's handler nor a timer
 * that is due (each runs in the same poll as the bottom half), the bottom half runs once per poll
 * (the next poll, not the same one: aio_bh_poll), and a notifyEvent() is accepted by such a poll as
 * by a wait's end, while one made during its callbacks still ends the next blocking poll.
 */
@Timeout(60)
class PollFairnessTest {
    private final AioContext ctx = AioContext.create();
    private Pipe pipe;

    @AfterEach
    void close() throws IOException {
        ctx.close();
        if (pipe != null) {
            pipe.source().close();
            pipe.sink().close();
        }
    }

    private static void write(Pipe.SinkChannel sink) {
        try {
            assertEquals(1, sink.write(ByteBuffer.wrap(new byte[] {42})));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int drain(Pipe.SourceChannel source) {
        try {
            return source.read(ByteBuffer.allocate(64));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A bottom half of {@code c} that schedules itself again from its callback, counting its runs. */
    private static BottomHalf selfRescheduling(AioContext c, int[] runs) {
        BottomHalf[] self = new BottomHalf[1];
        self[0] = c.newBottomHalf(() -> {
            runs[0]++;
            self[0].schedule();
        });
        return self[0];
    }

    @Test
    void aReadableChannelsHandlerRunsInEveryPollOfASelfReschedulingBottomHalf() throws IOException {
        pipe = Pipe.open();
        int[] reads = new int[1];
        ctx.setFdHandler(pipe.source(), () -> {
            reads[0]++;
            drain(pipe.source());
        }, null);
        int[] runs = new int[1];
        selfRescheduling(ctx, runs).schedule();
        for (int round = 1; round <= 5; round++) {
            write(pipe.sink());
            assertTrue(ctx.poll(true));
            assertEquals(round, runs[0], "the bottom half runs once per poll (in the next one, not again in the same)");
            assertEquals(round, reads[0], "the readable channel's handler ran in the same poll as the bottom half");
        }
        // Nothing written: the handler does not run, the bottom half goes on.
        assertTrue(ctx.poll(true));
        assertEquals(6, runs[0]);
        assertEquals(5, reads[0]);
    }

    @Test
    void aDueTimerRunsInThePollOfASelfReschedulingBottomHalf() {
        int[] fired = new int[1];
        Timer timer = ctx.newTimer(ClockType.REALTIME, () -> fired[0]++);
        int[] runs = new int[1];
        selfRescheduling(ctx, runs).schedule();
        for (int round = 1; round <= 5; round++) {
            timer.modNs(ClockType.REALTIME.nowNs()); // due now: the poll reads the clock after this
            assertTrue(ctx.poll(true));
            assertEquals(round, runs[0]);
            assertEquals(round, fired[0], "the due timer ran in the same poll as the bottom half");
        }
    }

    /** The same on an IOThread (its loop holds the claim and polls as a loop of aioco's). */
    @Test
    void onAnIOThreadTheChannelAndTheTimerGetTheirTurnBetweenTwoRunsOfTheBottomHalf() throws Exception {
        pipe = Pipe.open();
        try (IOThread io = IOThread.start("poll-fairness")) {
            AioContext c = io.context();
            CompletableFuture<String> result = new CompletableFuture<>();
            boolean[] handlerRan = new boolean[1];
            boolean[] timerRan = new boolean[1];
            int[] runs = new int[1];
            BottomHalf[] self = new BottomHalf[1];
            self[0] = c.newBottomHalf(() -> {
                runs[0]++;
                if (handlerRan[0] && timerRan[0]) {
                    c.setFdHandler(pipe.source(), null, null);
                    result.complete("after " + runs[0] + " runs");
                } else if (runs[0] == 1000) {
                    result.complete("starved: handler " + handlerRan[0] + ", timer " + timerRan[0]);
                } else {
                    self[0].schedule();
                }
            });
            c.scheduleOneshot(() -> {
                // On the loop thread: all three are ready for the next poll.
                c.setFdHandler(pipe.source(), () -> {
                    handlerRan[0] = true;
                    drain(pipe.source());
                }, null);
                write(pipe.sink());
                c.newTimer(ClockType.REALTIME, () -> timerRan[0] = true).modNs(ClockType.REALTIME.nowNs());
                self[0].schedule();
            });
            // The next poll runs the bottom half (1st run), then the handler and the timer; the run
            // after sees both.
            assertEquals("after 2 runs", result.get(30, TimeUnit.SECONDS));
        }
    }

    @Test
    void aBlockingPollThatDoesNotWaitAcceptsAPendingNotification() {
        int[] runs = new int[1];
        selfRescheduling(ctx, runs).schedule();
        ctx.notifyEvent();
        assertTrue(ctx.notificationPending());
        assertTrue(ctx.poll(true));
        assertEquals(1, runs[0]);
        assertFalse(ctx.notificationPending(), "accepted by the poll, which served it by not blocking");
    }

    @Test
    void aNotificationMadeByACallbackOfAPollThatDoesNotWaitEndsTheNextBlockingPoll() {
        int[] runs = new int[1];
        BottomHalf notifier = ctx.newBottomHalf(() -> {
            runs[0]++;
            ctx.notifyEvent(); // after this poll accepted the notifications made before it
        });
        notifier.schedule();
        assertTrue(ctx.poll(true));
        assertEquals(1, runs[0]);
        // Nothing to run: the notification made above ends this wait (it would block for ever
        // had the poll above accepted it after its callbacks).
        assertFalse(ctx.poll(true));
        assertFalse(ctx.notificationPending());
    }
}
