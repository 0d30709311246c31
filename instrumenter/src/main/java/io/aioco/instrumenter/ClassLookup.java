package io.aioco.instrumenter;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where the instrumenter reads the class files of the types it needs to know about (supertypes,
 * owners of called methods), as bytes: the instrumenter itself never loads, links or initialises
 * another class (only a lookup may, see {@link #knownWithoutCoroutineFns(String)}).
 */
@FunctionalInterface
public interface ClassLookup {
    /**
     * @param internalName a class name in internal form ({@code java/lang/String})
     * @return the class file's bytes, or null if the class cannot be found
     */
    byte[] classBytes(String internalName);

    /**
     * Whether a type is already known to declare no coroutine function, itself or through its
     * supertypes, so that its class file need not be read. The instrumenter asks before reading a
     * direct supertype of a class it scans. The agent answers by loading that supertype through the
     * class's own loader, as the JVM does right after the class is transformed anyway, so that the
     * transformer has scanned the supertype first; reading it again would double its cost.
     *
     * @param internalName a direct supertype of the class being instrumented, in internal form
     * @return true if it certainly has no coroutine function; false if unknown (the default)
     */
    default boolean knownWithoutCoroutineFns(String internalName) {
        return false;
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
