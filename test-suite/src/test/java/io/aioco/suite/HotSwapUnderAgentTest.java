package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
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
    private static final String TARGET_EDITED = TARGET
            .replace("""
                            return base + x;
                    """, """
                            int doubled = 2 * x;
                            io.aioco.Coroutine.yield();
                            return base + doubled;
                    """)
            .replace("return target.work(target.work(x));", "return target.work(x) + target.work(x);");
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
                    spy.Keeper.instrumentation.redefineClasses(new ClassDefinition(Target.class, edited));
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
                    spy.Keeper.instrumentation.redefineClasses(new ClassDefinition(Target.class, edited));
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
                    spy.Keeper.instrumentation.redefineClasses(new ClassDefinition(Payment.class, edited));
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
        String output = runHotSwapping("cache=off", new String[][] {{"app/Payment.java", PAYMENT},
                {"app/PaymentMain.java", PAYMENT_MAIN}}, "app.PaymentMain", "app/Payment.java", PAYMENT_EDITED);
        assertTrue(output.contains("v1 charge 7\n"), output);
        assertFalse(output.contains("v2 charge 7"), "the suspended payment is not charged again:\n" + output);
        assertFalse(output.contains("resumed into the new body"), output);
        assertTrue(output.contains("refused: ") && output.contains("app.Payment.pay(I)V")
                && output.contains("redefined while a coroutine was suspended in it"), output);
        assertTrue(output.contains("v2 check 8\nv2 charge 8\nv2 receipt 8"), "a new call runs the new body:\n" + output);
    }

    /**
     * A virtual call from another class, whose inline cache found Target's woven method before the
     * redefinition (CoLinker.linkVirtual): after it, the same call site runs the new body, which
     * yields twice.
     */
    @Test
    void aVirtualCallCachedBeforeARedefinitionRunsTheNewBody() throws Exception {
        String output = runHotSwapping("cache=off", new String[][] {{"app/Target.java", TARGET},
                {"app/VirtualMain.java", VIRTUAL_MAIN}}, "app.VirtualMain", "app/Target.java", TARGET_EDITED);
        // before: work(work(1)) = 100 + (100 + 1), one yield each; after: 100 + 2 * (100 + 2 * 1), two each
        assertTrue(output.contains("before: result=201 enters=3"), output);
        assertTrue(output.contains("after: result=304 enters=5"), output);
    }

    @Test
    void aRedefinitionOfAWovenClassIsWovenAndItsNewBodyRunsAsACoroutine() throws Exception {
        String output = runHotSwapping("verbose,cache=off", new String[][] {{"app/Target.java", TARGET},
                {"app/Main.java", MAIN}}, "app.Main", "app/Target.java", TARGET_EDITED);
        // before: work(work(1)) = 100 + (100 + 1), one yield each; after: work(1) + work(1), two each
        assertTrue(output.contains("before: result=201 enters=3"), output);
        assertTrue(output.contains("after: result=204 enters=5"), output);
        assertTrue(output.contains("instrumented app.Target (a redefinition)"), output);
    }

    /**
     * Runs the app, from a jar, under aioco's agent then one that keeps its {@code Instrumentation}
     * (for the app's redefinition), with the edited class's file as the program's argument.
     *
     * @param app the app's sources
     * @param editedPath the path below the source folder of the class the app redefines
     * @param edited that class's new source
     * @return the child's output
     */
    private String runHotSwapping(String aiocoOptions, String[][] app, String mainClass, String editedPath,
            String edited) throws Exception {
        RetransformFixture swap = RetransformFixture.agent(work, RetransformFixture.KEEPER, "spy.Keeper",
                "Can-Redefine-Classes: true");
        Path appJar = ChildJvm.jar(work.resolve("app.jar"), swap.app(app), null);
        return ChildJvm.run(ChildJvm.command(
                ChildJvm.agent(aiocoOptions),
                swap.javaagent(), "-cp", appJar + File.pathSeparator + ChildJvm.runtime(), mainClass,
                swap.edited(editedPath, edited)));
    }
}
