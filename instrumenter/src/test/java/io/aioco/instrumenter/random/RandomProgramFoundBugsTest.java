package io.aioco.instrumenter.random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.util.Map;
import net.jqwik.api.Example;

/**
 * Instrumenter bugs the random program property found, each minimised to a small program. These
 * examples fail until the bug is fixed; the generator avoids the shape meanwhile (see the
 * {@code AVOID_*_BUG} flags in {@link ProgramArbitraries}).
 *
 * <p>Bug: a coroutine method whose rewritten form outgrows the class-file limits (64 KiB of code,
 * or ASM's budget for computing stack map frames) makes the whole class {@code FAILED}: no method
 * of the class is instrumented, and the diagnostic names no method and no line. Its message is an
 * internal error: {@code ArrayIndexOutOfBoundsException} from ASM's
 * {@code ClassReader.readLabel} (via {@code ClassWriter.replaceAsmInstructions}), {@code
 * MethodTooLargeException}, or {@code LimitExceededException: Too many operations}. The rewritten
 * code grows by about seven instructions per live local per suspension point (976 instructions
 * become 23,512 below), so javac methods of a few KiB reach the limits. INSTRUMENTATION.md asks
 * for the method alone to be refused, with class, method, descriptor and line, and the rest of
 * the class instrumented as usual (or for the method to be instrumented).
 */
class RandomProgramFoundBugsTest {

    /** Thirty live longs across each of {@code points} suspension points, plus a small function. */
    private static String liveLongsAcrossSuspensions(int points, boolean insideTryFinally) {
        StringBuilder locals = new StringBuilder();
        StringBuilder sum = new StringBuilder("x");
        for (int i = 0; i < 30; i++) {
            locals.append("long v").append(i).append(" = x + ").append(i).append("L;\n");
            sum.append(" + v").append(i);
        }
        String suspensions = "x += Rt.yI(x);\n".repeat(points);
        if (insideTryFinally) {
            suspensions = "try {\n" + suspensions + "} finally {\n    Rt.t(\"finally\");\n}\n";
        }
        return RandomProgramShapesTest.program("""
                @CoroutineFn
                static int small(int x) throws Exception {
                    return Rt.yI(x) + 1;
                }

                @CoroutineFn
                static long f0(int x) throws Exception {
                """ + (locals + suspensions + "return " + sum + ";\n").indent(4) + "}\n", "small(1)");
    }

    /** Four nested try/catch/finally, each finally holding the next: javac copies the inner ones 64 times. */
    private static final String NESTED_FINALLY = RandomProgramShapesTest.program("""
            @CoroutineFn
            static int small(int x) throws Exception {
                return Rt.yI(x) + 1;
            }

            @CoroutineFn
            static int f0(int x) throws Exception {
                try { x += Rt.yI(x); } catch (Rt.Boom e0) { x += Rt.yI(1); } catch (RuntimeException r0) { x += Rt.yI(2); } finally {
                try { x += Rt.yI(x); } catch (Rt.Boom e1) { x += Rt.yI(1); } catch (RuntimeException r1) { x += Rt.yI(2); } finally {
                try { x += Rt.yI(x); } catch (Rt.Boom e2) { x += Rt.yI(1); } catch (RuntimeException r2) { x += Rt.yI(2); } finally {
                try { x += Rt.yI(x); } catch (Rt.Boom e3) { x += Rt.yI(1); } catch (RuntimeException r3) { x += Rt.yI(2); } finally {
                    x += Rt.yI(x);
                } } } }
                return x;
            }
            """, "small(1)");

    /**
     * Instruments {@code gen.Prog} and requires what INSTRUMENTATION.md asks: the class is rewritten;
     * if {@code f0} is refused, the refusal names it and its line and says why without an internal
     * exception; the rest of the class runs instrumented like plain.
     */
    private static void assertOversizedMethodRefusedAlone(String source) {
        Map<String, byte[]> classes = ProgramCompiler.compile(source);
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(classes::get,
                ClassLookup.ofClassLoader(RandomProgramFoundBugsTest.class.getClassLoader())));
        InstrumentationResult result = instrumenter.instrument(classes.get("gen/Prog"));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome(), () -> "one oversized method made"
                + " the whole class " + result.outcome() + ": " + result.diagnostics());
        for (Diagnostic diagnostic : result.diagnostics()) {
            assertEquals("f0", diagnostic.methodName(), diagnostic::format);
            assertTrue(diagnostic.line() > 0, diagnostic::format);
            assertTrue(!diagnostic.message().matches("(?s).*(IndexOutOfBounds|LimitExceeded|TooLarge)Exception.*"),
                    diagnostic::format);
        }
        assertNull(ProgramRunner.check(source, new boolean[] {true}));
    }

    @Example
    void hundredSuspensionPointsWithThirtyLiveLongsDoNotCrashTheWholeClass() {
        // today: FAILED, "cannot instrument: java.lang.ArrayIndexOutOfBoundsException: Index 67250 out of
        // bounds for length 51749", no method name, no line
        assertOversizedMethodRefusedAlone(liveLongsAcrossSuspensions(100, false));
    }

    @Example
    void twoHundredSuspensionPointsWithThirtyLiveLongsDoNotCrashTheWholeClass() {
        // today: FAILED, "cannot instrument: org.objectweb.asm.MethodTooLargeException: Method too large:
        // gen/Prog.f0 (I)J", no line
        assertOversizedMethodRefusedAlone(liveLongsAcrossSuspensions(200, false));
    }

    @Example
    void hundredSuspensionPointsInsideTryFinallyDoNotCrashTheWholeClass() {
        // today: FAILED, "cannot instrument: java.lang.ArrayIndexOutOfBoundsException: Index 67250 out of
        // bounds for length 51765"
        assertOversizedMethodRefusedAlone(liveLongsAcrossSuspensions(100, true));
    }

    @Example
    void fourNestedFinallyBlocksWithSuspensionsDoNotCrashTheWholeClass() {
        // the shape the property found (javac: 4,429 instructions, 508 handlers, 511 suspension points);
        // today: FAILED, "cannot instrument: org.objectweb.asm.LimitExceededException: Too many operations"
        assertOversizedMethodRefusedAlone(NESTED_FINALLY);
    }
}
