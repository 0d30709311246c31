package io.aioco.instrumenter.analysis;

import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.tree.analysis.Frame;
import org.objectweb.asm.tree.analysis.SimpleVerifier;

/**
 * Why: saving and restoring a frame needs the verification type of every local and stack slot at
 * each suspension point, and liveness needs the control-flow graph. Both come from one run of
 * ASM's analyzer with an interpreter that answers type questions from class bytes (never loading
 * a class) and does not verify (the JVM already did, or will).
 */
public final class FrameAnalysis {
    /** Types before each instruction (null where unreachable). */
    public final Frame<BasicValue>[] frames;
    /** Successors of each instruction, exception edges included. */
    public final List<List<Integer>> successors;
    /** Successors of each instruction through normal control flow only. */
    public final List<List<Integer>> normalSuccessors;

    private FrameAnalysis(Frame<BasicValue>[] frames, List<List<Integer>> successors,
            List<List<Integer>> normalSuccessors) {
        this.frames = frames;
        this.successors = successors;
        this.normalSuccessors = normalSuccessors;
    }

    public static FrameAnalysis analyze(String owner, MethodNode method, ClassHierarchy hierarchy) {
        int size = method.instructions.size();
        List<List<Integer>> successors = new ArrayList<>(size);
        List<List<Integer>> normalSuccessors = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            successors.add(new ArrayList<>(2));
            normalSuccessors.add(new ArrayList<>(2));
        }
        Analyzer<BasicValue> analyzer = new Analyzer<>(new HierarchyInterpreter(owner, hierarchy)) {
            @Override
            protected void newControlFlowEdge(int insnIndex, int successorIndex) {
                successors.get(insnIndex).add(successorIndex);
                normalSuccessors.get(insnIndex).add(successorIndex);
            }

            @Override
            protected boolean newControlFlowExceptionEdge(int insnIndex, int successorIndex) {
                successors.get(insnIndex).add(successorIndex);
                return true;
            }
        };
        try {
            Frame<BasicValue>[] frames = analyzer.analyze(owner, method);
            return new FrameAnalysis(frames, successors, normalSuccessors);
        } catch (AnalyzerException e) {
            Throwable cause = e.getCause() instanceof InstrumentationException ? e.getCause() : e;
            throw new InstrumentationException("cannot analyze " + owner.replace('/', '.') + "."
                    + method.name + method.desc + ": " + cause.getMessage(), cause);
        }
    }

    /**
     * SimpleVerifier's type inference with the hierarchy taken from class bytes. Without
     * {@code verify} it checks nothing (inference only: the code was verified by the compiler and
     * will be by the JVM); with it, it checks assignability as the JVM's verifier does (interfaces
     * accept any reference).
     */
    public static final class HierarchyInterpreter extends SimpleVerifier {
        private static final Type OBJECT_TYPE = Type.getObjectType(ClassHierarchy.OBJECT);
        private final ClassHierarchy hierarchy;
        private final boolean verify;

        HierarchyInterpreter(String owner, ClassHierarchy hierarchy) {
            this(owner, hierarchy, false);
        }

        public HierarchyInterpreter(String owner, ClassHierarchy hierarchy, boolean verify) {
            super(Opcodes.ASM9, Type.getObjectType(owner), null, null, false);
            this.hierarchy = hierarchy;
            this.verify = verify;
        }

        @Override
        protected boolean isSubTypeOf(BasicValue value, BasicValue expected) {
            if (!verify) {
                return true;
            }
            Type expectedType = expected.getType();
            Type type = value.getType();
            if (expectedType == null || type == null) {
                return expectedType == type;
            }
            switch (expectedType.getSort()) {
                case Type.INT: case Type.FLOAT: case Type.LONG: case Type.DOUBLE:
                    return type.equals(expectedType);
                case Type.ARRAY: case Type.OBJECT:
                    if (type.equals(NULL_TYPE)) {
                        return true;
                    }
                    if (type.getSort() != Type.OBJECT && type.getSort() != Type.ARRAY) {
                        return false;
                    }
                    return isAssignableFrom(expectedType, type) || isInterface(expectedType);
                default:
                    return false;
            }
        }

        @Override
        protected boolean isInterface(Type type) {
            return type.getSort() == Type.OBJECT && hierarchy.isInterface(type.getInternalName());
        }

        @Override
        protected Type getSuperClass(Type type) {
            if (type.getSort() == Type.ARRAY) {
                return OBJECT_TYPE;
            }
            String superName = hierarchy.superName(type.getInternalName());
            return superName == null ? null : Type.getObjectType(superName);
        }

        @Override
        protected boolean isAssignableFrom(Type type1, Type type2) {
            if (type1.equals(type2) || type1.equals(OBJECT_TYPE) || type2.equals(NULL_TYPE)) {
                return true;
            }
            if (type2.getSort() == Type.ARRAY) {
                if (type1.getSort() == Type.ARRAY) {
                    Type element1 = Type.getType(type1.getDescriptor().substring(1));
                    Type element2 = Type.getType(type2.getDescriptor().substring(1));
                    boolean refs = isReference(element1) && isReference(element2);
                    return refs ? isAssignableFrom(element1, element2) : element1.equals(element2);
                }
                String name = type1.getInternalName();
                return name.equals("java/lang/Cloneable") || name.equals("java/io/Serializable");
            }
            if (type1.getSort() != Type.OBJECT || type2.getSort() != Type.OBJECT) {
                return false;
            }
            return hierarchy.isSubtype(type2.getInternalName(), type1.getInternalName());
        }

        private static boolean isReference(Type type) {
            return type.getSort() == Type.OBJECT || type.getSort() == Type.ARRAY;
        }

        @Override
        protected Class<?> getClass(Type type) {
            throw new InstrumentationException("internal: class loading requested for " + type);
        }
    }
}
