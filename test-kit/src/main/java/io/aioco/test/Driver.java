package io.aioco.test;

import io.aioco.AioContext;
import io.aioco.Coroutine;
import io.aioco.internal.kit.MethodEntry;
import io.aioco.internal.TestAccess;
import io.aioco.internal.loop.TestTime;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives one test: a fresh context (with its own {@link TestTime} unless in real time), the test's
 * coroutine entered in it, and the context polled on the calling thread until the coroutine is
 * done, moving the virtual time to the next deadline whenever nothing else can happen. Then the
 * leak check. Called on the test's thread only.
 */
final class Driver {
    private static final TestAccess<AioContext, Coroutine> ACCESS = TestAccess.get();

    private Driver() {}

    static void run(String name, boolean realTime, MethodEntry entry) throws Exception {
        TestTime time = realTime ? null : new TestTime();
        // NOTE: in real time no time notes the coroutines the test creates: a record bound to this
        // thread does, for the same leak and deadlock reports
        TestTime.Created created = time != null ? null : new TestTime.Created();
        TestTime.Created outer = created == null ? null : TestTime.record(created);
        AioContext ctx = ACCESS.create("CoroutineTest[" + name + "]", time);
        Throwable failure = null;
        List<String> leaks = List.of();
        try {
            Coroutine co = Coroutine.create(entry);
            TestTime.Created record = created != null ? created : time.record();
            try {
                ctx.coEnter(co);
                drive(name, ctx, time, record, entry, co);
                failure = entry.failure();
                settle(ctx);
                leaks = leaked(ctx, record, co);
            } finally {
                ctx.close();
            }
        } finally {
            if (created != null) {
                TestTime.endRecord(outer);
            }
        }
        if (!leaks.isEmpty()) {
            AssertionError leak = new AssertionError(name + " returned with work left on its context "
                    + ctx + ":\n  - " + String.join("\n  - ", leaks));
            if (failure == null) {
                throw leak;
            }
            failure.addSuppressed(leak);
        }
        if (failure instanceof Exception e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new AssertionError(failure);
        }
    }

    /** Polls until the test coroutine is done; moves the time or fails on a deadlock. */
    private static void drive(String name, AioContext ctx, TestTime time, TestTime.Created record, MethodEntry entry,
            Coroutine co) {
        while (!entry.isDone()) {
            if (ctx.poll(false)) {
                continue;
            }
            if (ACCESS.threadPoolBusy(ctx)) {
                ctx.poll(true); // the work's completion (or the pool's last worker) wakes it
                continue;
            }
            // NOTE: work in flight schedules its completion before its count drops: what came back
            // between the poll above and the count read as 0 is run now, before the time moves
            if (ctx.poll(false)) {
                continue;
            }
            long untilDeadline = ACCESS.untilNextDeadlineNs(ctx);
            if (untilDeadline >= 0) {
                if (time != null) {
                    // NOTE: nothing is ready and nothing in flight can make anything ready on this
                    // context, except what a timer does: qtest's clock_step to the next deadline
                    time.advanceNs(untilDeadline);
                } else {
                    ctx.poll(true); // real time: wait for the deadline
                }
                continue;
            }
            if (ACCESS.hasFdHandlers(ctx) || ACCESS.awaitsInFlight(ctx)) {
                ctx.poll(true); // a peer may make a channel ready, another thread complete a future
                continue;
            }
            throw new AssertionError(deadlock(name, ctx, record, co));
        }
    }

    /** Runs what is ready now without moving the time: what the body's last acts scheduled. */
    private static void settle(AioContext ctx) {
        for (int i = 0; i < 1000 && ctx.poll(false); i++) {
            // NOTE: bounded: a bottom half that reschedules itself forever is reported as a leak
        }
    }

    private static String deadlock(String name, AioContext ctx, TestTime.Created record, Coroutine co) {
        StringBuilder sb = new StringBuilder(name).append(" deadlocked: its coroutine ").append(co)
                .append(" is suspended");
        String wait = ACCESS.describeWait(co);
        if (wait != null) {
            sb.append(" waiting for ").append(wait);
        }
        sb.append(", and nothing on ").append(ctx)
                .append(" can wake it (no bottom half, timer, fd handler or thread-pool work)");
        sb.append("\n  - the test's coroutine: ").append(CoroutineDump.dumped(co));
        for (String line : CoroutineDump.describe(record, co)) {
            sb.append("\n  - ").append(line);
        }
        return sb.toString();
    }

    private static List<String> leaked(AioContext ctx, TestTime.Created record, Coroutine co) {
        List<String> out = new ArrayList<>(ACCESS.pending(ctx));
        out.addAll(CoroutineDump.describe(record, co));
        return out;
    }
}
