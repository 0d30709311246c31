package io.aioco.instrumenter;

import static io.aioco.instrumenter.Fixtures.loader;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A body takes two parameters more than its coroutine function (the stack and the signal), and
 * the JVM allows 255 parameter slots: a coroutine function with more than 253 is refused alone,
 * with its line, and its class (its other methods, its callers) works. Before, the class failed to
 * load ({@code ClassFormatError}) and took every other method with it.
 */
class ManyParametersTest {
    /** {@code count} parameters of {@code type} named p0..: the declaration and the argument list. */
    private static String parameters(String type, int count) {
        return IntStream.range(0, count).mapToObj(i -> type + " p" + i).collect(Collectors.joining(", "));
    }

    private static String arguments(int count) {
        return IntStream.range(0, count).mapToObj(i -> String.valueOf(i + 1)).collect(Collectors.joining(", "));
    }

    @Test
    void aCoroutineFunctionWithTooManyParameterSlotsIsRefusedAloneAndTheRestRuns() {
        InstrumentingLoader loader = loader("Many", """
                public class Many {
                    @CoroutineFn static int tooMany(%s) {
                        Coroutine.yield();
                        return p0 + p253;
                    }
                    @CoroutineFn int tooManyLongs(%s) {
                        Coroutine.yield();
                        return (int) (p0 + p126);
                    }
                    @CoroutineFn static int justEnough(%s) {
                        Driver.log("before " + p252);
                        Coroutine.yield();
                        return p0 + p252;
                    }
                    @CoroutineFn int justEnoughInstance(%s) {
                        Coroutine.yield();
                        return p0 + p251;
                    }
                    @CoroutineFn static void callsJustEnough() {
                        Driver.log("r=" + justEnough(%s));
                        Driver.log("i=" + new Many().justEnoughInstance(%s));
                    }
                    @CoroutineFn static void callsTooMany() { Driver.log("r=" + tooMany(%s)); }
                    @CoroutineFn static void callsTooManyLongs() { Driver.log("r=" + new Many().tooManyLongs(%s)); }
                    public static Object run() { return Driver.drive(Many::callsJustEnough); }
                    public static Object runTooMany() { return Driver.drive(Many::callsTooMany); }
                    public static Object runTooManyLongs() { return Driver.drive(Many::callsTooManyLongs); }
                }
                """.formatted(parameters("int", 254), parameters("long", 127), parameters("int", 253),
                parameters("int", 252), arguments(253), arguments(252), arguments(254), arguments(127)));
        InstrumentationResult result = loader.result("t.Many");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome(), result.diagnostics().toString());
        List<Diagnostic> errors = result.diagnostics();
        assertEquals(List.of("tooMany", "tooManyLongs"), errors.stream().map(Diagnostic::methodName).toList());
        Diagnostic error = errors.get(0);
        assertEquals(7, error.line()); // the first line of its code
        assertTrue(error.format().startsWith("t/Many.java:7: t.Many.tooMany(" + "I".repeat(254) + ")I: a coroutine"
                + " function can have at most 253 parameter slots (this one has 254, counting this and two for each"
                + " long and double)"), error.format());
        assertTrue(errors.get(1).message().contains("(this one has 255, counting this"), errors.get(1).message());

        assertEquals("before 253,|,r=254,|,i=253", loader.callStatic("t.Many", "run"));
        Driver.reset(loader);
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> loader.callStatic("t.Many", "runTooMany"));
        assertEquals(error.format(), thrown.getMessage());
        thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Many", "runTooManyLongs"));
        assertEquals(errors.get(1).format(), thrown.getMessage());
    }

    /** Clears the fixture driver's trace between runs. */
    private static final class Driver {
        static void reset(InstrumentingLoader loader) {
            try {
                ((List<?>) loader.load("t.Driver").getField("TRACE").get(null)).clear();
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }
    }
}
