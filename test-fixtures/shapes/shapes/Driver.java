package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import java.util.ArrayList;
import java.util.List;

/**
 * Drives a shape's coroutine: enters it until it terminates and keeps a trace, with "|" for every
 * yield. Each shape's {@code run()} returns a string built from it, compared with the shape's
 * {@code EXPECTED}. Compiles for Java 8 (the {@code Old} shape is compiled with it).
 */
public final class Driver {
    /** What the shape logged, with "|" for each yield. */
    public static final List<String> TRACE = new ArrayList<String>();
    private static int enters;

    private Driver() {}

    /** Called by the runners before each shape (the test suite runs them all in one class loader). */
    public static void reset() {
        TRACE.clear();
        enters = 0;
    }

    public static void log(Object o) {
        TRACE.add(String.valueOf(o));
    }

    /** @return the trace, comma-separated, once the coroutine terminated */
    public static String drive(CoroutineEntry entry) {
        Coroutine co = Coroutine.create(entry);
        while (!co.isTerminated()) {
            co.enter();
            enters++;
            if (!co.isTerminated()) {
                TRACE.add("|");
            }
            if (enters > 1000000) {
                throw new AssertionError("does not terminate");
            }
        }
        return String.join(",", TRACE);
    }

    /** @return how many times {@link #drive} entered the coroutine (one more than it yielded) */
    public static int enters() {
        return enters;
    }

    /** @return the trace without the yields, comma-separated */
    public static String logged() {
        List<String> logged = new ArrayList<String>();
        for (String event : TRACE) {
            if (!event.equals("|")) {
                logged.add(event);
            }
        }
        return String.join(",", logged);
    }
}
