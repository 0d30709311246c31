package io.aioco.instrumenter.random;

import io.aioco.instrumenter.TestCompiler;

import io.aioco.instrumenter.InstrumentingLoader;
import java.lang.reflect.InvocationTargetException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Compiles a generated program ({@code gen.Prog} with the support class {@code gen.Rt}), runs it
 * plainly as the reference, runs it instrumented under several yield modes, and compares.
 *
 * <p>The reference loader defines the classes exactly as javac wrote them and runs with
 * {@code yielding=false}: the entry runs inside one {@code Coroutine.create(..).enter()} that never
 * suspends, so the uninstrumented code is never asked to. The instrumented loader (a fresh
 * {@link InstrumentingLoader}: checked with ASM's CheckClassAdapter and analyzer, then by the JVM's
 * verifier as every class is initialised up front) runs three times: never yielding, yielding at
 * every {@code yieldPoint()}, and yielding by the given schedule.
 */
public final class ProgramRunner {
    private ProgramRunner() {}

    /** What one run of a program did. */
    public record Outcome(String trace, String result, int enters, int yields, boolean terminated, String failure,
            int crossings) {
        static Outcome of(Object[] raw) {
            return new Outcome((String) raw[0], (String) raw[1], (Integer) raw[2], (Integer) raw[3],
                    (Boolean) raw[4], (String) raw[5], (Integer) raw[6]);
        }
    }

    /** The support class the instrumented runs leave out of instrumentation, as the agent's {@code exclude=} would. */
    static final String EXCLUDED_CLASS = "gen/Rt$Deco";

    /** The yield modes of the instrumented runs. */
    public enum Mode { NEVER_YIELD, ALWAYS_YIELD, SCHEDULED }

    /**
     * The verdict on one program.
     *
     * @param failure null if every instrumented run matched the reference, else what differed,
     *     with the numbered source
     * @param reference the plain run (null if the program did not get that far)
     * @param alwaysYielding the instrumented run that yields at every {@code yieldPoint()} (null if
     *     it did not run)
     * @param javacMiscompiled javac crashed on the program, or the plain program does not verify:
     *     nothing to compare with
     * @param tooLarge a function was refused as too large once instrumented (a documented refusal:
     *     the 64 KiB limit), so the instrumented program cannot run like the plain one
     */
    public record Verdict(String failure, Outcome reference, Outcome alwaysYielding, boolean javacMiscompiled,
            boolean tooLarge) {
        Verdict(String failure, Outcome reference, Outcome alwaysYielding) {
            this(failure, reference, alwaysYielding, false, false);
        }
    }

    /** The start of the instrumenter's diagnostic for a method refused as too large once instrumented. */
    private static final String TOO_LARGE = "method too large once instrumented";

    /** Source plus schedule to the verdict of an earlier check. */
    private static final Map<String, Verdict> RECENT = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Verdict> eldest) {
            return size() > 256;
        }
    };

    /**
     * Checks one program; shrinking often produces the same source twice, so recent answers are
     * remembered.
     *
     * @param progSource source of {@code gen.Prog}
     * @param schedule yield schedule for the {@link Mode#SCHEDULED} run
     * @return null if the instrumented runs match the reference, else a message naming the program,
     *     the mode and the first difference
     */
    public static String check(String progSource, boolean[] schedule) {
        return verdict(progSource, schedule).failure();
    }

    /** Like {@link #check}, with the outcomes of the reference and always-yielding runs. */
    public static Verdict verdict(String progSource, boolean[] schedule) {
        return verdict(progSource, schedule, ProgramCompiler.DEFAULT_RELEASE);
    }

    /** Like {@link #check}, compiled with {@code --release release}. */
    public static synchronized Verdict verdict(String progSource, boolean[] schedule, int release) {
        String key = release + progSource + Arrays.toString(schedule);
        Verdict verdict = RECENT.get(key);
        if (verdict == null) {
            verdict = checkUncached(progSource, schedule, release);
            RECENT.put(key, verdict);
        }
        return verdict;
    }

    private static Verdict checkUncached(String progSource, boolean[] schedule, int release) {
        Map<String, byte[]> classes;
        try {
            classes = ProgramCompiler.compile(progSource, release);
        } catch (TestCompiler.CompilerCrash javacBug) {
            // JDK 17's javac also crashes on some of those switch expressions (an index out of
            // bounds in Gen.handleSwitch): no plain program, so nothing to compare with
            return new Verdict(null, null, null, true, false);
        }
        return check(progSource, classes, schedule, "--release " + release);
    }

    /**
     * Checks compiled classes: the plain runs against the instrumented ones.
     *
     * @param compiledAs how the classes were compiled, for the report
     */
    static Verdict check(String progSource, Map<String, byte[]> classes, boolean[] schedule, String compiledAs) {
        progSource = "// compiled with " + compiledAs + " and run on Java " + Runtime.version().feature() + "\n"
                + progSource;
        Outcome reference;
        PlainLoader plain = new PlainLoader(classes);
        try {
            // NOTE: every class is linked (verified) first, as the instrumented side does: a class
            // javac miscompiled fails here even when the run never reaches it
            initialiseAll(plain, classes);
            reference = run(plain, classes, false, null, false);
        } catch (VerifyError javacBug) {
            // JDK 17's javac emits bad stack maps for some switch expressions nested in try/catch
            // and ternaries, and folds a cast into the arms of a switch expression whose value it
            // keeps in a local of the uncast type ("iconst_0; fstore": PlainJavacBugTest): such a
            // program is invalid before any instrumentation
            return new Verdict(null, null, null, true, false);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        if (reference.enters() != 1 || reference.yields() != 0 || !reference.terminated()) {
            return new Verdict(report(progSource, "reference", "the reference run suspended: " + reference, null),
                    reference, null);
        }
        InstrumentingLoader instrumented;
        try {
            instrumented = new InstrumentingLoader(classes, EXCLUDED_CLASS::equals);
            initialiseAll(instrumented, classes);
        } catch (Throwable e) {
            return new Verdict(report(progSource, "loading", "instrumented classes do not load: " + stackTrace(e),
                    null), reference, null);
        }
        Outcome alwaysYielding = null;
        for (Mode mode : Mode.values()) {
            Outcome outcome;
            Outcome expected;
            try {
                // the plain run of the same mode predicts the yields and where a suspension must
                // fail because it would cross a frame that is not instrumented
                expected = switch (mode) {
                    case NEVER_YIELD -> reference;
                    case ALWAYS_YIELD -> run(plain, classes, true, null, true);
                    case SCHEDULED -> run(plain, classes, true, schedule, true);
                };
            } catch (Throwable e) {
                return new Verdict(report(progSource, mode + " (plain, simulated) " + Arrays.toString(schedule),
                        "the driver threw " + stackTrace(e), null), reference, alwaysYielding);
            }
            try {
                outcome = switch (mode) {
                    case NEVER_YIELD -> run(instrumented, classes, false, null, false);
                    case ALWAYS_YIELD -> run(instrumented, classes, true, null, false);
                    case SCHEDULED -> run(instrumented, classes, true, schedule, false);
                };
            } catch (Throwable e) {
                return new Verdict(report(progSource, mode + " " + Arrays.toString(schedule),
                        "the driver threw " + stackTrace(e), null), reference, alwaysYielding);
            }
            if (mode == Mode.ALWAYS_YIELD) {
                alwaysYielding = outcome;
            }
            if (outcome.failure().contains(TOO_LARGE) && !reference.failure().contains(TOO_LARGE)) {
                return new Verdict(null, reference, alwaysYielding, false, true);
            }
            String difference = difference(expected, outcome, mode);
            if (difference != null) {
                return new Verdict(report(progSource, mode + (mode == Mode.SCHEDULED ? " "
                        + Arrays.toString(schedule) : ""), difference, outcome), reference, alwaysYielding);
            }
        }
        return new Verdict(null, reference, alwaysYielding);
    }

    /**
     * Runs a program once, instrumented, in the given mode: for examples that pin down exact counts.
     */
    public static Outcome runInstrumented(String progSource, Mode mode, boolean[] schedule) {
        Map<String, byte[]> classes = ProgramCompiler.compile(progSource);
        return run(new InstrumentingLoader(classes, EXCLUDED_CLASS::equals), classes, mode != Mode.NEVER_YIELD,
                mode == Mode.SCHEDULED ? schedule : null, false);
    }

    private static String difference(Outcome reference, Outcome outcome, Mode mode) {
        if (!reference.trace().equals(outcome.trace())) {
            return "traces differ at line " + firstDifferentLine(reference.trace(), outcome.trace())
                    + "\n--- reference trace:\n" + reference.trace() + "--- instrumented trace:\n" + outcome.trace()
                    + "--- reference failure: " + reference.failure() + "\n--- instrumented failure: "
                    + outcome.failure();
        }
        if (!reference.failure().equals(outcome.failure())) {
            return "escaping exceptions differ:\n  reference:    " + reference.failure() + "\n  instrumented: "
                    + outcome.failure();
        }
        if (!java.util.Objects.equals(reference.result(), outcome.result())) {
            return "results differ:\n  reference:    " + reference.result() + "\n  instrumented: " + outcome.result();
        }
        if (!outcome.terminated()) {
            return "the coroutine did not terminate after " + outcome.enters() + " enters";
        }
        if (outcome.yields() != reference.yields() || outcome.crossings() != reference.crossings()) {
            return "yields taken " + outcome.yields() + " (" + outcome.crossings() + " of them across a plain frame)"
                    + " != predicted " + reference.yields() + " (" + reference.crossings() + ")";
        }
        if (outcome.enters() != 1 + outcome.yields() - outcome.crossings()) {
            return "enters " + outcome.enters() + " != 1 + yields " + outcome.yields() + " - crossing errors "
                    + outcome.crossings();
        }
        if (mode == Mode.NEVER_YIELD && outcome.yields() != 0) {
            return "yielded " + outcome.yields() + " times with yielding off";
        }
        return null;
    }

    private static int firstDifferentLine(String expected, String actual) {
        String[] a = expected.split("\n", -1);
        String[] b = actual.split("\n", -1);
        int i = 0;
        while (i < a.length && i < b.length && a[i].equals(b[i])) {
            i++;
        }
        return i + 1;
    }

    private static String report(String source, String mode, String difference, Outcome outcome) {
        StringBuilder text = new StringBuilder("instrumented run differs from plain execution (mode ")
                .append(mode).append("): ").append(difference).append('\n');
        if (outcome != null) {
            text.append("enters=").append(outcome.enters()).append(" yields=").append(outcome.yields()).append('\n');
        }
        text.append("--- program gen/Prog.java (support class gen.Rt: ProgramSupport.SOURCE):\n");
        String[] lines = source.split("\n");
        for (int i = 0; i < lines.length; i++) {
            text.append(String.format("%3d  %s%n", i + 1, lines[i]));
        }
        return text.toString();
    }

    private static String stackTrace(Throwable e) {
        java.io.StringWriter out = new java.io.StringWriter();
        e.printStackTrace(new java.io.PrintWriter(out));
        String text = out.toString();
        return text.length() > 4000 ? text.substring(0, 4000) + "..." : text;
    }

    private static void initialiseAll(ClassLoader loader, Map<String, byte[]> classes) throws ClassNotFoundException {
        for (String internalName : classes.keySet()) {
            Class.forName(internalName.replace('/', '.'), true, loader);
        }
    }

    /**
     * Runs {@code gen.Prog.run(yielding, schedule)} in the loader; {@code simulated}: yields are only
     * counted (see {@code Rt.simulated}), for plain code.
     */
    static Outcome run(ClassLoader loader, Map<String, byte[]> classes, boolean yielding, boolean[] schedule,
            boolean simulated) {
        try {
            Class.forName(ProgramSupport.CLASS_NAME, true, loader).getField("simulated").setBoolean(null, simulated);
            Class<?> prog = Class.forName(JavaRenderer.CLASS_NAME, true, loader);
            return Outcome.of((Object[]) prog.getMethod("run", boolean.class, boolean[].class)
                    .invoke(null, yielding, schedule));
        } catch (InvocationTargetException e) {
            throw new AssertionError("gen.Prog.run threw", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Defines the classes exactly as compiled. */
    static final class PlainLoader extends ClassLoader {
        private final Map<String, byte[]> classes;

        PlainLoader(Map<String, byte[]> classes) {
            super(PlainLoader.class.getClassLoader());
            this.classes = classes;
        }

        @Override
        protected synchronized Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            byte[] bytes = classes.get(name.replace('.', '/'));
            if (bytes == null) {
                return super.loadClass(name, resolve);
            }
            Class<?> loaded = findLoadedClass(name);
            if (loaded == null) {
                loaded = defineClass(name, bytes, 0, bytes.length);
            }
            if (resolve) {
                resolveClass(loaded);
            }
            return loaded;
        }
    }
}
