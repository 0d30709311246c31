package io.aioco.agent;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A class loader playing the JVM's part for the agent's tests: it defines the class files it holds
 * itself (child first, the rest from its parent), calling the transformer in {@code findClass}
 * before {@code defineClass} with the class's protection domain, as the JVM calls the agent's, and
 * records what it transformed, what the transformer rewrote and which of its class files were read
 * as resources. Used by one test thread at a time.
 */
public class TransformingLoader extends ClassLoader {
    private final Map<String, byte[]> classFiles = new HashMap<>();
    private final Map<String, ProtectionDomain> domains = new HashMap<>();
    private CoroutineTransformer transformer;
    /** The classes given to the transformer, in order. */
    public final List<String> transformed = new ArrayList<>();
    /** The classes the transformer rewrote, in order. */
    public final List<String> rewritten = new ArrayList<>();
    /** The class files read as resources (by the transformer, for a supertype), in order. */
    public final List<String> resourcesRead = new ArrayList<>();

    /** @param name the loader's name; its parent is the tests' loader */
    public TransformingLoader(String name) {
        super(name, TransformingLoader.class.getClassLoader());
    }

    /**
     * @param internalName the class's name
     * @param domain its protection domain, or null for the default one
     */
    public void add(String internalName, byte[] classFile, ProtectionDomain domain) {
        if (classFiles.putIfAbsent(internalName, classFile) == null && domain != null) {
            domains.put(internalName, domain); // NOTE: the first holder of a name defines it, as on a class path
        }
    }

    /** @param transformer called on each class this loader defines (null: none) */
    public void transformer(CoroutineTransformer transformer) {
        this.transformer = transformer;
    }

    /** @return the transformer called on each class this loader defines */
    public CoroutineTransformer transformer() {
        return transformer;
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        synchronized (getClassLoadingLock(name)) {
            if (!classFiles.containsKey(name.replace('.', '/'))) {
                return super.loadClass(name, resolve);
            }
            Class<?> loaded = findLoadedClass(name);
            return loaded != null ? loaded : findClass(name);
        }
    }

    @Override
    protected Class<?> findClass(String name) throws ClassNotFoundException {
        String internal = name.replace('.', '/');
        byte[] bytes = classFiles.get(internal);
        if (bytes == null) {
            throw new ClassNotFoundException(name);
        }
        transformed.add(internal);
        ProtectionDomain domain = domains.get(internal);
        byte[] result = transformer == null ? null : transformer.transform(this, internal, null, domain, bytes);
        if (result != null) {
            rewritten.add(internal);
            bytes = result;
        }
        return defineClass(name, bytes, 0, bytes.length, domain);
    }

    @Override
    public InputStream getResourceAsStream(String name) {
        String internal = name.endsWith(".class") ? name.substring(0, name.length() - ".class".length()) : name;
        byte[] bytes = classFiles.get(internal);
        if (bytes == null) {
            return super.getResourceAsStream(name);
        }
        resourcesRead.add(internal);
        return new ByteArrayInputStream(bytes);
    }
}
