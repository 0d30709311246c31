package io.aioco;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import jdk.jfr.EventType;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review rv17 (issue 17, item 6): an aioco event enabled on a recording that is already running
 * ({@code Recording.enable} after {@code start()}, which is what JMC's "change settings" and a
 * long-running continuous recording reconfigured at run time do) is recorded: JFR calls no listener
 * for it, so the stall watcher's thread refreshes the hot paths' flags about once a second. The
 * test waits for that refresh (the flag, a signal; bounded by the timeout), then dispatches.
 */
@Timeout(60)
class JfrEnabledOnRunningRecordingTest {
    @TempDir
    Path dir;

    @Test
    void longCallbackEnabledOnARunningRecordingIsRecorded() throws Exception {
        AioContext.create().close();
        LoopObserve.awaitJfrListener();
        Path file = dir.resolve("late.jfr");
        try (AioContext ctx = AioContext.create(); Recording r = new Recording()) {
            LoopObserve.awaitJfrListener();
            r.enable("jdk.ThreadSleep");
            r.start();
            r.enable("aioco.LongCallback").withThreshold(Duration.ZERO); // enabled while it runs
            EventType type = FlightRecorder.getFlightRecorder().getEventTypes().stream()
                    .filter(t -> t.getName().equals("aioco.LongCallback")).findFirst().orElseThrow();
            assertTrue(type.isEnabled(), "JFR itself has the event on now");
            while (!io.aioco.internal.observe.JfrOn.callbacks()) {
                if (Thread.interrupted()) { // NOTE: the @Timeout's interrupt
                    throw new InterruptedException("aioco.LongCallback never seen enabled by the runtime");
                }
                Thread.onSpinWait(); // NOTE: the watcher thread's next refresh (about 1 s); a signal, not a time
            }
            for (int i = 0; i < 10; i++) {
                ctx.newBottomHalf(() -> { }).schedule();
                ctx.poll(false);
            }
            r.stop();
            r.dump(file);
        }
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        long n = events.stream().filter(e -> e.getEventType().getName().equals("aioco.LongCallback")).count();
        assertTrue(n >= 10, "expected 10 aioco.LongCallback events (threshold 0), got " + n);
    }
}
