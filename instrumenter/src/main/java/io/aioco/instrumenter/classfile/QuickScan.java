package io.aioco.instrumenter.classfile;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;

/**
 * Why: the agent sees every class the application loads, and almost none has anything to do with
 * coroutines. This scan answers "certainly nothing to do" from the constant pool and the direct
 * supertypes, without building a tree: no reference to {@code io/aioco/}, no supertype with
 * coroutine functions, and no lambda whose interface has coroutine functions.
 */
public final class QuickScan {
    private static final byte[] RUNTIME_PACKAGE = RuntimeNames.RUNTIME_PACKAGE.getBytes(StandardCharsets.US_ASCII);
    private static final int CONSTANT_INVOKE_DYNAMIC = 18;

    private QuickScan() {}

    /** @return false when the class certainly needs no instrumentation */
    public static boolean mayNeedInstrumentation(byte[] classBytes, ClassReader reader, ClassHierarchy hierarchy) {
        if (hierarchy.allMethods() || mentionsRuntime(classBytes, reader)) {
            return true;
        }
        String superName = reader.getSuperName();
        if (superName != null && isApplicationType(superName) && hierarchy.hasCoroutineFns(superName)) {
            return true;
        }
        for (String itf : reader.getInterfaces()) {
            if (isApplicationType(itf) && hierarchy.hasCoroutineFns(itf)) {
                return true;
            }
        }
        char[] buffer = new char[reader.getMaxStringLength()];
        for (int item = 1; item < reader.getItemCount(); item++) {
            int offset = reader.getItem(item);
            if (offset == 0 || (classBytes[offset - 1] & 0xFF) != CONSTANT_INVOKE_DYNAMIC) {
                continue;
            }
            int nameAndType = reader.getItem(reader.readUnsignedShort(offset + 2));
            String descriptor = reader.readUTF8(nameAndType + 2, buffer);
            Type returned = Type.getReturnType(descriptor);
            if (returned.getSort() == Type.OBJECT && isApplicationType(returned.getInternalName())
                    && hierarchy.hasCoroutineFns(returned.getInternalName())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The same answer from a {@link ClassFileScan} (no ASM reader): false when the class certainly
     * needs no instrumentation; then what was learnt is noted in the hierarchy, so that its
     * subclasses need not read it again.
     *
     * <p>The supertypes matter only to a class that declares a method that could inherit the
     * marker ({@link ClassFileScan#mayOverride()}): a class whose methods are all constructors,
     * static, private or without code cannot override a coroutine function. So a supertype the
     * hierarchy knows nothing of yet is read only for a class that has such a method. That saves
     * reading supertypes not loaded yet (the JVM transforms a class before it loads its
     * supertypes), the costliest part of an application's start; the methods are walked only
     * then, since most supertypes are JDK types or already known.
     */
    public static boolean mayNeedInstrumentation(ClassFileScan scan, ClassHierarchy hierarchy) {
        if (hierarchy.allMethods() || scan.mentionsRuntime) {
            return true;
        }
        boolean supertypesChecked = true;
        if (!supertypesKnownWithoutCoroutineFns(scan, hierarchy)) {
            supertypesChecked = scan.mayOverride();
            if (supertypesChecked && inheritsCoroutineFns(scan, hierarchy)) {
                return true;
            }
        }
        for (String functional : scan.indyReturnTypes) {
            if (hierarchy.hasCoroutineFns(functional)) {
                return true;
            }
        }
        if ((scan.access & Opcodes.ACC_FINAL) == 0) { // NOTE: a final class is nobody's supertype
            if (supertypesChecked) {
                hierarchy.recordWithoutCoroutineFns(scan.className);
            } else {
                hierarchy.recordDeclaresNone(scan); // NOTE: its supertypes were not looked at
            }
        }
        return false;
    }

    /** @return the direct supertypes of the scanned class that are not JDK types */
    public static String[] applicationSupertypes(ClassFileScan scan) {
        String[] out = new String[1 + scan.interfaces.length];
        int count = 0;
        if (scan.superName != null && isApplicationType(scan.superName)) {
            out[count++] = scan.superName;
        }
        for (String itf : scan.interfaces) {
            if (isApplicationType(itf)) {
                out[count++] = itf;
            }
        }
        return count == out.length ? out : Arrays.copyOf(out, count);
    }

    /** @return whether every direct supertype is a JDK type or known to have no coroutine function */
    private static boolean supertypesKnownWithoutCoroutineFns(ClassFileScan scan, ClassHierarchy hierarchy) {
        if (scan.superName != null && isApplicationType(scan.superName)
                && !hierarchy.isKnownWithoutCoroutineFns(scan.superName)) {
            return false;
        }
        for (String itf : scan.interfaces) {
            if (isApplicationType(itf) && !hierarchy.isKnownWithoutCoroutineFns(itf)) {
                return false;
            }
        }
        return true;
    }

    /** @return whether a direct supertype of the scanned class has coroutine functions */
    private static boolean inheritsCoroutineFns(ClassFileScan scan, ClassHierarchy hierarchy) {
        if (scan.superName != null && isApplicationType(scan.superName) && hierarchy.hasCoroutineFns(scan.superName)) {
            return true;
        }
        for (String itf : scan.interfaces) {
            if (isApplicationType(itf) && hierarchy.hasCoroutineFns(itf)) {
                return true;
            }
        }
        return false;
    }

    /** JDK types never declare coroutine functions: no need to read them. */
    private static boolean isApplicationType(String internalName) {
        return !ClassHierarchy.isJdkType(internalName);
    }

    /**
     * Whether a UTF-8 constant starts with {@code io/aioco/} or {@code Lio/aioco/}: every class
     * that marks a coroutine function, calls one of the runtime's, or names its types does. Only
     * the constant pool is looked at (the ClassReader already indexed it).
     */
    private static boolean mentionsRuntime(byte[] classBytes, ClassReader reader) {
        for (int item = 1; item < reader.getItemCount(); item++) {
            int offset = reader.getItem(item);
            if (offset == 0 || classBytes[offset - 1] != 1) { // CONSTANT_Utf8
                continue;
            }
            int length = ((classBytes[offset] & 0xFF) << 8) | (classBytes[offset + 1] & 0xFF);
            int start = offset + 2;
            if (length > RUNTIME_PACKAGE.length && classBytes[start] == 'L') {
                start++;
                length--;
            }
            if (length >= RUNTIME_PACKAGE.length && startsWith(classBytes, start, RUNTIME_PACKAGE)) {
                return true;
            }
        }
        return false;
    }

    private static boolean startsWith(byte[] bytes, int at, byte[] prefix) {
        for (int i = 0; i < prefix.length; i++) {
            if (bytes[at + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
