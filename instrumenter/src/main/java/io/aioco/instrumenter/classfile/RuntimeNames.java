package io.aioco.instrumenter.classfile;

import io.aioco.instrumenter.WovenMarker;

/**
 * Every owner, method name and descriptor of the aioco runtime that rewritten code refers to. The
 * instrumenter does not depend on the runtime at compile time; a test checks each name here
 * against the runtime by reflection.
 */
public final class RuntimeNames {
    private RuntimeNames() {}

    /** The marker annotation, as a descriptor. */
    public static final String COROUTINE_FN_DESC = "Lio/aioco/CoroutineFn;";
    /**
     * Class-level marker that the instrumenter puts on every class it rewrote (invisible at run
     * time), with the protocol version as its {@code version} element (read by {@link WovenMarker}).
     */
    public static final String INSTRUMENTED_DESC = "Lio/aioco/internal/Instrumented;";
    /**
     * The version of the protocol between woven classes: bump it with every change to what woven
     * classes expect of each other (body descriptors, signals, tokens, frame layout). A class woven
     * with another version is never taken as woven (see {@link WovenMarker}). 1 was the marker
     * without a version; 4 gave the wrappers of methods that may hide a package-private method of
     * another package the exact check {@link #ADMIT_EXACT} (a class woven by 3 lacks it: it is
     * refused, as a class of any other version is); 5 calls a static coroutine function of another
     * class woven alike with a plain {@code invokestatic} of its fresh body, which a refused static
     * method therefore has too (throwing its refusal; a class woven by 4 lacks it).
     */
    public static final int PROTOCOL_VERSION = 5;
    /** Package prefix of the runtime: its classes are never instrumented. */
    public static final String RUNTIME_PACKAGE = "io/aioco/";

    public static final String COROUTINE = "io/aioco/Coroutine";
    public static final String YIELD = "yield";
    public static final String YIELD_DESC = "()V";

    public static final String STACK = "io/aioco/internal/CoStack";
    public static final String STACK_DESC = "Lio/aioco/internal/CoStack;";
    /**
     * The parameters a body takes after the original ones: the running coroutine's stack, and the
     * caller's signal (0 for a fresh call, {@code token | RESUME} to resume).
     */
    public static final String BODY_PARAMETERS = STACK_DESC + "I";
    public static final String SIGNAL = "signal";
    public static final String SIGNAL_DESC = "I";
    /** Signal bit that asks a callee to resume; also the value a suspending callee leaves. */
    public static final int RESUME = 2;
    public static final int SUSPEND = 2;

    /** The exact method a caller armed the signal for: its name and descriptor, an interned string. */
    public static final String CALLEE = "callee";
    public static final String CALLEE_DESC = "Ljava/lang/String;";
    /** The receiver of the armed call, or the declaring class for a statically bound one. */
    public static final String RECEIVER = "receiver";
    public static final String RECEIVER_DESC = "Ljava/lang/Object;";
    /** A wrapper's exact check of a signal it found set. */
    public static final String ADMIT = "admit";
    public static final String ADMIT_DESC = "(ILjava/lang/Object;Ljava/lang/Class;Ljava/lang/String;)I";
    /**
     * The exact check of a wrapper whose method may hide a package-private method of another
     * package (see {@code ClassHierarchy.mayHidePackagePrivate}): {@link #ADMIT} without its fast
     * path for a receiver of the declaring class. Same descriptor.
     */
    public static final String ADMIT_EXACT = "admitExact";
    /** A lambda body's wrapper's check of a signal armed for the interface method it implements. */
    public static final String ADMIT_LAMBDA = "admitLambda";
    public static final String ADMIT_LAMBDA_DESC = "(ILjava/lang/Class;Ljava/lang/String;)I";

    public static final String ENTER = "enter";
    public static final String ENTER_DESC = "(Ljava/lang/String;)Lio/aioco/internal/CoStack;";
    public static final String CROSSED = "crossedUninstrumented";
    public static final String CORRUPT = "corrupt";
    public static final String ERROR_DESC = "(Ljava/lang/String;)Ljava/lang/IllegalStateException;";

    /**
     * The registry of the frame tables (suspension point to source line and saved slots) that a
     * woven class's static initializer hands over, one string per call (see {@code FrameTables}).
     * Not part of the calling protocol: a class woven without them calls and is called as before,
     * only a coroutine dump cannot describe its frames.
     */
    public static final String TABLES = "io/aioco/internal/CoTables";
    public static final String REGISTER = "register";
    public static final String REGISTER_DESC = "(Ljava/lang/String;)V";

    public static final String LINKER = "io/aioco/internal/CoLinker";
    /**
     * The bootstrap of the dynamic constant (an {@code Object}: the callee's class, or null) that guards a plain call of another
     * class's fresh body: whether that class has it (see {@code LocalDirectCalls}).
     */
    public static final String HAS_BODY = "hasBody";
    public static final String HAS_BODY_DESC = "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;"
            + "Ljava/lang/Class;Ljava/lang/Class;Ljava/lang/invoke/MethodType;)Ljava/lang/Object;";
    public static final String LINK = "link";
    public static final String LINK_DESC = "(Ljava/lang/invoke/MethodHandles$Lookup;Ljava/lang/String;"
            + "Ljava/lang/invoke/MethodType;Ljava/lang/Class;I)Ljava/lang/invoke/CallSite;";

    /**
     * The bootstrap of a fresh virtual or interface call: an inline cache that calls the fresh body
     * of the method the receiver's class selects, or leaves {@link #NOT_SELECTED} (same descriptor
     * as {@link #LINK}).
     */
    public static final String LINK_VIRTUAL = "linkVirtual";
    /** The signal left by a virtual call's inline cache that did not call: make the call as written. */
    public static final int NOT_SELECTED = 4;
    /**
     * {@code CoLinker.retransformed(Class)}: the agent tells the runtime that another agent
     * retransformed a woven class, whose inline caches then take the call as written.
     */
    public static final String RETRANSFORMED = "retransformed";
    public static final String RETRANSFORMED_DESC = "(Ljava/lang/Class;)V";
    /** The system property the agent sets (to "true") when it watches retransformations (CoLinker's). */
    public static final String RETRANSFORM_WATCH_PROPERTY = "aioco.agent.watchesRetransformation";

    public static final String PUSH_INT = "pushInt";
    public static final String PUSH_INT_DESC = "(I)V";
    public static final String PUSH_FLOAT = "pushFloat";
    public static final String PUSH_FLOAT_DESC = "(F)V";
    public static final String PUSH_LONG = "pushLong";
    public static final String PUSH_LONG_DESC = "(J)V";
    public static final String PUSH_DOUBLE = "pushDouble";
    public static final String PUSH_DOUBLE_DESC = "(D)V";
    public static final String PUSH_REF = "pushRef";
    public static final String PUSH_REF_DESC = "(Ljava/lang/Object;)V";
    public static final String POP_INT = "popInt";
    public static final String POP_INT_DESC = "()I";
    public static final String POP_FLOAT = "popFloat";
    public static final String POP_FLOAT_DESC = "()F";
    public static final String POP_LONG = "popLong";
    public static final String POP_LONG_DESC = "()J";
    public static final String POP_DOUBLE = "popDouble";
    public static final String POP_DOUBLE_DESC = "()D";
    public static final String POP_REF = "popRef";
    public static final String POP_REF_DESC = "()Ljava/lang/Object;";

    /**
     * The token of a method (see {@code CoStack.token}): the same computation as the runtime's.
     *
     * @param name method name
     * @param descriptor method descriptor
     * @return an odd int
     */
    public static int token(String name, String descriptor) {
        return ((name.hashCode() * 31 + descriptor.hashCode()) << 2) | 1;
    }

    /** The runtime's own classes follow the protocol by hand and are never rewritten. */
    public static boolean isRuntimeClass(String className) {
        return className.startsWith("io/aioco/internal/")
                || (className.startsWith(RuntimeNames.RUNTIME_PACKAGE)
                        && className.indexOf('/', RuntimeNames.RUNTIME_PACKAGE.length()) < 0);
    }
}
