package io.aioco.maven;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Type;

/**
 * The types a class file names, read from its constant pool alone (no method code is parsed): the
 * classes whose coroutine functions the instrumenter may have asked about when it wove the class.
 * Class entries give the supertypes and the owners of every called method and accessed field;
 * descriptors of name-and-type and method-type entries give the types flowing through calls and
 * the functional interfaces of {@code invokedynamic} call sites. JDK types are left out: they never
 * declare coroutine functions. No QEMU counterpart.
 *
 * <p>Stateless; called on the mojo's thread.
 */
final class ReferencedTypes {
    private static final int CONSTANT_CLASS = 7;
    private static final int CONSTANT_NAME_AND_TYPE = 12;
    private static final int CONSTANT_METHOD_TYPE = 16;

    /** Packages of the JDK, as prefixes of internal names (as the instrumenter's own list). */
    private static final List<String> JDK_PACKAGES = List.of("java/", "javax/", "jdk/", "sun/", "com/sun/");

    private ReferencedTypes() {}

    /**
     * @param classBytes a class file
     * @return the internal names of the non-JDK classes it names, sorted, without itself
     * @throws IllegalArgumentException if the constant pool cannot be read
     */
    static Set<String> of(byte[] classBytes) {
        ClassReader reader = new ClassReader(classBytes);
        char[] buffer = new char[reader.getMaxStringLength()];
        Set<String> types = new TreeSet<>();
        for (int item = 1; item < reader.getItemCount(); item++) {
            int offset = reader.getItem(item);
            if (offset == 0) {
                continue; // NOTE: the unused second slot of a long or double
            }
            switch (reader.readByte(offset - 1)) {
                case CONSTANT_CLASS -> addType(types, reader.readUTF8(offset, buffer));
                case CONSTANT_NAME_AND_TYPE -> addDescriptor(types, reader.readUTF8(offset + 2, buffer));
                case CONSTANT_METHOD_TYPE -> addDescriptor(types, reader.readUTF8(offset, buffer));
                default -> { }
            }
        }
        types.remove(reader.getClassName());
        return types;
    }

    /** @return whether the type belongs to the JDK (and so never has coroutine functions) */
    static boolean isJdkType(String internalName) {
        for (String prefix : JDK_PACKAGES) {
            if (internalName.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    private static void addType(Set<String> types, String classEntry) {
        if (classEntry.startsWith("[")) {
            addType(types, Type.getType(classEntry));
        } else {
            addName(types, classEntry);
        }
    }

    private static void addDescriptor(Set<String> types, String descriptor) {
        if (descriptor.startsWith("(")) {
            Type method = Type.getMethodType(descriptor);
            for (Type argument : method.getArgumentTypes()) {
                addType(types, argument);
            }
            addType(types, method.getReturnType());
        } else {
            addType(types, Type.getType(descriptor));
        }
    }

    private static void addType(Set<String> types, Type type) {
        Type element = type.getSort() == Type.ARRAY ? type.getElementType() : type;
        if (element.getSort() == Type.OBJECT) {
            addName(types, element.getInternalName());
        }
    }

    private static void addName(Set<String> types, String internalName) {
        if (!isJdkType(internalName)) {
            types.add(internalName);
        }
    }
}
