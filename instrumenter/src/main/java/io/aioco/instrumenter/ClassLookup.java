package io.aioco.instrumenter;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Where the instrumenter reads the class files of the types it needs to know about (supertypes,
 * owners of called methods), as bytes: instrumenting a class never loads, links or initialises
 * another one.
 */
@FunctionalInterface
public interface ClassLookup {
    /**
     * @param internalName a class name in internal form ({@code java/lang/String})
     * @return the class file's bytes, or null if the class cannot be found
     */
    byte[] classBytes(String internalName);

    /**
     * Opens a class file, for a reader that may need only its beginning (the constant pool and the
     * header: whether a supertype names the runtime, and its own supertypes). A lookup that reads
     * compressed jars should override it, so that the rest is never inflated.
     *
     * @param internalName a class name in internal form
     * @return the class file's stream, or null if the class cannot be found
     */
    default InputStream openClassFile(String internalName) {
        byte[] bytes = classBytes(internalName);
        return bytes == null ? null : new ByteArrayInputStream(bytes);
    }

    /**
     * A lookup that reads class files as resources of a class loader (null means the bootstrap
     * loader, read through the platform class loader's resources).
     *
     * @param loader the class loader whose classes are looked up
     * @return the lookup
     */
    static ClassLookup ofClassLoader(ClassLoader loader) {
        ClassLoader effective = loader != null ? loader : ClassLoader.getPlatformClassLoader();
        return internalName -> {
            try (InputStream in = effective.getResourceAsStream(internalName + ".class")) {
                return in == null ? null : in.readAllBytes();
            } catch (IOException | RuntimeException e) {
                return null;
            }
        };
    }

    /**
     * @param first asked first
     * @param second asked when the first finds nothing
     * @return a lookup that tries {@code first}, then {@code second}
     */
    static ClassLookup chain(ClassLookup first, ClassLookup second) {
        return internalName -> {
            byte[] bytes = first.classBytes(internalName);
            return bytes != null ? bytes : second.classBytes(internalName);
        };
    }
}
