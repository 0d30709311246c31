package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The MBean's {@code dump()} (review rv17b #4) returns one String built whole in the target: its
 * listing stops after {@link CoroutinesMBean#limit} coroutines (lowered here to 3) and counts the
 * others on one line, so that 100k coroutines cannot exhaust the target's heap.
 */
class CoroutinesMBeanBoundTest {
    @Test
    void theMBeansDumpListsTheFirstCoroutinesAndCountsTheRest() throws Exception {
        AioContext ctx = AioContext.create("mbean-bound");
        List<Coroutine> scheduled = new ArrayList<>();
        int before = CoroutinesMBean.limit;
        try {
            for (int i = 0; i < 7; i++) {
                Coroutine co = Coroutine.create("mbean-bound-" + i, () -> { });
                ctx.coSchedule(co); // scheduled, not entered: listed even without probes
                scheduled.add(co);
            }
            CoroutinesMBean.limit = 3;
            String dump = (String) new CoroutinesMBeanAccess().dump();
            Matcher total = Pattern.compile("\nCoroutines: ([0-9]+)\n").matcher(dump);
            assertTrue(total.find(), dump);
            int count = Integer.parseInt(total.group(1));
            assertTrue(count >= 7, dump);
            String listing = dump.substring(total.end());
            assertEquals(3, Pattern.compile("(?m)^(\"[^\n]*\" )?Coroutine@[0-9a-f]+ context=").matcher(listing)
                    .results().count(), dump);
            assertTrue(listing.endsWith("\n... " + (count - 3) + " more coroutines: use `java -jar aioco-agent.jar dump"
                    + " PID` for all\n"), dump);
            StringBuilder whole = new StringBuilder();
            Coroutine.dump(whole);
            assertTrue(!whole.toString().contains(" more coroutines: "), "Coroutine.dump lists all:\n" + whole);
        } finally {
            CoroutinesMBean.limit = before;
            while (ctx.poll(false)) {
                // the scheduled coroutines run (and end)
            }
            ctx.close();
        }
        for (Coroutine co : scheduled) {
            assertTrue(co.isTerminated(), co + " ran");
        }
    }

    /** Invokes the MBean's operation as a JMX client would. */
    private static final class CoroutinesMBeanAccess {
        Object dump() throws Exception {
            var server = java.lang.management.ManagementFactory.getPlatformMBeanServer();
            var name = new javax.management.ObjectName(CoroutinesMBean.NAME);
            if (!server.isRegistered(name)) {
                CoroutinesMBean.registerNow();
            }
            return server.invoke(name, "dump", new Object[0], new String[0]);
        }
    }
}
