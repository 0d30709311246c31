package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
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
    static final String[][] TRACER = RetransformFixture.capableAgent("Tracer", "import org.objectweb.asm.*;", """
            public static volatile boolean tracing;
            public static volatile int hits;
            public static void hit() { hits++; }
            """, """
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
            """);
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

    @Test
    void aCoroutineSuspendedInAMethodResumesAfterACapableAgentListedFirstStartsTracingIt() throws Exception {
        RetransformFixture tracer = RetransformFixture.agent(work, List.of(ChildJvm.asm()), TRACER, "spy.Tracer",
                "Can-Retransform-Classes: true", "Boot-Class-Path: ");
        // the tracer first on the command line, as APM agents ask to be
        String output = ChildJvm.run(ChildJvm.command(tracer.javaagent(), ChildJvm.agent("cache=off"),
                "-cp", tracer.classPath(tracer.app(MAIN)), "app.Main"));
        assertTrue(output.contains("tracer: traced app/Target"), output);
        assertTrue(output.contains("across: terminated=true result=101\n"), output);
        assertTrue(output.contains("fresh: result=102 enters=2 hits="), output);
    }
}
