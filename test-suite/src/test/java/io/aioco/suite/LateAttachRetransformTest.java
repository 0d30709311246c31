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
 * Regression (rv19 review): aioco's agent attached to a running JVM (agentmain) weaves only classes
 * loaded after it ("Only classes loaded after this are instrumented"). Since its transformer is
 * retransformation-capable, a retransformation by ANY other agent of a class loaded before the
 * attach that has a {@code @CoroutineFn} method now calls aioco, which weaves it (adds methods),
 * and the JVM refuses the whole retransformation ({@code UnsupportedOperationException: class
 * redefinition failed: attempted to add a method}). The other agent's retransformation (of all
 * the classes of the call, retransformClasses is all or nothing) fails because aioco is attached.
 * On main (transformer not capable, not called on retransformation) it succeeded.
 */
class LateAttachRetransformTest {
    private static final String[][] OTHER_AGENT = {
        {"spy/Other.java", """
                package spy;
                import java.lang.instrument.Instrumentation;
                public final class Other {
                    public static volatile Instrumentation instrumentation;
                    public static void premain(String arguments, Instrumentation given) {
                        instrumentation = given;
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
            public class Main {
                public static void main(String[] args) throws Exception {
                    Target.class.getName(); // loaded before aioco's agent is attached
                    com.sun.tools.attach.VirtualMachine vm =
                            com.sun.tools.attach.VirtualMachine.attach(String.valueOf(ProcessHandle.current().pid()));
                    vm.loadAgent(args[0], "cache=off");
                    vm.detach();
                    try {
                        // what a profiler or APM agent does to classes already loaded
                        spy.Other.instrumentation.retransformClasses(Target.class, Main.class);
                        System.out.println("retransform: ok");
                    } catch (Throwable t) {
                        System.out.println("retransform: threw " + t);
                    }
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void anotherAgentCanStillRetransformAClassLoadedBeforeAiocoWasAttached() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path otherClasses = ChildJvm.compile(work, "spy", OTHER_AGENT, runtime.toString());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), "spy.Other");
        manifest.getMainAttributes().put(new Attributes.Name("Can-Retransform-Classes"), "true");
        Path other = ChildJvm.jar(work.resolve("other.jar"), otherClasses, manifest);
        Path app = ChildJvm.compile(work, "app", new String[][] {{"app/Target.java", TARGET}, {"app/Main.java", MAIN}},
                runtime + File.pathSeparator + otherClasses);
        String output = ChildJvm.run(List.of(ChildJvm.java(), "-Djdk.attach.allowAttachSelf=true", "-javaagent:" + other,
                "-cp", app + File.pathSeparator + runtime + File.pathSeparator + otherClasses, "app.Main",
                System.getProperty("aioco.agent.jar")));
        assertTrue(output.contains("retransform: ok\n"), output);
    }
}
