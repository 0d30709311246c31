package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression (rv19 review): on JDK 17 (the project's default JDK), once aioco's transformer is
 * retransformation-capable, a retransformation by any agent after a debugger's hot swap
 * (redefineClasses, which the README supports) silently reverts the class to the code it had before
 * the hot swap: the JVM replays the retransformation from the bytes it cached when aioco first
 * changed the class, and JDK 17 keeps that cache across the redefinition. On main (transformer not
 * capable: no cache) and on JDK 25 the hot-swapped code stays. Fixed by registering the
 * transformer capable only when an agent follows aioco's on the command line (or with {@code
 * retransform=on}); with an agent after aioco's, {@code retransform=off} keeps the hot swap.
 */
class HotSwapThenRetransformTest {
    /** An agent whose retransformation-capable transformer changes nothing. */
    static final String[][] OTHER_AGENT = RetransformFixture.capableAgent("Other", "", "", "return null;");
    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            import java.lang.instrument.ClassDefinition;
            public class Main {
                static int result;
                static int call(int x) {
                    Coroutine c = Coroutine.create(() -> result = Target.work(x));
                    while (!c.isTerminated()) c.enter();
                    return result;
                }
                public static void main(String[] args) throws Exception {
                    System.out.println("v1: " + call(1));
                    byte[] v2 = java.nio.file.Files.readAllBytes(java.nio.file.Path.of(args[0]));
                    spy.Other.instrumentation.redefineClasses(new ClassDefinition(Target.class, v2)); // a hot swap
                    System.out.println("after hot swap: " + call(1));
                    spy.Other.instrumentation.retransformClasses(Target.class); // any agent's retransformation
                    System.out.println("after retransformation: " + call(1));
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void aRetransformationAfterAHotSwapKeepsTheHotSwappedCode() throws Exception {
        String output = run(true, "cache=off");
        assertTrue(output.contains("after hot swap: 201\n"), output);
        assertTrue(output.contains("after retransformation: 201\n"), output);
    }

    @Test
    void withAnAgentAfterAiocoRetransformOffKeepsTheHotSwappedCode() throws Exception {
        String output = run(false, "cache=off,retransform=off,verbose");
        assertTrue(output.contains("not retransformation-capable"), output);
        assertTrue(output.contains("after hot swap: 201\n"), output);
        assertTrue(output.contains("after retransformation: 201\n"), output);
    }

    /** @return the output of the program, with the other agent listed before aioco's or after it */
    private String run(boolean otherFirst, String aiocoOptions) throws Exception {
        RetransformFixture other = RetransformFixture.agent(work, OTHER_AGENT, "spy.Other",
                "Can-Retransform-Classes: true", "Can-Redefine-Classes: true");
        String v2 = other.edited("app/Target.java", RetransformFixture.TARGET.replace("100 + x", "200 + x"));
        String aioco = ChildJvm.agent(aiocoOptions);
        String spy = other.javaagent();
        return ChildJvm.run(ChildJvm.command(otherFirst ? spy : aioco, otherFirst ? aioco : spy,
                "-cp", other.classPath(other.app(MAIN)), "app.Main", v2));
    }
}
