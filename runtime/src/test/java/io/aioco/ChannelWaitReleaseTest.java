package io.aioco;

import static io.aioco.HandWoven.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.ByteBuffer;
import java.nio.channels.Pipe;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 21 review, finding 1, on a real loop: an IOThread whose coroutine waited once for a pipe's
 * sink (the wait is over, nobody waits any more) blocks in select; the sink is then closed by
 * another thread. NIO closes a registered channel's fd only when the selector deregisters its key,
 * so the loop must have let go of the registration before it blocked: the source then reads the
 * end of the stream at once. No sleep: the test waits for the coroutine's end, then for the loop
 * thread to be blocked in its selector (the poll after the wake-up has started, and released).
 *
 * <p>Mutation caught: no {@code channelWaiters.releaseIdle()} in AioContext.pollOnce (the source
 * reads 0: the sink's fd is held by the kept key while the loop blocks).
 */
@Timeout(60)
class ChannelWaitReleaseTest {
    @Test
    void aSinkClosedWhileItsIOThreadBlocksEndsTheStream() throws Exception {
        Pipe pipe = Pipe.open();
        pipe.source().configureBlocking(false);
        pipe.sink().configureBlocking(false);
        try (IOThread io = IOThread.start("chanwait-release")) {
            HandWoven writer = new HandWoven(call(ChannelWaitRegistrationTest.WRITABLE, ChannelWaitRegistrationTest.DESC,
                    Coroutine.class, () -> Coroutine.yieldUntilWritable(pipe.sink())));
            Coroutine.create(writer).enter(io.context()); // published on this thread, woken on the loop's
            while (!writer.finished()) {
                Thread.onSpinWait();
            }
            LoopTesting.awaitBlocked(io.thread());
            pipe.sink().close();
            assertFalse(pipe.sink().isRegistered(), "the loop blocks with the closed sink still registered");
            assertEquals(-1, pipe.source().read(ByteBuffer.allocate(4)), "the sink's fd is still open");
        } finally {
            pipe.source().close();
            pipe.sink().close();
        }
    }
}
