package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression (rv19 review): frame tables are registered by a woven class's static initializer, which a
 * redefinition or retransformation does not run again. When the re-woven body differs (a debugger's
 * hot swap, which the README supports, or a capable agent before aioco that starts instrumenting,
 * CapableAgentBeforeAiocoTest), its state numbers are new and have no table: the coroutine
 * dump, and so the test kit's leak and deadlock reports, show no stack for a coroutine suspended
 * in the new body ("frames of code woven without frame tables"), and the walk stops there, losing
 * the frames above it too. Fixed: the agent's transformer hands the tables of a redefined or
 * retransformed class to the runtime of the class's loader itself.
 */
class DumpAfterRetransformTest {
    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            public class Main {
                static int result;
                public static void main(String[] args) throws Exception {
                    spy.Tracer.tracing = false;
                    Coroutine first = Coroutine.create(() -> result = Target.work(1));
                    first.enter();
                    first.enter(); // Target initialized (its tables registered), the coroutine done
                    spy.Tracer.tracing = true;
                    spy.Tracer.instrumentation.retransformClasses(Target.class);
                    Coroutine after = Coroutine.create(() -> result = Target.work(2));
                    after.enter();
                    StringBuilder sb = new StringBuilder();
                    Coroutine.dump(sb);
                    System.out.println("=== dump:\\n" + sb);
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void aCoroutineSuspendedInARetransformedBodyKeepsItsStackInTheDump() throws Exception {
        RetransformFixture tracer = RetransformFixture.agent(work, List.of(ChildJvm.asm()),
                CapableAgentBeforeAiocoTest.TRACER, "spy.Tracer", "Can-Retransform-Classes: true");
        String output = ChildJvm.run(ChildJvm.command(tracer.javaagent(), ChildJvm.agent("cache=off,probes"),
                "-cp", tracer.classPath(tracer.app(MAIN)), "app.Main"));
        assertTrue(output.contains("tracer: traced app/Target"), output);
        assertFalse(output.contains("without frame tables"), output);
        assertTrue(output.contains("at app.Target.work(Target.java:5)"), output);
    }

    private static final String HOT_SWAP_MAIN = """
            package app;
            import io.aioco.Coroutine;
            import java.lang.instrument.ClassDefinition;
            public class Main {
                static int result;
                public static void main(String[] args) throws Exception {
                    Coroutine first = Coroutine.create(() -> result = Target.work(1));
                    while (!first.isTerminated()) first.enter(); // Target initialized, its tables registered
                    byte[] v2 = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[0]));
                    spy.Other.instrumentation.redefineClasses(new ClassDefinition(Target.class, v2)); // a hot swap
                    Coroutine after = Coroutine.create(() -> result = Target.work(2));
                    after.enter();
                    after.enter(); // at the new body's second suspension point
                    StringBuilder sb = new StringBuilder();
                    Coroutine.dump(sb);
                    System.out.println("=== dump:\\n" + sb);
                    after.enter();
                    System.out.println("after: terminated=" + after.isTerminated() + " result=" + result);
                }
            }
            """;

    @Test
    void aCoroutineSuspendedInAHotSwappedBodyKeepsItsStackInTheDump() throws Exception {
        RetransformFixture other = RetransformFixture.agent(work, HotSwapThenRetransformTest.OTHER_AGENT, "spy.Other",
                "Can-Redefine-Classes: true", "Can-Retransform-Classes: true");
        String v2 = other.edited("app/Target.java", RetransformFixture.TARGET.replace("return 100 + x;",
                "io.aioco.Coroutine.yield(); return 200 + x;"));
        String output = ChildJvm.run(ChildJvm.command(other.javaagent(), ChildJvm.agent("cache=off,probes"),
                "-cp", other.classPath(other.app(HOT_SWAP_MAIN)), "app.Main", v2));
        assertFalse(output.contains("without frame tables"), output);
        assertTrue(output.contains("at app.Target.work(Target.java:6)"), output);
        assertTrue(output.contains("after: terminated=true result=202"), output);
    }
}
