package io.aioco.instrumenter;

import java.util.LinkedHashMap;
import java.util.Map;

/** Builds fixture programs: sources in package {@code t}, with the common imports. */
final class Fixtures {
    static final String HEADER = "package t;\nimport io.aioco.*;\nimport java.util.*;\nimport java.util.function.*;\n";

    /**
     * A driver every fixture can use: enters the coroutine until it terminates, and returns the
     * trace with a "|" for every yield.
     */
    static final String DRIVER = """
            package t;
            import io.aioco.*;
            import java.util.*;
            public final class Driver {
                public static final List<String> TRACE = new ArrayList<>();
                public static void log(Object o) { TRACE.add(String.valueOf(o)); }
                public static String drive(CoroutineEntry entry) {
                    Coroutine co = Coroutine.create(entry);
                    int guard = 0;
                    while (!co.isTerminated()) {
                        co.enter();
                        if (!co.isTerminated()) TRACE.add("|");
                        if (++guard > 100000) throw new AssertionError("does not terminate");
                    }
                    return String.join(",", TRACE);
                }
            }
            """;

    private Fixtures() {}

    /** One class {@code t.Name} plus the driver. */
    static InstrumentingLoader loader(String className, String body, String... options) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", DRIVER);
        sources.put("t." + className, HEADER + body);
        return InstrumentingLoader.of(sources, options);
    }

    /** Compiles, instruments, and calls {@code public static Object run()} of {@code t.Name}. */
    static Object run(String className, String body, String... options) {
        return loader(className, body, options).callStatic("t." + className, "run");
    }
}
