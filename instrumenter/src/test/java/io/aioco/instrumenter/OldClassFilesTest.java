package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/** Class files older than Java 6, with JSR/RET subroutines (javac 1.4's finally), are instrumented. */
class OldClassFilesTest {

    /**
     * Java 1.4-style class implementing {@code t.IntBody}: apply(x) = x + 1, then a subroutine
     * (adds 10), a yield, the subroutine again, and returns; so apply(1) = 22 after one yield.
     */
    private static byte[] jsrClass() {
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        writer.visit(Opcodes.V1_4, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "t/Jsr", null, "java/lang/Object",
                new String[] {"t/IntBody"});
        MethodVisitor init = writer.visitMethod(Opcodes.ACC_PUBLIC, "<init>", "()V", null, null);
        init.visitCode();
        init.visitVarInsn(Opcodes.ALOAD, 0);
        init.visitMethodInsn(Opcodes.INVOKESPECIAL, "java/lang/Object", "<init>", "()V", false);
        init.visitInsn(Opcodes.RETURN);
        init.visitMaxs(0, 0);
        init.visitEnd();
        MethodVisitor apply = writer.visitMethod(Opcodes.ACC_PUBLIC, "apply", "(I)I", null, null);
        apply.visitCode();
        Label subroutine = new Label();
        apply.visitVarInsn(Opcodes.ILOAD, 1);
        apply.visitInsn(Opcodes.ICONST_1);
        apply.visitInsn(Opcodes.IADD);
        apply.visitVarInsn(Opcodes.ISTORE, 1);
        apply.visitJumpInsn(Opcodes.JSR, subroutine);
        apply.visitMethodInsn(Opcodes.INVOKESTATIC, "io/aioco/Coroutine", "yield", "()V", false);
        apply.visitJumpInsn(Opcodes.JSR, subroutine);
        apply.visitVarInsn(Opcodes.ILOAD, 1);
        apply.visitInsn(Opcodes.IRETURN);
        apply.visitLabel(subroutine);
        apply.visitVarInsn(Opcodes.ASTORE, 2);
        apply.visitIincInsn(1, 10);
        apply.visitVarInsn(Opcodes.RET, 2);
        apply.visitMaxs(0, 0);
        apply.visitEnd();
        writer.visitEnd();
        return writer.toByteArray();
    }

    @Test
    void jsrSubroutinesAreInlinedAndTheMethodSuspends() {
        Map<String, byte[]> classes = TestCompiler.compile(Map.of(
                "t.IntBody", Fixtures.HEADER + "public interface IntBody { @CoroutineFn int apply(int x); }",
                "t.Driver", Fixtures.DRIVER,
                "t.RunJsr", Fixtures.HEADER + """
                        public class RunJsr {
                            public static Object run() throws Exception {
                                IntBody body = (IntBody) Class.forName("t.Jsr").getDeclaredConstructor().newInstance();
                                return Driver.drive(() -> Driver.log("result " + body.apply(1)));
                            }
                        }
                        """));
        classes.put("t/Jsr", jsrClass());
        InstrumentingLoader loader = new InstrumentingLoader(classes);
        assertEquals("|,result 22", loader.callStatic("t.RunJsr", "run"));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, loader.results().get("t/Jsr").outcome());
    }
}
