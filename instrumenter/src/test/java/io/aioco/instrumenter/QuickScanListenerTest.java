package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the instrumenter tells a caller that keeps the quick scan's verdicts (the agent's startup cache). */
class QuickScanListenerTest {
    private static final Map<String, byte[]> CLASSES = TestCompiler.compile(Map.of(
            "q.Plain", "package q; public interface Plain { int run(); }",
            "q.Co", "package q; public interface Co { @io.aioco.CoroutineFn int run(); }",
            "q.Base", "package q; public class Base implements Plain { public int run() { return 1; } }",
            "q.Sub", """
                    package q;
                    public class Sub extends Base implements java.io.Serializable, Comparable<Sub> {
                        public int compareTo(Sub other) { return 0; }
                        static Plain plain() { return () -> 2; }
                        static java.util.function.IntSupplier jdk() { return () -> 3; }
                    }""",
            "q.UsesCo", "package q; public class UsesCo { static Co co() { return () -> 4; } }"));

    private final Instrumenter instrumenter = new Instrumenter(name -> CLASSES.get(name));
    private final List<String> told = new ArrayList<>();

    private InstrumentationResult instrument(String name) {
        return instrumenter.instrument(CLASSES.get(name),
                (className, supertypes, functional) -> told.add(className + " " + List.of(supertypes) + " "
                        + List.of(functional)));
    }

    @Test
    void aClassWithNothingToDoIsToldWithItsApplicationSupertypesAndFunctionalInterfaces() {
        assertEquals(InstrumentationResult.Outcome.UNCHANGED, instrument("q/Sub").outcome());
        assertEquals(List.of("q/Sub [q/Base] [q/Plain]"), told, "JDK types left out");
    }

    @Test
    void aClassRewrittenOrNamingTheRuntimeIsNotTold() {
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, instrument("q/UsesCo").outcome());
        instrument("q/Co"); // names the runtime: not decided by the quick scan
        assertTrue(told.isEmpty(), told.toString());
        instrument("q/Plain");
        assertEquals(List.of("q/Plain [] []"), told);
    }
}
