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
 * Regression (rv19 review): since aioco's transformer is retransformation-capable, a capable agent
 * listed BEFORE aioco (a tracer, an APM agent, a profiler that instruments on demand) runs before
 * aioco's weaving, at load and at every retransformation. When such an agent turns its
 * instrumentation on at run time (adds one semantically transparent static call at the entry of
 * a coroutine function) and retransforms, aioco re-weaves the changed bytes; a coroutine suspended
 * in that method can then no longer resume. On main (aioco not capable, so every capable agent saw
 * the woven class and aioco's output was replayed unchanged) the coroutine resumed.
 */
class CapableAgentBeforeAiocoTest {
    static final String[][] TRACER = {
        {"spy/Tracer.java", """
                package spy;
                import java.lang.instrument.ClassFileTransformer;
                import java.lang.instrument.Instrumentation;
                import java.security.ProtectionDomain;
                import org.objectweb.asm.*;
                public final class Tracer {
                    public static volatile Instrumentation instrumentation;
                    public static volatile boolean tracing;
                    public static volatile int hits;
                    public static void hit() { hits++; }
                    public static void premain(String arguments, Instrumentation given) {
                        instrumentation = given;
                        given.addTransformer(new ClassFileTransformer() {
                            @Override
                            public byte[] transform(ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain domain, byte[] bytes) {
                                if (!tracing || !"app/Target".equals(name)) {
                                    return null;
                                }
                                ClassReader reader = new ClassReader(bytes);
                                ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
                                reader.accept(new ClassVisitor(Opcodes.ASM9, writer) {
                                    @Override
                                    public MethodVisitor visitMethod(int access, String method, String descriptor,
                                            String signature, String[] exceptions) {
                                        MethodVisitor visitor = super.visitMethod(access, method, descriptor, signature, exceptions);
                                        if (!method.equals("work")) {
                                            return visitor;
                                        }
                                        return new MethodVisitor(Opcodes.ASM9, visitor) {
                                            @Override
                                            public void visitCode() {
                                                super.visitCode();
                                                super.visitMethodInsn(Opcodes.INVOKESTATIC, "spy/Tracer", "hit", "()V", false);
                                            }
                                        };
                                    }
                                }, 0);
                                System.out.println("tracer: traced " + name);
                                return writer.toByteArray();
                            }
                        }, true);
                    }
                }
                """},
    };
    static final String TARGET = """
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
                    spy.Tracer.tracing = true;
                    spy.Tracer.instrumentation.retransformClasses(Target.class);
                    try {
                        across.enter();
                        System.out.println("across: terminated=" + across.isTerminated() + " result=" + result);
                    } catch (Throwable t) {
                        System.out.println("across: threw " + t);
                    }
                    Coroutine fresh = Coroutine.create(() -> result = Target.work(2));
                    int enters = 0;
                    while (!fresh.isTerminated()) { fresh.enter(); enters++; }
                    System.out.println("fresh: result=" + result + " enters=" + enters + " hits=" + spy.Tracer.hits);
                }
            }
            """;

    @TempDir
    Path work;

    static String asm() {
        for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
            if (entry.matches(".*[/\\\\]asm-9[0-9.]*\\.jar")) {
                return entry;
            }
        }
        throw new AssertionError("ASM not on the test class path");
    }

    @Test
    void aCoroutineSuspendedInAMethodResumesAfterACapableAgentListedFirstStartsTracingIt() throws Exception {
        Path runtime = ChildJvm.runtime();
        String asm = asm();
        Path tracerClasses = ChildJvm.compile(work, "spy", TRACER, runtime + File.pathSeparator + asm);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), "spy.Tracer");
        manifest.getMainAttributes().put(new Attributes.Name("Can-Retransform-Classes"), "true");
        manifest.getMainAttributes().put(new Attributes.Name("Boot-Class-Path"), "");
        Path tracer = ChildJvm.jar(work.resolve("tracer.jar"), tracerClasses, manifest);
        Path app = ChildJvm.compile(work, "app", new String[][] {{"app/Target.java", TARGET}, {"app/Main.java", MAIN}},
                runtime + File.pathSeparator + tracerClasses);

        // the tracer first on the command line, as APM agents ask to be
        String output = ChildJvm.run(List.of(ChildJvm.java(), "-javaagent:" + tracer, ChildJvm.agent("cache=off"),
                "-cp", app + File.pathSeparator + runtime + File.pathSeparator + tracerClasses + File.pathSeparator + asm,
                "app.Main"));
        assertTrue(output.contains("tracer: traced app/Target"), output);
        assertTrue(output.contains("across: terminated=true result=101\n"), output);
        assertTrue(output.contains("fresh: result=102 enters=2 hits="), output);
    }
}
