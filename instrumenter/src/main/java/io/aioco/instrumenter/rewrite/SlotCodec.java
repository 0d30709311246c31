package io.aioco.instrumenter.rewrite;

import io.aioco.instrumenter.InstrumentationException;
import io.aioco.instrumenter.classfile.RuntimeNames;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.InsnList;
import org.objectweb.asm.tree.InsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.TypeInsnNode;
import org.objectweb.asm.tree.VarInsnNode;
import org.objectweb.asm.tree.analysis.BasicInterpreter;
import org.objectweb.asm.tree.analysis.BasicValue;

/**
 * Why: each kind of slot (int-like, float, long, double, reference, the null constant) is loaded,
 * stored, saved and restored with its own instructions; this is the one place that knows which.
 */
final class SlotCodec {
    private SlotCodec() {}

    /** The kinds of slot the frame storage knows. */
    enum Kind { INT, FLOAT, LONG, DOUBLE, REFERENCE, NULL }

    static Kind kindOf(BasicValue value, String where) {
        Type type = value.getType();
        if (type == null) {
            throw new InstrumentationException("internal: uninitialized slot saved in " + where);
        }
        switch (type.getSort()) {
            case Type.BOOLEAN: case Type.CHAR: case Type.BYTE: case Type.SHORT: case Type.INT:
                return Kind.INT;
            case Type.FLOAT:
                return Kind.FLOAT;
            case Type.LONG:
                return Kind.LONG;
            case Type.DOUBLE:
                return Kind.DOUBLE;
            case Type.ARRAY:
                return Kind.REFERENCE;
            case Type.OBJECT:
                if (type.equals(BasicInterpreter.NULL_TYPE)) {
                    return Kind.NULL;
                }
                return Kind.REFERENCE;
            default:
                throw new InstrumentationException("cannot save a " + value + " slot in " + where
                        + " (a JSR return address?)");
        }
    }

    static int size(Kind kind) {
        return kind == Kind.LONG || kind == Kind.DOUBLE ? 2 : 1;
    }

    static AbstractInsnNode load(Kind kind, int local) {
        return new VarInsnNode(opcode(kind, Opcodes.ILOAD), local);
    }

    static AbstractInsnNode store(Kind kind, int local) {
        return new VarInsnNode(opcode(kind, Opcodes.ISTORE), local);
    }

    private static int opcode(Kind kind, int intOpcode) {
        switch (kind) {
            case INT: return intOpcode;
            case LONG: return intOpcode + 1;
            case FLOAT: return intOpcode + 2;
            case DOUBLE: return intOpcode + 3;
            default: return intOpcode + 4;
        }
    }

    /** Emits: stack.pushX(value on top of the operand stack is NOT consumed; takes it from a local). */
    static void save(InsnList out, int stackLocal, Kind kind, int local) {
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        out.add(load(kind, local));
        out.add(push(kind));
    }

    static MethodInsnNode push(Kind kind) {
        switch (kind) {
            case INT: return call(RuntimeNames.PUSH_INT, RuntimeNames.PUSH_INT_DESC);
            case FLOAT: return call(RuntimeNames.PUSH_FLOAT, RuntimeNames.PUSH_FLOAT_DESC);
            case LONG: return call(RuntimeNames.PUSH_LONG, RuntimeNames.PUSH_LONG_DESC);
            case DOUBLE: return call(RuntimeNames.PUSH_DOUBLE, RuntimeNames.PUSH_DOUBLE_DESC);
            default: return call(RuntimeNames.PUSH_REF, RuntimeNames.PUSH_REF_DESC);
        }
    }

    /** Emits: the value popped from the frame storage, cast to its type, on the operand stack. */
    static void restore(InsnList out, int stackLocal, Kind kind, BasicValue value) {
        if (kind == Kind.NULL) {
            out.add(new InsnNode(Opcodes.ACONST_NULL));
            return;
        }
        out.add(new VarInsnNode(Opcodes.ALOAD, stackLocal));
        switch (kind) {
            case INT: out.add(call(RuntimeNames.POP_INT, RuntimeNames.POP_INT_DESC)); break;
            case FLOAT: out.add(call(RuntimeNames.POP_FLOAT, RuntimeNames.POP_FLOAT_DESC)); break;
            case LONG: out.add(call(RuntimeNames.POP_LONG, RuntimeNames.POP_LONG_DESC)); break;
            case DOUBLE: out.add(call(RuntimeNames.POP_DOUBLE, RuntimeNames.POP_DOUBLE_DESC)); break;
            default:
                out.add(call(RuntimeNames.POP_REF, RuntimeNames.POP_REF_DESC));
                Type type = value.getType();
                if (!type.getDescriptor().equals("Ljava/lang/Object;")) {
                    out.add(new TypeInsnNode(Opcodes.CHECKCAST,
                            type.getSort() == Type.ARRAY ? type.getDescriptor() : type.getInternalName()));
                }
        }
    }

    /** Emits a dummy value of the given type (the argument of a call re-made to resume its callee). */
    static AbstractInsnNode zero(Type type) {
        switch (type.getSort()) {
            case Type.BOOLEAN: case Type.CHAR: case Type.BYTE: case Type.SHORT: case Type.INT:
                return new InsnNode(Opcodes.ICONST_0);
            case Type.FLOAT:
                return new InsnNode(Opcodes.FCONST_0);
            case Type.LONG:
                return new InsnNode(Opcodes.LCONST_0);
            case Type.DOUBLE:
                return new InsnNode(Opcodes.DCONST_0);
            default:
                return new InsnNode(Opcodes.ACONST_NULL);
        }
    }

    /** Emits the return of a dummy value of the method's return type. */
    static void returnDummy(InsnList out, Type returnType) {
        if (returnType.getSort() == Type.VOID) {
            out.add(new InsnNode(Opcodes.RETURN));
            return;
        }
        out.add(zero(returnType));
        out.add(new InsnNode(returnType.getOpcode(Opcodes.IRETURN)));
    }

    private static MethodInsnNode call(String name, String desc) {
        return new MethodInsnNode(Opcodes.INVOKEVIRTUAL, RuntimeNames.STACK, name, desc, false);
    }
}
