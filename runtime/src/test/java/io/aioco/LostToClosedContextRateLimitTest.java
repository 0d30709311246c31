package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

/**
 * Review rv17 (issue 17): a context closed with many coroutines still waiting gave one WARNING
 * record per coroutine woken afterwards. The three "lost to a closed context" lines share one count
 * per context: the first 10 are logged, then the 100th, 1000th, ...: 12 of 1,000 (the context here
 * is null, a key no other test uses).
 */
class LostToClosedContextRateLimitTest {
    @Test
    void aThousandLostToAClosedContextGiveTwelveRecords() {
        List<String> records = new CopyOnWriteArrayList<>();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                String m = record.getMessage();
                if (m != null && (m.contains("rv17-flood") || m.startsWith("aioco: wake-up of null"))) {
                    records.add(m);
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.aioco");
        logger.addHandler(handler);
        try {
            for (int i = 0; i < 1000; i++) {
                switch (i % 3) {
                    case 0 -> LoopLog.coroutineLost(null, null, "rv17-flood");
                    case 1 -> LoopLog.coroutineLost(null, null, "rv17-flood", "CoQueue.next()");
                    default -> LoopLog.wakeLost(null, null);
                }
            }
        } finally {
            logger.removeHandler(handler);
        }
        assertEquals(12, records.size(), records.size() + " records: " + records);
        assertTrue(records.get(11).contains("the 899 since report 100 were not logged"), records.get(11));
    }
}
