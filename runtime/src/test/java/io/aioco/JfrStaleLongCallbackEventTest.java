package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.internal.observe.JfrOn;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review rv12b, finding (8b5cd0d, poll18: the guard reads JFR's flag at each dispatch): a
 * callback whose {@code aioco.LongCallback} event was begun while the flag was on, and that ends
 * after it turned off, leaves its event in {@code LoopProbe.event} ("dropped"). The next dispatch of
 * the same poll begins no event (the flag is off), and when the flag is on again by its end,
 * {@code Guard.ran()} finds the stale event and commits it in that callback's name, with the first
 * callback's start: an event for a callback that began with no recording asking for it, whose
 * duration covers the callback before it. Realistic: one recording stops during a callback and
 * another starts during the next (JFR's listener flips the flag synchronously on the thread that
 * starts or stops a recording). Deterministic: the recordings are stopped and started from the
 * callbacks themselves; no times are asserted.
 */
@Timeout(60)
class JfrStaleLongCallbackEventTest {
    @TempDir
    Path dir;

    private static Runnable named(String name, Runnable body) {
        return new Runnable() {
            @Override
            public void run() {
                body.run();
            }

            @Override
            public String toString() {
                return name;
            }
        };
    }

    @Test
    void aCallbackBegunWithTheFlagOffCommitsNoEventOfAnEarlierCallback() throws Exception {
        Path file = dir.resolve("second.jfr");
        try (AioContext ctx = AioContext.create()) {
            LoopObserve.awaitJfrListener();
            Recording first = new Recording();
            first.enable("aioco.LongCallback").withThreshold(Duration.ZERO);
            first.start();
            assertTrue(JfrOn.callbacks(), "the first recording turned the flag on");
            Recording second = new Recording();
            second.enable("aioco.LongCallback").withThreshold(Duration.ZERO);
            boolean[] flags = new boolean[2];
            ctx.newBottomHalf(named("rv12b-first", () -> {
                first.stop(); // the recording that asked for this callback's event ends during it
                flags[0] = JfrOn.callbacks();
            })).schedule();
            ctx.newBottomHalf(named("rv12b-second", () -> {
                second.start(); // a new recording starts during the next callback (begun with the flag off)
                flags[1] = JfrOn.callbacks();
            })).schedule();
            ctx.poll(false);
            first.close();
            second.stop();
            second.dump(file);
            second.close();
            assertFalse(flags[0], "the first recording's stop turned the flag off during rv12b-first");
            assertTrue(flags[1], "the second recording's start turned it on during rv12b-second");
        }
        List<String> names = new ArrayList<>();
        for (RecordedEvent e : RecordingFile.readAllEvents(file)) {
            if (e.getEventType().getName().equals("aioco.LongCallback")) {
                names.add(e.getString("callback") + " (" + e.getDuration() + ")");
            }
        }
        assertEquals(List.of(), names, "rv12b-second began with the flag off, so no event of it can be"
                + " recorded; one named rv12b-second is rv12b-first's event, begun before rv12b-first ran,"
                + " committed by rv12b-second's end");
    }
}
