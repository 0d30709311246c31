package io.aioco.instrumenter.random;

import io.aioco.instrumenter.random.Model.Program;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.junit.jupiter.api.Assertions;

/**
 * Random Java programs, instrumented, behave exactly like the same programs run plainly.
 *
 * <p>Each try generates a small program ({@link ProgramArbitraries}, rendered by {@link
 * JavaRenderer}): static coroutine functions over int/long/double/boolean/String/int[]/Object
 * locals and parameters, with loops, switches (int, String, enum; statements and expressions),
 * try/catch/finally, try-with-resources (plain and coroutine {@code close()}), exceptions, calls
 * nested in expressions and arguments, bounded recursion, an instance coroutine method, a default
 * coroutine method, a coroutine lambda, and {@code yieldPoint()} calls in statements and
 * expressions. {@link ProgramRunner} compiles it once, runs it plainly (never yielding) as the
 * reference, then instrumented with yields never / always / by a random schedule, and requires equal
 * traces, results and escaping exceptions, and enters = 1 + yields taken.
 *
 * <p>How to run:
 * <ul>
 *   <li>CI (300 programs): {@code mvn -B -q -pl instrumenter test -Dtest='RandomProgram*'}
 *   <li>Long: add {@code -Daioco.random.tries=5000} (read by {@link TriesFromSystemProperty};
 *       Surefire passes {@code -D} user properties on to the test JVM).
 *   <li>Replay a failure: add {@code -Djqwik.seeds.whenfixed=...} or put the seed jqwik reports
 *       into {@code @Property(seed = "...")}; by default jqwik reruns the last failing seed first.
 * </ul>
 * A failure message holds the shrunk program's numbered source, the mode, and the first difference.
 */
class RandomProgramPropertyTest {

    @AddLifecycleHook(TriesFromSystemProperty.class)
    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void instrumentedProgramRunsLikePlainProgramUnderEveryYieldSchedule(@ForAll("programs") Program program,
            @ForAll("schedules") boolean[] schedule) {
        String source = JavaRenderer.render(program);
        String failure = ProgramRunner.check(source, schedule);
        Statistics.label("functions").collect(program.functions().size());
        if (failure != null) {
            Assertions.fail(failure);
        }
    }

    @Provide
    Arbitrary<Program> programs() {
        return ProgramArbitraries.programs();
    }

    @Provide
    Arbitrary<boolean[]> schedules() {
        return ProgramArbitraries.schedules();
    }
}
