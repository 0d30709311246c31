package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -Daioco.inlineCache=false} turns the inline caches of virtual calls off (CoLinker.linkVirtual):
 * every call from woven code goes through the callee's wrapper, as before the caches. Without it,
 * under the agent, once the call site has met the receiver's class, the call reaches the callee's
 * woven code from the caller directly. Without the agent (classes woven ahead, as by the plugin)
 * the caches are off unless {@code -Daioco.inlineCache=true}. In a child JVM, the callee naming
 * its caller's frame.
 */
class InlineCachePropertyTest {
    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            public class Main {
                public static class Target {
                    @io.aioco.CoroutineFn
                    public int work(int x) {
                        via = new Throwable().getStackTrace()[1].getMethodName();
                        Coroutine.yield();
                        return x + 1;
                    }
                }
                static String via;
                static int result;
                @io.aioco.CoroutineFn
                static int call(Target target, int x) { return target.work(x); }
                public static void main(String[] args) {
                    Target target = new Target();
                    for (int i = 0; i < 3; i++) {
                        Coroutine co = Coroutine.create(() -> result = call(target, i));
                        while (!co.isTerminated()) { co.enter(); }
                        System.out.println("result " + result + " called from " + via);
                    }
                }
            }
            """;

    @TempDir
    Path work;

    private List<String> run(String... options) throws Exception {
        Path runtime = ChildJvm.runtime();
        Path classes = ChildJvm.compile(work, "app", new String[][] {{"app/Main.java", MAIN.replace("call(target, i)",
                "call(target, 41)")}}, runtime.toString());
        List<String> command = ChildJvm.command(ChildJvm.agent("cache=off"));
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", classes + File.pathSeparator + runtime, "app.Main"));
        return ChildJvm.run(command).lines().filter(line -> line.startsWith("result ")).toList();
    }

    /** The same app woven in place, run without any agent. */
    private List<String> runWoven(String... options) throws Exception {
        Path runtime = ChildJvm.runtime();
        Path classes = ChildJvm.compile(work, "app", new String[][] {{"app/Main.java", MAIN.replace("call(target, i)",
                "call(target, 41)")}}, runtime.toString());
        OtherRetransformingAgentTest.weave(classes);
        List<String> command = ChildJvm.command(options);
        command.addAll(List.of("-cp", classes + File.pathSeparator + runtime, "app.Main"));
        return ChildJvm.run(command).lines().filter(line -> line.startsWith("result ")).toList();
    }

    @Test
    void withoutTheAgentTheCachesAreOffByDefault() throws Exception {
        assertEquals(List.of("result 42 called from work", "result 42 called from work", "result 42 called from work"),
                runWoven());
    }

    @Test
    void withoutTheAgentTheUserCanTurnTheCachesOn() throws Exception {
        assertEquals("result 42 called from call", runWoven("-Daioco.inlineCache=true").get(2));
    }

    @Test
    void withTheCachesOnTheCallReachesTheWovenCodeFromTheCaller() throws Exception {
        assertEquals("result 42 called from call", run().get(2), "the third call, the site's class known");
    }

    @Test
    void withTheCachesOffEveryCallGoesThroughTheWrapper() throws Exception {
        assertEquals(List.of("result 42 called from work", "result 42 called from work", "result 42 called from work"),
                run("-Daioco.inlineCache=false"));
    }
}
