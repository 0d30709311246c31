package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;

/**
 * The transformer learns about a supertype by loading it through the class's own loader (as the
 * JVM does right after), so that the supertype is scanned once, when it is transformed, instead of
 * being read again as a resource. A loader here plays the JVM's part: it calls the transformer in
 * {@code findClass} before {@code defineClass}.
 */
class SupertypeLoadingTest {
    /** Defines the classes it holds itself (child first), calling the transformer on each. */
    private static final class TransformingLoader extends ClassLoader {
        private final Map<String, byte[]> classFiles;
        private final CoroutineTransformer transformer;
        final List<String> resourcesRead = new ArrayList<>();
        final List<String> transformed = new ArrayList<>();
        final List<String> rewritten = new ArrayList<>();

        TransformingLoader(Map<String, byte[]> classFiles, CoroutineTransformer transformer) {
            super("test", SupertypeLoadingTest.class.getClassLoader());
            this.classFiles = classFiles;
            this.transformer = transformer;
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
            byte[] result = transformer == null ? null : transformer.transform(this, internal, null, null, bytes);
            if (result != null) {
                rewritten.add(internal);
                bytes = result;
            }
            return defineClass(name, bytes, 0, bytes.length);
        }

        @Override
        public InputStream getResourceAsStream(String name) {
            String internal = name.endsWith(".class") ? name.substring(0, name.length() - 6) : name;
            byte[] bytes = classFiles.get(internal);
            if (bytes == null) {
                return super.getResourceAsStream(name);
            }
            resourcesRead.add(internal);
            return new ByteArrayInputStream(bytes);
        }
    }

    private static byte[] classFile(String internalName) throws IOException {
        try (InputStream in = SupertypeLoadingTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    private static Map<String, byte[]> fixtures(String... internalNames) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        for (String name : internalNames) {
            files.put(name, classFile(name));
        }
        return files;
    }

    @Test
    void aPlainSupertypeIsScannedWhenLoadedAndNotReadAgain() throws Exception {
        TransformingLoader loader = new TransformingLoader(
                fixtures("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainSub"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class<?> sub = Class.forName("fixture.hierarchy.PlainSub", false, loader);
        assertEquals(loader, sub.getSuperclass().getClassLoader());
        // the subclass's transformation loaded the supertype first: each transformed exactly once
        assertEquals(List.of("fixture/hierarchy/PlainSub", "fixture/hierarchy/PlainBase"), loader.transformed);
        assertEquals(List.of(), loader.resourcesRead, "the supertype was scanned as it was loaded, not read again");
        assertEquals(List.of(), loader.rewritten);
        assertEquals(2, sub.getMethod("value").invoke(sub.getDeclaredConstructor().newInstance()));
    }

    @Test
    void anOverrideOfAnInheritedCoroutineFunctionIsStillInstrumented() throws Exception {
        TransformingLoader loader = new TransformingLoader(
                fixtures("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                new CoroutineTransformer(AgentOptions.parse("")));
        Class.forName("fixture.hierarchy.CoSub", false, loader);
        assertEquals(List.of("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"), loader.transformed);
        assertTrue(loader.rewritten.contains("fixture/hierarchy/CoSub"), "rewritten: " + loader.rewritten);
        assertTrue(loader.rewritten.contains("fixture/hierarchy/CoBase"), "rewritten: " + loader.rewritten);
    }

    @Test
    void aCircularHierarchyFailsAsItDoesWithoutTheAgent() {
        Map<String, byte[]> cycle = new HashMap<>();
        cycle.put("cyc/A", classExtending("cyc/A", "cyc/B"));
        cycle.put("cyc/B", classExtending("cyc/B", "cyc/A"));
        Class<? extends Throwable> plain = assertThrows(LinkageError.class,
                () -> Class.forName("cyc.A", false, new TransformingLoader(cycle, null))).getClass();
        TransformingLoader withAgent = new TransformingLoader(cycle, new CoroutineTransformer(AgentOptions.parse("")));
        Class<? extends Throwable> agent = assertThrows(LinkageError.class,
                () -> Class.forName("cyc.A", false, withAgent)).getClass();
        assertEquals(plain, agent);
        assertFalse(withAgent.transformed.size() > 8, "transformations: " + withAgent.transformed);
    }

    private static byte[] classExtending(String name, String superName) {
        ClassWriter writer = new ClassWriter(0);
        writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_SUPER, name, null, superName, null);
        writer.visitEnd();
        return writer.toByteArray();
    }
}
