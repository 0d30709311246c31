package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
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
                        spy.Keeper.instrumentation.retransformClasses(Target.class, Main.class);
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
        RetransformFixture other = RetransformFixture.agent(work, RetransformFixture.KEEPER, "spy.Keeper",
                "Can-Retransform-Classes: true");
        String output = ChildJvm.run(ChildJvm.command("-Djdk.attach.allowAttachSelf=true", other.javaagent(),
                "-cp", other.classPath(other.app(MAIN)), "app.Main", System.getProperty("aioco.agent.jar")));
        assertTrue(output.contains("retransform: ok\n"), output);
    }
}
