package io.aioco.instrumenter.random;

import io.aioco.instrumenter.random.Model.Program;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
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
 * <p>How to run (build {@code runtime} in the same reactor, so the test uses this tree's runtime
 * and not whatever another checkout last installed into {@code ~/.m2}):
 * <ul>
 *   <li>CI, 300 programs (about 70 s on two cores):
 *       {@code mvn -B -q -pl runtime,instrumenter test -Dtest='RandomProgram*'
 *       -Dsurefire.failIfNoSpecifiedTests=false}
 *   <li>Long: add {@code -Daioco.random.tries=5000} (read by {@link TriesFromSystemProperty}:
 *       {@code @Property(tries = ...)} must be a constant; Surefire passes {@code -D} properties on
 *       to the test JVM). Shrinking a failure may take up to 120 s
 *       ({@code jqwik.shrinking.bounded.seconds} in {@code src/test/resources/junit-platform.properties}).
 *   <li>Replay: jqwik reruns the last failing sample first (its database is
 *       {@code instrumenter/.jqwik-database}, not committed); or put the seed it reports into
 *       {@code @Property(seed = "...")}.
 * </ul>
 * A failure message holds the shrunk program's numbered source, the mode, and the first difference.
 */
class RandomProgramPropertyTest {

    @AddLifecycleHook(TriesFromSystemProperty.class)
    @Property(tries = 300, shrinking = ShrinkingMode.BOUNDED)
    void instrumentedProgramRunsLikePlainProgramUnderEveryYieldSchedule(@ForAll("programs") Program program,
            @ForAll("schedules") boolean[] schedule) {
        ProgramRunner.Verdict verdict = ProgramRunner.verdict(JavaRenderer.render(program), schedule);
        Statistics.label("javac (17) crashed on or miscompiled the plain program").collect(verdict.javacMiscompiled());
        Assume.that(!verdict.javacMiscompiled()); // nothing to compare with: not a finding about aioco
        Statistics.label("a function refused as too large once instrumented").collect(verdict.tooLarge());
        Assume.that(!verdict.tooLarge()); // a documented refusal (64 KiB per method), tested on its own
        if (verdict.failure() != null) {
            Assertions.fail(verdict.failure());
        }
        Statistics.label("functions").collect(program.functions().size());
        Statistics.label("entry ends by").collect(verdict.reference().failure().equals("none") ? "return"
                : verdict.reference().failure().startsWith("gen.Rt$OutOfFuel") ? "running out of fuel" : "exception");
        int yields = verdict.alwaysYielding().yields();
        Statistics.label("yields taken when always yielding").collect(
                yields == 0 ? "0" : yields <= 5 ? "1-5" : yields <= 50 ? "6-50" : "over 50");
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
