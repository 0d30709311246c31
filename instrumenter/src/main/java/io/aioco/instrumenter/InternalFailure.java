package io.aioco.instrumenter;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.util.Textifier;
import org.objectweb.asm.util.TraceMethodVisitor;

/**
 * The one place where an unexpected exception from a pass (a bug of the instrumenter, not a
 * property of the input: those are {@link InstrumentationException}s or refusals) becomes the
 * {@link InstrumentationException} that {@link Instrumenter#instrument(byte[])} reports, so that a
 * bug report carries what is needed to reproduce it: the class, the method and its descriptor, the
 * instruction the pass was at (when an ASM analyzer names it), where it was thrown, and with
 * {@link Instrumenter.Options#verbose()} the method's original code as text (ASM's
 * {@link Textifier}) and the stack trace. The cause stays chained. Kotlin's compiler wraps its
 * back end's failures the same way. No QEMU counterpart. Stateless; called on the instrumenting
 * thread.
 */
final class InternalFailure {
    private InternalFailure() {}

    /**
     * @param className the class, in internal form
     * @param name the method's name
     * @param desc the method's descriptor, as read (the rewrite changes it)
     * @param method the method being rewritten when {@code cause} was thrown, as the passes left it
     * @param reader the class as it was read (the method's original code is read again from it)
     * @param cause what a pass threw
     * @param verbose whether to add the method's original code and the stack trace
     * @return the exception to report, with {@code cause} as its cause
     */
    static InstrumentationException inMethod(String className, String name, String desc, MethodNode method,
            ClassReader reader, Throwable cause, boolean verbose) {
        StringBuilder message = new StringBuilder("cannot instrument: internal error in ")
                .append(className.replace('/', '.')).append('.').append(name).append(desc);
        AbstractInsnNode at = failedInstruction(cause);
        int index = indexIn(method, at);
        if (index >= 0) {
            message.append(" at instruction ").append(index).append(" of the code being rewritten (").append(text(at))
                    .append(')');
        }
        message.append(": ").append(cause).append(thrownAt(cause));
        if (verbose) {
            MethodNode original = original(reader, name, desc);
            if (original != null) {
                message.append("\nthe method as read:\n").append(text(original));
            }
            message.append("\n").append(stackTrace(cause));
        }
        return new InstrumentationException(message.toString(), cause);
    }

    /**
     * @param className the class, in internal form, or null when it could not be read
     * @param cause what the instrumenter threw outside any one method's rewrite
     * @param verbose whether to add the stack trace
     * @return the message of the FAILED result
     */
    static String inClass(String className, Throwable cause, boolean verbose) {
        if (className == null) {
            return "cannot instrument: " + cause; // NOTE: an unreadable class file: the input, not a bug
        }
        return "cannot instrument: " + cause + thrownAt(cause) + (verbose ? "\n" + stackTrace(cause) : "");
    }

    /** @return the instruction an ASM analyzer failed at, from {@code cause} or its causes, or null */
    private static AbstractInsnNode failedInstruction(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof AnalyzerException analyzer && analyzer.node != null) {
                return analyzer.node;
            }
        }
        return null;
    }

    /** @return the index of {@code insn} in {@code method}'s code, or -1 (ASM's indexOf trusts a node of another list) */
    private static int indexIn(MethodNode method, AbstractInsnNode insn) {
        if (insn == null) {
            return -1;
        }
        int index = 0;
        for (AbstractInsnNode node = method.instructions.getFirst(); node != null; node = node.getNext(), index++) {
            if (node == insn) {
                return index;
            }
        }
        return -1;
    }

    /** @return " (thrown at Class.method(File.java:LINE))", or "" without a stack trace */
    private static String thrownAt(Throwable cause) {
        StackTraceElement[] trace = cause.getStackTrace();
        return trace.length == 0 ? "" : " (thrown at " + trace[0] + ")";
    }

    private static String stackTrace(Throwable cause) {
        StringWriter out = new StringWriter();
        cause.printStackTrace(new PrintWriter(out));
        return out.toString().stripTrailing();
    }

    private static MethodNode original(ClassReader reader, String name, String desc) {
        try {
            ClassNode owner = new ClassNode();
            reader.accept(owner, ClassReader.SKIP_FRAMES);
            for (MethodNode method : owner.methods) {
                if (method.name.equals(name) && method.desc.equals(desc)) {
                    return method;
                }
            }
        } catch (RuntimeException e) {
            // NOTE: it was read once already; if it cannot be now, the report goes without the text
        }
        return null;
    }

    private static String text(MethodNode method) {
        Textifier textifier = new Textifier();
        method.accept(new TraceMethodVisitor(textifier));
        return print(textifier);
    }

    private static String text(AbstractInsnNode insn) {
        Textifier textifier = new Textifier();
        insn.accept(new TraceMethodVisitor(textifier));
        return print(textifier).strip();
    }

    private static String print(Textifier textifier) {
        StringWriter out = new StringWriter();
        textifier.print(new PrintWriter(out));
        return out.toString().stripTrailing();
    }
}
