package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
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
    private static final String[][] SPY_AGENT = {
        {"spy/SpyAgent.java", """
                package spy;
                import java.lang.instrument.ClassFileTransformer;
                import java.lang.instrument.Instrumentation;
                import java.security.ProtectionDomain;
                public final class SpyAgent {
                    public static volatile Instrumentation instrumentation;
                    public static void premain(String arguments, Instrumentation given) {
                        instrumentation = given;
                        given.addTransformer(new ClassFileTransformer() {
                            @Override
                            public byte[] transform(ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain domain, byte[] bytes) {
                                if ("app/Target".equals(name)) {
                                    boolean woven = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)
                                            .contains("io/aioco/internal/CoStack");
                                    System.out.println("spy: " + (redefined == null ? "load" : "retransform")
                                            + (woven ? " woven" : " not woven"));
                                }
                                return null;
                            }
                        }, true);
                    }
                }
                """},
    };
    private static final String TARGET = """
            package app;
            public class Target {
                @io.aioco.CoroutineFn
                public static int work(int x) {
                    io.aioco.Coroutine.yield();
                    return 100 + x;
                }
            }
            """;
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
        Path runtime = ChildJvm.runtime();
        Path spyClasses = ChildJvm.compile(work, "spy", SPY_AGENT, runtime.toString());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), "spy.SpyAgent");
        manifest.getMainAttributes().put(new Attributes.Name("Can-Retransform-Classes"), "true");
        Path spy = ChildJvm.jar(work.resolve("spy.jar"), spyClasses, manifest);
        Path app = ChildJvm.compile(work, "app", new String[][] {{"app/Target.java", TARGET}, {"app/Main.java", MAIN}},
                runtime + File.pathSeparator + spyClasses);

        String output = ChildJvm.run(ChildJvm.command(ChildJvm.agent("cache=off"), "-javaagent:" + spy,
                "-cp", app + File.pathSeparator + runtime + File.pathSeparator + spyClasses, "app.Main"));
        assertTrue(output.contains("spy: load woven\nspy: retransform woven\n"), output);
        assertTrue(output.contains("across: terminated=true result=101\n"), output);
        assertTrue(output.contains("fresh: result=102 enters=2\n"), output);
    }
}
