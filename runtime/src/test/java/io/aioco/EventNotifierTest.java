package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** QEMU's tests/unit/test-aio.c event-notifier cases: set, wait, flush, level triggering. */
@Timeout(60)
class EventNotifierTest {
    private final AioContext ctx = AioContext.create();
    private final EventNotifier notifier = new EventNotifier();

    @AfterEach
    void close() {
        notifier.close();
        ctx.close();
    }

    @Test
    void testAndClearReportsAndLowersTheFlag() {
        assertFalse(notifier.testAndClear());
        notifier.set();
        notifier.set();
        assertTrue(notifier.testAndClear());
        assertFalse(notifier.testAndClear());
    }

    @Test
    void handlerRunsOnlyWhileTheNotifierIsSet() {
        // test_set_event_notifier + test_wait_event_notifier
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> {
            runs.incrementAndGet();
            n.testAndClear();
        });
        assertFalse(ctx.poll(false));
        assertEquals(0, runs.get());
        notifier.set();
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
        ctx.setEventNotifier(notifier, null);
        notifier.set();
        assertFalse(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void handlerInstalledWhileTheNotifierIsSetRuns() {
        notifier.set();
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> {
            runs.incrementAndGet();
            n.testAndClear();
        });
        assertTrue(ctx.poll(false));
        assertEquals(1, runs.get());
    }

    @Test
    void handlerThatDoesNotClearRunsAgainAtEachPoll() {
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> runs.incrementAndGet());
        notifier.set();
        for (int i = 1; i <= 3; i++) {
            assertTrue(ctx.poll(true), "still set: the poll does not block");
            assertEquals(i, runs.get());
        }
        notifier.testAndClear();
        assertFalse(ctx.poll(false));
        assertEquals(3, runs.get());
    }

    @Test
    void notifierSetAgainFromItsHandlerIsFlushedUntilInactive() {
        // test_flush_event_notifier: the handler re-sets the notifier a number of times.
        AtomicInteger active = new AtomicInteger(10);
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> {
            runs.incrementAndGet();
            n.testAndClear();
            if (active.decrementAndGet() > 0) {
                n.set();
            }
        });
        notifier.set();
        while (active.get() > 0) {
            assertTrue(ctx.poll(true));
        }
        assertEquals(10, runs.get());
        assertFalse(ctx.poll(false));
    }

    @Test
    void setFromAnotherThreadWakesTheBlockedLoop() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> {
            if (n.testAndClear()) {
                runs.incrementAndGet();
            }
        });
        Thread poller = Thread.currentThread();
        Thread setter = new Thread(() -> {
            LoopTesting.awaitParked(poller);
            notifier.set();
        });
        setter.start();
        while (runs.get() == 0) {
            ctx.poll(true);
        }
        setter.join();
        assertEquals(1, runs.get());
    }

    @Test
    void settingOrTestingAClosedNotifierFailsNamingIt() {
        notifier.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, notifier::set);
        assertTrue(e.getMessage().contains("EventNotifier@"), e.getMessage());
        assertThrows(IllegalStateException.class, notifier::testAndClear);
        assertThrows(IllegalStateException.class, () -> ctx.setEventNotifier(notifier, n -> {}));
        notifier.close(); // idempotent
    }

    @Test
    void closingANotifierRemovesItsHandler() {
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> runs.incrementAndGet());
        notifier.set();
        notifier.close();
        assertFalse(ctx.poll(false));
        assertEquals(0, runs.get());
    }

    @Test
    void notifierWithAHandlerInAnotherContextIsRejected() {
        try (AioContext other = AioContext.create()) {
            ctx.setEventNotifier(notifier, n -> {});
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> other.setEventNotifier(notifier, n -> {}));
            assertTrue(e.getMessage().contains(ctx.toString()) && e.getMessage().contains(other.toString()),
                    e.getMessage());
            other.setEventNotifier(notifier, null); // not registered there: nothing to do
            ctx.setEventNotifier(notifier, null);
            other.setEventNotifier(notifier, n -> {});
            other.setEventNotifier(notifier, null);
        }
    }

    @Test
    void exceptionFromHandlerPropagatesAndTheHandlerRunsAgainWhileSet() {
        AtomicInteger runs = new AtomicInteger();
        ctx.setEventNotifier(notifier, n -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalStateException("first run fails");
            }
            n.testAndClear();
        });
        notifier.set();
        assertThrows(IllegalStateException.class, () -> ctx.poll(false));
        assertTrue(ctx.poll(true));
        assertEquals(2, runs.get());
        assertFalse(ctx.poll(false));
    }
}
