package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.CoQueue;
import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv17 (issue 17): 10,000 coroutines waiting on one dropped CoQueue (a dropped connection
 * table) were 10,000 WARNING records of several lines each from the Cleaner's thread. They are
 * rate-limited per suspended stack (the first 10 logged, then the 100th, 1000th, ...: 13 records),
 * each record complete with its stack, and one after a gap counting the ones left out. The wait is on the records'
 * own counts (records + left out reach 10,000), bounded by collections and the timeout.
 */
@Timeout(120)
class LostCoroutineFloodTest {
    private static final Pattern LEFT_OUT = Pattern.compile("the (\\d+) since report \\d+ were not logged");

    @CoroutineFn
    private static void waitOnQueue(CoQueue queue) {
        queue.await(null);
    }

    @Test
    void tenThousandLostAtOnceGiveAFewCompleteRecordsWithCounts() throws InterruptedException {
        List<String> records = new CopyOnWriteArrayList<>();
        java.util.concurrent.Semaphore reported = new java.util.concurrent.Semaphore(0);
        AtomicLong accounted = new AtomicLong();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                String m = record.getMessage();
                if (m != null && m.contains(" lost while suspended at:") && m.contains("\"flood-")) {
                    records.add(m);
                    reported.release();
                    Matcher left = LEFT_OUT.matcher(m);
                    accounted.addAndGet(1 + (left.find() ? Long.parseLong(left.group(1)) : 0));
                }
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        java.util.logging.Logger logger = java.util.logging.Logger.getLogger("io.aioco");
        logger.addHandler(handler);
        try (AioContext ctx = AioContext.create()) {
            dropQueueWithWaiters(ctx, 10_000);
            for (int i = 0; i < 10_000 && accounted.get() < 10_000; i++) {
                System.gc();
                reported.tryAcquire(20, java.util.concurrent.TimeUnit.MILLISECONDS); // NOTE: a record (a signal), or the next collection
            }
        } finally {
            logger.removeHandler(handler);
        }
        assertTrue(accounted.get() == 10_000, "the records account for " + accounted.get() + " lost coroutines");
        assertEquals(13, records.size(), records.size() + " records for 10,000 coroutines of one dropped queue");
        assertTrue(records.get(0).contains("\n\tat "), "a record logged is complete with its stack: " + records.get(0));
        assertTrue(records.get(records.size() - 1).contains("were not logged"), records.get(records.size() - 1));
    }

    private static void dropQueueWithWaiters(AioContext ctx, int n) {
        CoQueue queue = new CoQueue();
        for (int i = 0; i < n; i++) {
            Coroutine.create("flood-" + i, () -> waitOnQueue(queue)).enter(ctx);
        }
    }
}
