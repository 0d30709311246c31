package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Classes woven ahead (as by the plugin), run without the aioco agent, next to another agent that
 * retransforms a woven class to stub a coroutine function in its wrapper (what JMockit's fakes, or
 * any mocking agent other than Mockito's inline mock maker, do), with neither Mockito nor Byte
 * Buddy on the class path (found by the hostile review rv13b). Nothing sees that retransformation
 * without the aioco agent, so the inline caches of virtual calls are off by default there: every
 * call, as written, runs the stub (42). With {@code -Daioco.inlineCache=true} the user states that
 * no agent retransforms woven classes; here that is untrue, and a call site whose cache took the
 * class before the retransformation keeps running the real method's woven body (4), as the README
 * says ("With Mockito (and other agents that retransform)"). A child JVM, the same in the agent
 * and woven runs: run once, in the agent run (test-suite's pom).
 */
class OtherRetransformingAgentTest {
    private static final String[][] STUBBER = RetransformFixture.capableAgent("Stubber",
            "import org.objectweb.asm.*;", "", """
            if (redefined == null || !"app/Shop".equals(name)) {
                return null;
            }
            ClassReader reader = new ClassReader(bytes);
            ClassWriter writer = new ClassWriter(reader, 0);
            reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                @Override
                public MethodVisitor visitMethod(int access, String method, String desc, String signature, String[] exceptions) {
                    MethodVisitor visitor = super.visitMethod(access, method, desc, signature, exceptions);
                    if (!method.equals("price") || !desc.equals("(I)I")) {
                        return visitor;
                    }
                    visitor.visitCode();
                    visitor.visitIntInsn(Opcodes.BIPUSH, 42);
                    visitor.visitInsn(Opcodes.IRETURN);
                    visitor.visitMaxs(1, 2);
                    visitor.visitEnd();
                    return null;
                }
            }, 0);
            System.out.println("stubbed app.Shop.price");
            return writer.toByteArray();
            """);

    private static final String SHOP = """
            package app;
            public class Shop {
                @io.aioco.CoroutineFn
                public int price(int item) {
                    System.out.println("real price ran");
                    if (item > 100) {
                        io.aioco.Coroutine.yield();
                    }
                    return item + 1;
                }
            }
            """;

    private static final String MAIN = """
            package app;
            import io.aioco.Coroutine;
            public class Main {
                static int result;
                @io.aioco.CoroutineFn
                static int call(Shop shop, int item) {
                    return shop.price(item);
                }
                static int drive(Shop shop) {
                    Coroutine co = Coroutine.create(() -> result = call(shop, 3));
                    while (!co.isTerminated()) {
                        co.enter();
                    }
                    return result;
                }
                public static void main(String[] args) throws Exception {
                    Shop shop = new Shop();
                    System.out.println("before=" + drive(shop) + "," + drive(shop));
                    spy.Stubber.instrumentation.retransformClasses(Shop.class);
                    System.out.println("plain=" + shop.price(3));
                    System.out.println("after=" + drive(shop));
                }
            }
            """;

    @TempDir
    Path work;

    @Test
    void withoutTheAgentAStubPutByAnotherRetransformingAgentIsNotSkipped() throws Exception {
        Path app = app();
        String output = ChildJvm.run(ChildJvm.command(stubber.javaagent(), "-cp", stubber.classPath(app), "app.Main"));
        assertTrue(output.contains("before=4,4\n"), output);
        // the JVM runs the retransformed wrapper: 42, and the real method does not run
        assertTrue(output.contains("stubbed app.Shop.price\nplain=42\nafter=42\n"), output);
        String off = ChildJvm.run(ChildJvm.command(stubber.javaagent(), "-Daioco.inlineCache=false", "-cp",
                stubber.classPath(app), "app.Main"));
        assertTrue(off.contains("before=4,4\n") && off.contains("stubbed app.Shop.price\nplain=42\nafter=42\n"), off);
    }

    @Test
    void withTheCachesTurnedOnTheSiteThatCachedTheClassSkipsTheStub() throws Exception {
        Path app = app();
        String output = ChildJvm.run(ChildJvm.command(stubber.javaagent(), "-Daioco.inlineCache=true", "-cp",
                stubber.classPath(app), "app.Main"));
        assertTrue(output.contains("before=4,4\n"), output);
        // the plain call (main is no coroutine function) runs the stub; the site that cached Shop
        // calls its woven body: the real method runs (the documented limit of the property)
        assertTrue(output.contains("stubbed app.Shop.price\nplain=42\nreal price ran\nafter=4\n"), output);
    }

    private RetransformFixture stubber;

    /** The stubbing agent and the app, woven in place. */
    private Path app() throws Exception {
        stubber = RetransformFixture.agent(work, List.of(ChildJvm.asm()), STUBBER, "spy.Stubber",
                "Can-Retransform-Classes: true");
        Path app = stubber.app(new String[][] {{"app/Shop.java", SHOP}, {"app/Main.java", MAIN}});
        weave(app);
        return app;
    }

    /** Weaves the app's classes in place, as the Maven plugin does. */
    static void weave(Path classes) throws Exception {
        ClassLookup lookup = ClassLookup.chain(name -> {
            Path file = classes.resolve(name + ".class");
            try {
                return Files.exists(file) ? Files.readAllBytes(file) : null;
            } catch (java.io.IOException e) {
                return null;
            }
        }, ClassLookup.ofClassLoader(OtherRetransformingAgentTest.class.getClassLoader()));
        Instrumenter instrumenter = new Instrumenter(lookup);
        List<Path> files;
        try (Stream<Path> walk = Files.walk(classes)) {
            files = walk.filter(p -> p.toString().endsWith(".class")).toList();
        }
        for (Path file : files) {
            InstrumentationResult result = instrumenter.instrument(Files.readAllBytes(file));
            assertTrue(result.diagnostics().isEmpty(), result.diagnostics().toString());
            if (result.bytes() != null) {
                Files.write(file, result.bytes());
            }
        }
    }
}
