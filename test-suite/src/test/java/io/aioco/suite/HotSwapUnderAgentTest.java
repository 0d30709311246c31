package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A debugger's hot swap of a woven class, in a JVM started with the aioco agent and a second, tiny
 * agent that only keeps its {@code Instrumentation} (what a debugger's {@code redefineClasses}
 * goes through): the redefinition succeeds (unwoven, the new bytes lack the woven class's methods
 * and the JVM refuses them: "attempted to delete a method"), and the new body runs as a coroutine
 * function, suspending where it now yields.
 */
class HotSwapUnderAgentTest {
    private static final String[][] SWAP_AGENT = {
        {"swap/SwapAgent.java", """
                package swap;
                public final class SwapAgent {
                    public static volatile java.lang.instrument.Instrumentation instrumentation;
                    public static void premain(String arguments, java.lang.instrument.Instrumentation given) {
                        instrumentation = given;
                    }
                }
                """},
    };
    private static final String TARGET = """
            package app;
            public class Target {
                private final int base;
                public Target(int base) { this.base = base; }
                @io.aioco.CoroutineFn
                public int work(int x) {
                    io.aioco.Coroutine.yield();
                    return base + x;
                }
                @io.aioco.CoroutineFn
                public static int twice(Target target, int x) { return target.work(target.work(x)); }
            }
            """;
    /** The same class, edited as in a debugging session: each body changes, no method is added. */
    private static final String TARGET_EDITED = """
            package app;
            public class Target {
                private final int base;
                public Target(int base) { this.base = base; }
                @io.aioco.CoroutineFn
                public int work(int x) {
                    io.aioco.Coroutine.yield();
                    int doubled = 2 * x;
                    io.aioco.Coroutine.yield();
                    return base + doubled;
                }
                @io.aioco.CoroutineFn
                public static int twice(Target target, int x) { return target.work(x) + target.work(x); }
            }
            """;
    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            import java.lang.instrument.ClassDefinition;
            import java.nio.file.Files;
            import java.nio.file.Path;
            public class Main {
                static int result;
                public static void main(String[] args) throws Exception {
                    System.out.println("before: " + run());
                    byte[] edited = Files.readAllBytes(Path.of(args[0]));
                    swap.SwapAgent.instrumentation.redefineClasses(new ClassDefinition(Target.class, edited));
                    System.out.println("after: " + run());
                }
                static String run() {
                    Target target = new Target(100);
                    Coroutine co = Coroutine.create(() -> result = Target.twice(target, 1));
                    int enters = 0;
                    while (!co.isTerminated()) { co.enter(); enters++; }
                    return "result=" + result + " enters=" + enters;
                }
            }
            """;

    /** Calls Target's method virtually from another class: through the inline cache of the call site. */
    private static final String VIRTUAL_MAIN = """
            package app;
            import io.aioco.Coroutine;
            import java.lang.instrument.ClassDefinition;
            import java.nio.file.Files;
            import java.nio.file.Path;
            public class VirtualMain {
                static int result;
                @io.aioco.CoroutineFn
                static int twice(Target target, int x) { return target.work(target.work(x)); }
                public static void main(String[] args) throws Exception {
                    System.out.println("before: " + run());
                    byte[] edited = Files.readAllBytes(Path.of(args[0]));
                    swap.SwapAgent.instrumentation.redefineClasses(new ClassDefinition(Target.class, edited));
                    System.out.println("after: " + run());
                }
                static String run() {
                    Target target = new Target(100);
                    Coroutine co = Coroutine.create(() -> result = twice(target, 1));
                    int enters = 0;
                    while (!co.isTerminated()) { co.enter(); enters++; }
                    return "result=" + result + " enters=" + enters;
                }
            }
            """;

    /** A payment: charged before its yield, the receipt after. */
    private static final String PAYMENT = """
            package app;
            public class Payment {
                @io.aioco.CoroutineFn
                public static void pay(int account) {
                    System.out.println("v1 charge " + account);
                    io.aioco.Coroutine.yield();
                    System.out.println("v1 receipt " + account);
                }
            }
            """;
    /** The payment edited: a check first, so its first yield now comes before the charge. */
    private static final String PAYMENT_EDITED = """
            package app;
            public class Payment {
                @io.aioco.CoroutineFn
                public static void pay(int account) {
                    System.out.println("v2 check " + account);
                    io.aioco.Coroutine.yield();
                    System.out.println("v2 charge " + account);
                    io.aioco.Coroutine.yield();
                    System.out.println("v2 receipt " + account);
                }
            }
            """;
    private static final String PAYMENT_MAIN = """
            package app;
            import io.aioco.Coroutine;
            import java.lang.instrument.ClassDefinition;
            import java.nio.file.Files;
            import java.nio.file.Path;
            public class PaymentMain {
                public static void main(String[] args) throws Exception {
                    Coroutine suspended = Coroutine.create(() -> Payment.pay(7));
                    suspended.enter();
                    byte[] edited = Files.readAllBytes(Path.of(args[0]));
                    swap.SwapAgent.instrumentation.redefineClasses(new ClassDefinition(Payment.class, edited));
                    try {
                        while (!suspended.isTerminated()) { suspended.enter(); }
                        System.out.println("resumed into the new body");
                    } catch (IllegalStateException e) {
                        System.out.println("refused: " + e.getMessage());
                    }
                    Coroutine fresh = Coroutine.create(() -> Payment.pay(8));
                    while (!fresh.isTerminated()) { fresh.enter(); }
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void aCoroutineSuspendedInARedefinedMethodIsRefusedAtResumeNotRunInTheNewBody() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path swapAgent = swapAgent(runtime);
        Path swapClasses = work.resolve("swap-classes");
        Path appClasses = ChildJvm.compile(work, "app", new String[][] {{"app/Payment.java", PAYMENT},
                {"app/PaymentMain.java", PAYMENT_MAIN}}, runtime + File.pathSeparator + swapClasses);
        Path app = ChildJvm.jar(work.resolve("app.jar"), appClasses, null);
        Path edited = ChildJvm.compile(work, "edited", new String[][] {{"app/Payment.java", PAYMENT_EDITED}}, runtime.toString());

        String output = ChildJvm.run(ChildJvm.command(
                ChildJvm.agent("cache=off"),
                "-javaagent:" + swapAgent, "-cp", app + File.pathSeparator + runtime, "app.PaymentMain",
                edited.resolve("app/Payment.class").toString()));
        assertTrue(output.contains("v1 charge 7\n"), output);
        assertFalse(output.contains("v2 charge 7"), "the suspended payment is not charged again:\n" + output);
        assertFalse(output.contains("resumed into the new body"), output);
        assertTrue(output.contains("refused: ") && output.contains("app.Payment.pay(I)V")
                && output.contains("redefined while a coroutine was suspended in it"), output);
        assertTrue(output.contains("v2 check 8\nv2 charge 8\nv2 receipt 8"), "a new call runs the new body:\n" + output);
    }

    /** @return the jar of an agent that keeps its {@code Instrumentation}, its classes in {@code swap-classes} */
    private Path swapAgent(Path runtime) throws IOException {
        Path swapClasses = ChildJvm.compile(work, "swap", SWAP_AGENT, runtime.toString());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), "swap.SwapAgent");
        manifest.getMainAttributes().put(new Attributes.Name("Can-Redefine-Classes"), "true");
        return ChildJvm.jar(work.resolve("swap.jar"), swapClasses, manifest);
    }

    /**
     * A virtual call from another class, whose inline cache found Target's woven method before the
     * redefinition (CoLinker.linkVirtual): after it, the same call site runs the new body, which
     * yields twice.
     */
    @Test
    void aVirtualCallCachedBeforeARedefinitionRunsTheNewBody() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path swapAgent = swapAgent(runtime);
        Path swapClasses = work.resolve("swap-classes");
        Path appClasses = ChildJvm.compile(work, "app", new String[][] {{"app/Target.java", TARGET},
                {"app/VirtualMain.java", VIRTUAL_MAIN}}, runtime + File.pathSeparator + swapClasses);
        Path app = ChildJvm.jar(work.resolve("app.jar"), appClasses, null);
        Path edited = ChildJvm.compile(work, "edited", new String[][] {{"app/Target.java", TARGET_EDITED}}, runtime.toString());

        String output = ChildJvm.run(ChildJvm.command(
                ChildJvm.agent("cache=off"),
                "-javaagent:" + swapAgent, "-cp", app + File.pathSeparator + runtime, "app.VirtualMain",
                edited.resolve("app/Target.class").toString()));
        // before: work(work(1)) = 100 + (100 + 1), one yield each; after: 100 + 2 * (100 + 2 * 1), two each
        assertTrue(output.contains("before: result=201 enters=3"), output);
        assertTrue(output.contains("after: result=304 enters=5"), output);
    }

    @Test
    void aRedefinitionOfAWovenClassIsWovenAndItsNewBodyRunsAsACoroutine() throws Exception {
        Path runtime = ChildJvm.runtime();
        Path swapAgent = swapAgent(runtime);
        Path swapClasses = work.resolve("swap-classes");
        Path appClasses = ChildJvm.compile(work, "app", new String[][] {{"app/Target.java", TARGET}, {"app/Main.java", MAIN}},
                runtime + File.pathSeparator + swapClasses);
        Path app = ChildJvm.jar(work.resolve("app.jar"), appClasses, null);
        Path edited = ChildJvm.compile(work, "edited", new String[][] {{"app/Target.java", TARGET_EDITED}}, runtime.toString());

        String output = ChildJvm.run(ChildJvm.command(
                ChildJvm.agent("verbose,cache=off"),
                "-javaagent:" + swapAgent, "-cp", app + File.pathSeparator + runtime, "app.Main",
                edited.resolve("app/Target.class").toString()));
        // before: work(work(1)) = 100 + (100 + 1), one yield each; after: work(1) + work(1), two each
        assertTrue(output.contains("before: result=201 enters=3"), output);
        assertTrue(output.contains("after: result=204 enters=5"), output);
        assertTrue(output.contains("instrumented app.Target (a redefinition)"), output);
    }
}
