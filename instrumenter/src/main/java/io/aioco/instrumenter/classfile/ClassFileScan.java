package io.aioco.instrumenter.classfile;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Why: the agent sees every class the application loads, and almost none needs anything; building
 * an ASM {@code ClassReader} for each costs more than the answer needs (it indexes every constant
 * and, for classes with lambdas or string concatenation, walks every field and method to find the
 * bootstrap methods). This reads only what the quick scan looks at, in one pass over the constant
 * pool: whether a UTF-8 constant names the runtime, the class's own and direct supertypes' names,
 * and the application types its {@code invokedynamic} constants return; and, on request, whether it declares
 * a method that could override a supertype's.
 *
 * <p>Bounds are checked as it goes, so a file cut short (a prefix still being read, a damaged
 * file) costs no exception: {@link #read} returns null for it, and for anything else unusual (a
 * malformed file, a name that is not plain ASCII); the caller then reads on, or takes the ASM path,
 * which reports problems properly. Runs once for every class loaded under the agent, much of it in
 * the interpreter before the JIT has compiled it: it is kept to one loop over the constant pool
 * that touches each UTF-8 constant's first bytes only, and makes strings of the few names it needs.
 */
public final class ClassFileScan {
    private static final byte[] RUNTIME_PACKAGE = RuntimeNames.RUNTIME_PACKAGE.getBytes(StandardCharsets.US_ASCII);
    private static final String[] NO_STRINGS = {};
    /** The packages of {@link ClassHierarchy#isJdkType}, as bytes. */
    private static final byte[][] JDK_PACKAGES = ClassHierarchy.JDK_PACKAGES.stream()
            .map(name -> name.getBytes(StandardCharsets.US_ASCII)).toArray(byte[][]::new);
    /** Each constant's size in bytes with its tag, by tag, but for Utf8 (1); 0 for what is no tag. */
    private static final byte[] CONSTANT_SIZE = new byte[256];

    static {
        for (int tag : new int[] {7, 8, 16, 19, 20}) { // Class, String, MethodType, Module, Package
            CONSTANT_SIZE[tag] = 3;
        }
        // Integer, Float, field/method/interface method refs, NameAndType, Dynamic, InvokeDynamic
        for (int tag : new int[] {3, 4, 9, 10, 11, 12, 17, 18}) {
            CONSTANT_SIZE[tag] = 5;
        }
        CONSTANT_SIZE[15] = 4; // MethodHandle
        CONSTANT_SIZE[5] = 9; // Long
        CONSTANT_SIZE[6] = 9; // Double
    }
    /** A method that no subclass's method overrides, or without code here to rewrite. */
    private static final int CANNOT_OVERRIDE = 0x0002 | 0x0008 | 0x0100 | 0x0400; // private, static, native, abstract

    /** The class's access flags. */
    final int access;
    public final String className;
    final String superName;
    final String[] interfaces;
    final boolean mentionsRuntime;
    /**
     * The classes its {@code invokedynamic} constants return (for a lambda, its functional
     * interface), by internal name, but for arrays and JDK types ({@link ClassHierarchy#isJdkType}),
     * which are told from the bytes, without making a string of them.
     */
    public final String[] indyReturnTypes;
    /** The bytes scanned, up to {@link #end}, for {@link #mayOverride()}. */
    private final byte[] bytes;
    private final int end;
    /** Where each constant's contents start, by index (0 for none). */
    private final int[] offsets;
    /** Where the fields table starts (the methods follow it). */
    private final int membersStart;

    private ClassFileScan(int access, String className, String superName, String[] interfaces,
            boolean mentionsRuntime, String[] indyReturnTypes, byte[] bytes, int end, int[] offsets,
            int membersStart) {
        this.access = access;
        this.className = className;
        this.superName = superName;
        this.interfaces = interfaces;
        this.mentionsRuntime = mentionsRuntime;
        this.indyReturnTypes = indyReturnTypes;
        this.bytes = bytes;
        this.end = end;
        this.offsets = offsets;
        this.membersStart = membersStart;
    }

    /** @return what the quick scan needs, or null when the file is unusual or malformed */
    public static ClassFileScan read(byte[] b) {
        return read(b, b.length);
    }

    /**
     * @param b holds the class file's first {@code length} bytes, or all of it
     * @param length how many bytes of {@code b} to look at: the constant pool and the header must
     *     be among them; {@link #mayOverride()} needs the fields and methods too
     * @return the scan, or null when the file is unusual, malformed, or longer than {@code length}
     *     bytes up to the end of the header
     */
    public static ClassFileScan read(byte[] b, int length) {
        try {
            return parse(b, Math.min(length, b.length));
        } catch (RuntimeException e) {
            return null; // NOTE: not reached by the bounds checks below; a backstop against a bug
        }
    }

    /**
     * Whether the class declares a method that could override or implement a supertype's method
     * and has code to rewrite: not private, not static, not abstract, not native, not a
     * constructor. Only such a method can inherit the marker (INSTRUMENTATION.md), so a class
     * without one needs nothing from its supertypes. Walks the fields and methods (not their
     * code), so it is asked only when the answer matters; true, to be safe, when they were not all
     * read or cannot be followed.
     */
    boolean mayOverride() {
        try {
            int methods = skipMembers(bytes, end, membersStart, false, offsets);
            // NOTE: -1 (cannot be followed) as well as -2 (found one): assume the worst
            return methods < 0 || skipMembers(bytes, end, methods, true, offsets) < 0;
        } catch (RuntimeException e) {
            return true; // NOTE: not reached by the bounds checks; a backstop against a bug
        }
    }

    private static ClassFileScan parse(byte[] b, int end) {
        if (end < 10 || u2(b, 0) != 0xCAFE || u2(b, 2) != 0xBABE) {
            return null;
        }
        int count = u2(b, 8);
        int[] offsets = new int[count];
        boolean mentions = false;
        int indyCount = 0;
        int p = 10;
        for (int i = 1; i < count; ) {
            if (p >= end) {
                return null;
            }
            int tag = b[p] & 0xFF;
            offsets[i] = p + 1;
            if (tag == 1) { // Utf8: the only constant of variable length, and the most common one
                if (p + 3 > end) {
                    return null;
                }
                int length = ((b[p + 1] & 0xFF) << 8) | (b[p + 2] & 0xFF);
                // NOTE: the first byte decides for almost every constant: few start with 'i' or 'L'
                if (!mentions && length > 0 && p + 3 < end && (b[p + 3] == 'i' || b[p + 3] == 'L')) {
                    mentions = namesRuntime(b, p + 3, Math.min(length, end - p - 3));
                }
                p += 3 + length;
                i++;
            } else {
                int size = CONSTANT_SIZE[tag];
                if (size == 0) {
                    return null; // NOTE: not a constant's tag
                }
                p += size;
                i += size == 9 ? 2 : 1; // NOTE: Long and Double (the only constants of 9 bytes) take two slots
                indyCount += tag == 18 ? 1 : 0;
            }
        }
        int interfaceCount = p + 8 <= end ? u2(b, p + 6) : 0;
        int headerEnd = p + 8 + 2 * interfaceCount;
        if (headerEnd > end) {
            return null;
        }
        String className = className(b, end, offsets, u2(b, p + 2));
        int superIndex = u2(b, p + 4);
        String superName = superIndex == 0 ? null : className(b, end, offsets, superIndex);
        if (className == null || (superIndex != 0 && superName == null)) {
            return null;
        }
        String[] interfaces = interfaceCount == 0 ? NO_STRINGS : new String[interfaceCount];
        for (int i = 0; i < interfaceCount; i++) {
            if ((interfaces[i] = className(b, end, offsets, u2(b, p + 8 + 2 * i))) == null) {
                return null;
            }
        }
        String[] indyReturnTypes = NO_STRINGS;
        for (int i = 1, found = 0; found < indyCount; i++) {
            int offset = offsets[i];
            if (offset != 0 && b[offset - 1] == 18) {
                found++;
                int nameAndType = entry(b, end, offsets, u2(b, offset + 2), 12);
                int descriptor = nameAndType < 0 ? -1 : entry(b, end, offsets, u2(b, nameAndType + 2), 1);
                if (descriptor < 0) {
                    return null;
                }
                int returned = applicationReturnType(b, descriptor + 2, u2(b, descriptor));
                if (returned >= 0) {
                    String name = ascii(b, returned, descriptor + 2 + u2(b, descriptor) - 1 - returned);
                    if (name == null) {
                        return null;
                    }
                    indyReturnTypes = Arrays.copyOf(indyReturnTypes, indyReturnTypes.length + 1);
                    indyReturnTypes[indyReturnTypes.length - 1] = name;
                }
            }
        }
        return new ClassFileScan(u2(b, p), className, superName, interfaces, mentions, indyReturnTypes, b, end,
                offsets, headerEnd);
    }

    /**
     * Walks a fields or methods table from {@code p}.
     *
     * @param methods whether the table holds methods: then a method that may override stops the
     *     walk with -2
     * @return where the table ends, -1 if it cannot be read, or -2 (methods only) at the first
     *     method that may override or implement a supertype's
     */
    private static int skipMembers(byte[] b, int end, int p, boolean methods, int[] offsets) {
        if (p + 2 > end) {
            return -1;
        }
        int members = u2(b, p);
        p += 2;
        for (int m = 0; m < members; m++) {
            if (p + 8 > end) {
                return -1;
            }
            if (methods && (u2(b, p) & CANNOT_OVERRIDE) == 0) {
                int name = entry(b, end, offsets, u2(b, p + 2), 1);
                if (name < 0 || u2(b, name) == 0 || b[name + 2] != '<') {
                    return -2; // NOTE: not a constructor or static initializer (their names start with '<')
                }
            }
            int attributes = u2(b, p + 6);
            p += 8;
            for (int a = 0; a < attributes; a++) {
                if (p + 6 > end) {
                    return -1;
                }
                int length = u4(b, p + 2);
                if (length < 0 || length > end - p - 6) {
                    return -1;
                }
                p += 6 + length;
            }
        }
        return p;
    }

    private static int u2(byte[] b, int at) {
        return ((b[at] & 0xFF) << 8) | (b[at + 1] & 0xFF);
    }

    private static int u4(byte[] b, int at) {
        return (u2(b, at) << 16) | u2(b, at + 2);
    }

    /** Whether a UTF-8 constant starts with {@code io/aioco/} or {@code Lio/aioco/}. */
    private static boolean namesRuntime(byte[] b, int start, int length) {
        if (length > RUNTIME_PACKAGE.length && b[start] == 'L') {
            start++;
            length--;
        }
        return startsWith(b, start, length, RUNTIME_PACKAGE);
    }

    /**
     * @return the offset of constant {@code index}'s contents (after its tag) if it is in the pool,
     *     has the tag, and its fixed part lies within the bytes read, else -1
     */
    private static int entry(byte[] b, int end, int[] offsets, int index, int tag) {
        if (index <= 0 || index >= offsets.length) {
            return -1;
        }
        int offset = offsets[index];
        return offset != 0 && b[offset - 1] == tag && offset + 2 <= end ? offset : -1;
    }

    private static String className(byte[] b, int end, int[] offsets, int classIndex) {
        int offset = entry(b, end, offsets, classIndex, 7);
        return offset < 0 ? null : utf8(b, end, offsets, u2(b, offset));
    }

    /** A UTF-8 constant that is plain ASCII (as names almost always are), else null. */
    private static String utf8(byte[] b, int end, int[] offsets, int index) {
        int offset = entry(b, end, offsets, index, 1);
        return offset < 0 || offset + 2 + u2(b, offset) > end ? null : ascii(b, offset + 2, u2(b, offset));
    }

    /** Bytes that are plain ASCII as a string, else null. */
    private static String ascii(byte[] b, int start, int length) {
        for (int i = 0; i < length; i++) {
            if (b[start + i] <= 0) {
                return null; // NOTE: non-ASCII, or a NUL (never in a valid modified UTF-8 constant)
            }
        }
        return new String(b, start, length, StandardCharsets.ISO_8859_1);
    }

    /**
     * @return where the internal name of a method descriptor's return type starts, if it is a
     *     class (it then ends before the descriptor's last byte, {@code ;}) and not a JDK type;
     *     else -1
     */
    private static int applicationReturnType(byte[] b, int start, int length) {
        int last = start + length - 1;
        if (length < 4 || b[last] != ';') {
            return -1; // NOTE: a primitive type or void
        }
        int close = last;
        while (close > start && b[close] != ')') {
            close--;
        }
        if (b[close] != ')' || b[close + 1] != 'L') {
            return -1; // NOTE: an array, or no method descriptor
        }
        int name = close + 2;
        for (byte[] prefix : JDK_PACKAGES) {
            if (startsWith(b, name, last - name, prefix)) {
                return -1;
            }
        }
        return name;
    }

    private static boolean startsWith(byte[] b, int start, int length, byte[] prefix) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[start + i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
