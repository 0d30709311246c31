package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Random sequences of modNs/del on a few VIRTUAL timers and advances of the clock: after each
 * advance, exactly the timers due fire, in deadline order (ties in arming order), once each.
 */
class TimerPropertyTest {
    private static final int TIMERS = 5;

    /** One step: op 0 arms timer {@code timer} at now+{@code amount}, 1 deletes it, 2 advances. */
    record Step(int op, int timer, long amount) {}

    @Provide
    Arbitrary<List<Step>> scripts() {
        return Combinators.combine(
                        Arbitraries.integers().between(0, 2),
                        Arbitraries.integers().between(0, TIMERS - 1),
                        Arbitraries.longs().between(0, 1_000))
                .as(Step::new)
                .list()
                .ofMaxSize(60);
    }

    @Property(tries = 200)
    void exactlyTheDueTimersFireInDeadlineOrder(@ForAll("scripts") List<Step> script) {
        ClockType.pauseVirtual();
        try (AioContext ctx = AioContext.create()) {
            List<Integer> fired = new ArrayList<>();
            Timer[] timers = new Timer[TIMERS];
            for (int i = 0; i < TIMERS; i++) {
                int id = i;
                timers[i] = ctx.newTimer(ClockType.VIRTUAL, () -> fired.add(id));
            }
            // The model: timer -> {deadline, arming sequence}.
            Map<Integer, long[]> armed = new HashMap<>();
            long seq = 0;
            for (Step step : script) {
                long now = ClockType.VIRTUAL.nowNs();
                switch (step.op()) {
                    case 0 -> {
                        timers[step.timer()].modNs(now + step.amount());
                        armed.put(step.timer(), new long[] {now + step.amount(), seq++});
                    }
                    case 1 -> {
                        timers[step.timer()].del();
                        armed.remove(step.timer());
                    }
                    default -> {
                        ClockType.advanceVirtualNs(step.amount());
                        long after = ClockType.VIRTUAL.nowNs();
                        List<Integer> expected = armed.entrySet().stream()
                                .filter(e -> e.getValue()[0] <= after)
                                .sorted(Comparator.<Map.Entry<Integer, long[]>>comparingLong(e -> e.getValue()[0])
                                        .thenComparingLong(e -> e.getValue()[1]))
                                .map(Map.Entry::getKey)
                                .toList();
                        expected.forEach(armed::remove);
                        fired.clear();
                        LoopTesting.drain(ctx);
                        assertEquals(expected, fired);
                    }
                }
                for (int i = 0; i < TIMERS; i++) {
                    long[] model = armed.get(i);
                    assertEquals(model != null, timers[i].isPending());
                    assertEquals(model == null ? -1 : model[0], timers[i].expireTimeNs());
                }
            }
        }
    }
}
