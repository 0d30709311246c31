package io.aioco.instrumenter;

import java.nio.charset.StandardCharsets;

/**
 * Why: the agent sees every class the application loads and almost none needs anything; building
 * an ASM {@code ClassReader} for each costs more than the answer needs (it indexes every constant
 * and, for classes with lambdas or string concatenation, walks every field and method to find the
 * bootstrap methods). This reads only what the quick scan looks at, in one pass over the constant
 * pool: whether a UTF-8 constant names the runtime, the class's own and direct supertypes' names,
 * and the descriptors of its {@code invokedynamic} constants.
 *
 * <p>{@link #read} returns null for anything unusual (a malformed file, a name that is not plain
 * ASCII): the caller then takes the ASM path, which reports problems properly.
 */
final class ClassFileScan {
    private static final byte[] RUNTIME_PACKAGE = RuntimeNames.RUNTIME_PACKAGE.getBytes(StandardCharsets.US_ASCII);

    final String className;
    final String superName;
    final String[] interfaces;
    final boolean mentionsRuntime;
    final String[] indyDescriptors;

    private ClassFileScan(String className, String superName, String[] interfaces, boolean mentionsRuntime,
            String[] indyDescriptors) {
        this.className = className;
        this.superName = superName;
        this.interfaces = interfaces;
        this.mentionsRuntime = mentionsRuntime;
        this.indyDescriptors = indyDescriptors;
    }

    /** @return what the quick scan needs, or null when the file is unusual or malformed */
    static ClassFileScan read(byte[] b) {
        try {
            return parse(b);
        } catch (RuntimeException e) {
            return null; // NOTE: out of bounds on a damaged file: the ASM path reports it
        }
    }

    private static ClassFileScan parse(byte[] b) {
        if (b.length < 10 || u2(b, 0) != 0xCAFE || u2(b, 2) != 0xBABE) {
            return null;
        }
        int count = u2(b, 8);
        int[] offsets = new int[count];
        boolean mentions = false;
        int indyCount = 0;
        int p = 10;
        for (int i = 1; i < count; i++) {
            int tag = b[p] & 0xFF;
            offsets[i] = p + 1;
            switch (tag) {
                case 1 -> { // Utf8
                    int length = u2(b, p + 1);
                    mentions |= namesRuntime(b, p + 3, length);
                    p += 3 + length;
                }
                case 3, 4 -> p += 5; // Integer, Float
                case 5, 6 -> { // Long, Double: two slots
                    p += 9;
                    i++;
                }
                case 7, 8, 16, 19, 20 -> p += 3; // Class, String, MethodType, Module, Package
                case 9, 10, 11, 12, 17 -> p += 5; // refs, NameAndType, Dynamic
                case 18 -> { // InvokeDynamic
                    p += 5;
                    indyCount++;
                }
                case 15 -> p += 4; // MethodHandle
                default -> {
                    return null;
                }
            }
        }
        String className = className(b, offsets, u2(b, p + 2));
        int superIndex = u2(b, p + 4);
        String superName = superIndex == 0 ? null : className(b, offsets, superIndex);
        String[] interfaces = new String[u2(b, p + 6)];
        for (int i = 0; i < interfaces.length; i++) {
            interfaces[i] = className(b, offsets, u2(b, p + 8 + 2 * i));
        }
        String[] indyDescriptors = new String[indyCount];
        for (int i = 1, found = 0; found < indyCount; i++) {
            int offset = offsets[i];
            if (offset != 0 && (b[offset - 1] & 0xFF) == 18) {
                int nameAndType = offsets[u2(b, offset + 2)];
                indyDescriptors[found++] = utf8(b, offsets, u2(b, nameAndType + 2));
            }
        }
        if (className == null || (superIndex != 0 && superName == null)) {
            return null;
        }
        for (String itf : interfaces) {
            if (itf == null) {
                return null;
            }
        }
        for (String descriptor : indyDescriptors) {
            if (descriptor == null) {
                return null;
            }
        }
        return new ClassFileScan(className, superName, interfaces, mentions, indyDescriptors);
    }

    private static int u2(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    /** Whether a UTF-8 constant starts with {@code io/aioco/} or {@code Lio/aioco/}. */
    private static boolean namesRuntime(byte[] b, int start, int length) {
        if (length > RUNTIME_PACKAGE.length && b[start] == 'L') {
            start++;
            length--;
        }
        if (length < RUNTIME_PACKAGE.length) {
            return false;
        }
        for (int i = 0; i < RUNTIME_PACKAGE.length; i++) {
            if (b[start + i] != RUNTIME_PACKAGE[i]) {
                return false;
            }
        }
        return true;
    }

    private static String className(byte[] b, int[] offsets, int classIndex) {
        int offset = offsets[classIndex];
        if (offset == 0 || (b[offset - 1] & 0xFF) != 7) {
            return null;
        }
        return utf8(b, offsets, u2(b, offset));
    }

    /** A UTF-8 constant that is plain ASCII (as names almost always are), else null. */
    private static String utf8(byte[] b, int[] offsets, int index) {
        int offset = offsets[index];
        if (offset == 0 || (b[offset - 1] & 0xFF) != 1) {
            return null;
        }
        int length = u2(b, offset);
        for (int i = 0; i < length; i++) {
            if (b[offset + 2 + i] <= 0) {
                return null; // NOTE: non-ASCII, or a NUL (never in a valid modified UTF-8 constant)
            }
        }
        return new String(b, offset + 2, length, StandardCharsets.ISO_8859_1);
    }
}
