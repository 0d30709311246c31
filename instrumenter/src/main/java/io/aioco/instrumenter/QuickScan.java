package io.aioco.instrumenter;

import java.nio.charset.StandardCharsets;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Type;

/**
 * Why: the agent sees every class the application loads, and almost none has anything to do with
 * coroutines. This scan answers "certainly nothing to do" from the constant pool and the direct
 * supertypes, without building a tree: no reference to {@code io/aioco/}, no supertype with
 * coroutine functions, and no lambda whose interface has coroutine functions.
 */
final class QuickScan {
    private static final byte[] RUNTIME_PACKAGE = RuntimeNames.RUNTIME_PACKAGE.getBytes(StandardCharsets.US_ASCII);
    private static final int CONSTANT_INVOKE_DYNAMIC = 18;

    private QuickScan() {}

    /** @return false when the class certainly needs no instrumentation */
    static boolean mayNeedInstrumentation(byte[] classBytes, ClassReader reader, ClassHierarchy hierarchy) {
        if (hierarchy.allMethods() || contains(classBytes, RUNTIME_PACKAGE)) {
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

    /** JDK types never declare coroutine functions: no need to read them. */
    private static boolean isApplicationType(String internalName) {
        return !ClassHierarchy.isJdkType(internalName);
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        byte first = needle[0];
        int last = haystack.length - needle.length;
        outer:
        for (int i = 0; i <= last; i++) {
            if (haystack[i] != first) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
