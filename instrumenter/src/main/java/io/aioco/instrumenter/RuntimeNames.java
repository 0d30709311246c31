package io.aioco.instrumenter;

/**
 * Every owner, method name and descriptor of the aioco runtime that rewritten code refers to. The
 * instrumenter does not depend on the runtime at compile time; a test checks each name here
 * against the runtime by reflection.
 */
public final class RuntimeNames {
    private RuntimeNames() {}

    /** The marker annotation, as a descriptor. */
    static final String COROUTINE_FN_DESC = "Lio/aioco/CoroutineFn;";
    /**
     * Class-level marker that the instrumenter puts on every class it rewrote (invisible at run
     * time), with the protocol version as its {@code version} element (read by {@link WovenMarker}).
     */
    static final String INSTRUMENTED_DESC = "Lio/aioco/internal/Instrumented;";
    /**
     * The version of the protocol between woven classes: bump it with every change to what woven
     * classes expect of each other (body descriptors, signals, tokens, frame layout). A class woven
     * with another version is never taken as woven (see {@link WovenMarker}). 1 was the marker
     * without a version.
     */
    static final int PROTOCOL_VERSION = 3;
    /** Package prefix of the runtime: its classes are never instrumented. */
    static final String RUNTIME_PACKAGE = "io/aioco/";

    static final String COROUTINE = "io/aioco/Coroutine";
    static final String YIELD = "yield";
    static final String YIELD_DESC = "()V";

    public static final String STACK = "io/aioco/internal/CoStack";
    static final String STACK_DESC = "Lio/aioco/internal/CoStack;";
    /**
     * The parameters a body takes after the original ones: the running coroutine's stack, and the
     * caller's signal (0 for a fresh call, {@code token | RESUME} to resume).
     */
    static final String BODY_PARAMETERS = STACK_DESC + "I";
    static final String SIGNAL = "signal";
    static final String SIGNAL_DESC = "I";
    /** Signal bit that asks a callee to resume; also the value a suspending callee leaves. */
    static final int RESUME = 2;
    static final int SUSPEND = 2;

    /** The exact method a caller armed the signal for: its name and descriptor, an interned string. */
    static final String CALLEE = "callee";
    static final String CALLEE_DESC = "Ljava/lang/String;";
    /** The receiver of the armed call, or the declaring class for a statically bound one. */
    static final String RECEIVER = "receiver";
    static final String RECEIVER_DESC = "Ljava/lang/Object;";
    /** A wrapper's exact check of a signal it found set. */
    static final String ADMIT = "admit";
    static final String ADMIT_DESC = "(ILjava/lang/Object;Ljava/lang/Class;Ljava/lang/String;)I";
    /** A lambda body's wrapper's check of a signal armed for the interface method it implements. */
    static final String ADMIT_LAMBDA = "admitLambda";
    static final String ADMIT_LAMBDA_DESC = "(ILjava/lang/Class;Ljava/lang/String;)I";

    static final String ENTER = "enter";
    static final String ENTER_DESC = "(Ljava/lang/String;)Lio/aioco/internal/CoStack;";
    static final String CROSSED = "crossedUninstrumented";
    static final String CORRUPT = "corrupt";
    static final String ERROR_DESC = "(Ljava/lang/String;)Ljava/lang/IllegalStateException;";

    static final String LINKER = "io/aioco/internal/CoLinker";
    static final String LINK = "link";
    static final String LINK_DESC = "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;"
            + "Ljava/lang/invoke/MethodType;Ljava/lang/Class;I)Ljava/lang/invoke/CallSite;";

    static final String PUSH_INT = "pushInt";
    static final String PUSH_INT_DESC = "(I)V";
    static final String PUSH_FLOAT = "pushFloat";
    static final String PUSH_FLOAT_DESC = "(F)V";
    static final String PUSH_LONG = "pushLong";
    static final String PUSH_LONG_DESC = "(J)V";
    static final String PUSH_DOUBLE = "pushDouble";
    static final String PUSH_DOUBLE_DESC = "(D)V";
    static final String PUSH_REF = "pushRef";
    static final String PUSH_REF_DESC = "(Ljava/lang/Object;)V";
    static final String POP_INT = "popInt";
    static final String POP_INT_DESC = "()I";
    static final String POP_FLOAT = "popFloat";
    static final String POP_FLOAT_DESC = "()F";
    static final String POP_LONG = "popLong";
    static final String POP_LONG_DESC = "()J";
    static final String POP_DOUBLE = "popDouble";
    static final String POP_DOUBLE_DESC = "()D";
    static final String POP_REF = "popRef";
    static final String POP_REF_DESC = "()Ljava/lang/Object;";

    /**
     * The token of a method (see {@code CoStack.token}): the same computation as the runtime's.
     *
     * @param name method name
     * @param descriptor method descriptor
     * @return an odd int
     */
    static int token(String name, String descriptor) {
        return ((name.hashCode() * 31 + descriptor.hashCode()) << 2) | 1;
    }
}
