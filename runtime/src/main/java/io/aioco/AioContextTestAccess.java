package io.aioco;

import io.aioco.internal.TestAccess;
import io.aioco.internal.loop.FdTable;
import io.aioco.internal.loop.TestTime;
import java.util.ArrayList;
import java.util.List;

/**
 * The test kit's way into {@link AioContext} (see {@link TestAccess}): no QEMU counterpart.
 * Registered by AioContext's class initializer. Threads: as {@link TestAccess} says ({@link
 * #create} from any thread, the rest from the context's loop thread between polls, except {@link
 * #untilNextDeadlineNs} and {@link #threadPoolBusy}, which any thread may call).
 */
final class AioContextTestAccess extends TestAccess<AioContext, Coroutine> {
    private AioContextTestAccess() {}

    /** Called once, from AioContext's class initializer. */
    static void install() {
        register(new AioContextTestAccess());
    }

    @Override
    public AioContext create(String name, TestTime time) {
        return new AioContext(name, time);
    }

    @Override
    public long untilNextDeadlineNs(AioContext ctx) {
        return ctx.timers.untilNextDeadlineNs();
    }

    @Override
    public boolean threadPoolBusy(AioContext ctx) {
        ThreadPool pool = ctx.threadPool;
        return pool != null && pool.busy();
    }

    @Override
    public boolean awaitsInFlight(AioContext ctx) {
        return ctx.foreignWaits.get() != 0;
    }

    @Override
    public boolean hasFdHandlers(AioContext ctx) {
        FdTable table = ctx.fds();
        return table != null && table.size() > 0;
    }

    @Override
    public boolean isSuspended(Coroutine co) {
        return co.isSuspended();
    }

    @Override
    public void dump(Coroutine co, Appendable out) throws java.io.IOException {
        CoroutineDump.writeOne(out, co);
    }

    @Override
    public String describeWait(Coroutine co) {
        CoWait wait = co.currentWait();
        return wait == null ? null : wait.describe();
    }

    @Override
    public List<String> pending(AioContext ctx) {
        List<String> out = new ArrayList<>();
        for (BottomHalf bh : ctx.bhq.scheduled()) {
            out.add("bottom half scheduled: " + bh);
        }
        String[] names = new String[ClockType.values().length];
        for (ClockType c : ClockType.values()) {
            names[c.ordinal()] = c.name();
        }
        out.addAll(ctx.timers.describeArmed(names));
        FdTable table = ctx.fds();
        if (table != null) {
            out.addAll(table.describeHandlers());
        }
        return out;
    }
}
