package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * aioco's transformer is retransformation-capable (so that JaCoCo's runs before it in both orders,
 * CoverageUnderJacocoTest): another capable agent added after it sees the woven class, and a
 * retransformation ({@code Instrumentation.retransformClasses}, which replays the capable
 * transformers from the bytes the class had before them) gives the woven class again: new calls
 * suspend, and a coroutine suspended across the retransformation resumes.
 */
class RetransformingAgentAfterAiocoTest {
    private static final String[][] SPY_AGENT = RetransformFixture.capableAgent("SpyAgent", "", "", """
            if ("app/Target".equals(name)) {
                boolean woven = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
                        .contains("io/aioco/internal/CoStack");
                System.out.println("spy: " + (redefined == null ? "load" : "retransform")
                        + (woven ? " woven" : " not woven"));
            }
            return null;
            """);
    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            public class Main {
                static int result;
                public static void main(String[] args) throws Exception {
                    Coroutine across = Coroutine.create(() -> result = Target.work(1));
                    across.enter();
                    spy.SpyAgent.instrumentation.retransformClasses(Target.class);
                    across.enter();
                    System.out.println("across: terminated=" + across.isTerminated() + " result=" + result);
                    Coroutine fresh = Coroutine.create(() -> result = Target.work(2));
                    int enters = 0;
                    while (!fresh.isTerminated()) { fresh.enter(); enters++; }
                    System.out.println("fresh: result=" + result + " enters=" + enters);
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void aCapableAgentAfterAiocoSeesTheWovenClassAndARetransformationKeepsItWoven() throws Exception {
        RetransformFixture spy = RetransformFixture.agent(work, SPY_AGENT, "spy.SpyAgent",
                "Can-Retransform-Classes: true");
        String output = ChildJvm.run(ChildJvm.command(ChildJvm.agent("cache=off"), spy.javaagent(),
                "-cp", spy.classPath(spy.app(MAIN)), "app.Main"));
        assertTrue(output.contains("spy: load woven\nspy: retransform woven\n"), output);
        assertTrue(output.contains("across: terminated=true result=101\n"), output);
        assertTrue(output.contains("fresh: result=102 enters=2\n"), output);
    }
}
