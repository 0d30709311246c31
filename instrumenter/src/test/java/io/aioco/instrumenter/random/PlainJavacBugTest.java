package io.aioco.instrumenter.random;

import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import net.jqwik.api.Example;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * JDK 17's javac sometimes writes a class the JVM's verifier rejects: for a switch expression
 * whose arms yield {@code float} constants inside a try, cast to {@code int} and used as a call
 * argument (so javac keeps the operands below it in locals), it folds the cast into some arms and
 * writes {@code iconst_0; fstore} ("cannot analyze gen.Prog$1.apply: Expected F, but found I" from
 * the instrumenter, {@code VerifyError: Bad type on operand stack} from the JVM on the plain
 * class). When the plain run never reaches such a class it loaded fine, and the property blamed the
 * instrumenter. The reference side now links every class before it runs, as the instrumented side
 * does: the program is discarded as miscompiled, never reported as an instrumenter failure.
 */
class PlainJavacBugTest {

    @Example
    void aClassThePlainRunNeverReachesThatFailsVerificationIsAJavacBugNotAFinding() {
        String source = RandomProgramShapesTest.program("""
                static int f0(int x) throws Exception {
                    return x + 1;
                }
                """, "f0(1)");
        Map<String, byte[]> classes = new HashMap<>(ProgramCompiler.compile(source, 17));
        classes.put("gen/Unreached", intStoredAsFloat());
        ProgramRunner.Verdict verdict = ProgramRunner.check(source, classes, new boolean[] {true}, "--release 17");
        assertNull(verdict.failure());
        assertTrue(verdict.javacMiscompiled());
    }

    /** What javac wrote: {@code static float m() { iconst_0; fstore_0; fload_0; freturn }}. */
    private static byte[] intStoredAsFloat() {
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, "gen/Unreached", null, "java/lang/Object", null);
        MethodVisitor method = writer.visitMethod(Opcodes.ACC_STATIC, "m", "()F", null, null);
        method.visitCode();
        method.visitInsn(Opcodes.ICONST_0);
        method.visitVarInsn(Opcodes.FSTORE, 0);
        method.visitVarInsn(Opcodes.FLOAD, 0);
        method.visitInsn(Opcodes.FRETURN);
        method.visitMaxs(0, 0);
        method.visitEnd();
        writer.visitEnd();
        return writer.toByteArray();
    }
}
