package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Loaders that find the same class files share one instrumenter: a new {@link URLClassLoader}
 * over the same jars (a redeployment, a test runner's fresh loader) learns nothing again, and a
 * jar changed in between is read afresh.
 */
class SharedInstrumenterTest {
    @TempDir
    Path dir;

    /** A URLClassLoader below the platform loader that calls the transformer as the JVM would. */
    private static final class TransformingLoader extends URLClassLoader {
        private final CoroutineTransformer transformer;
        final List<String> rewritten = new ArrayList<>();

        TransformingLoader(Path jar, CoroutineTransformer transformer) throws IOException {
            super("shared-test", new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
            this.transformer = transformer;
        }

        @Override
        protected Class<?> findClass(String name) throws ClassNotFoundException {
            String internal = name.replace('.', '/');
            URL resource = findResource(internal + ".class");
            if (resource == null) {
                throw new ClassNotFoundException(name);
            }
            byte[] bytes;
            try (InputStream in = resource.openStream()) {
                bytes = in.readAllBytes();
            } catch (IOException e) {
                throw new ClassNotFoundException(name, e);
            }
            byte[] result = transformer.transform(this, internal, null, null, bytes);
            if (result != null) {
                rewritten.add(internal);
                bytes = result;
            }
            return defineClass(name, bytes, 0, bytes.length);
        }
    }

    private static byte[] classFile(String internalName) throws IOException {
        try (InputStream in = SharedInstrumenterTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    /** The class file without its methods' annotations: CoBase with its marker taken away. */
    private static byte[] withoutMarkers(byte[] classFile) {
        ClassWriter writer = new ClassWriter(0);
        new ClassReader(classFile).accept(new ClassVisitor(Opcodes.ASM9, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                return new MethodVisitor(Opcodes.ASM9, super.visitMethod(access, name, descriptor, signature, exceptions)) {
                    @Override
                    public AnnotationVisitor visitAnnotation(String desc, boolean visible) {
                        return null;
                    }
                };
            }
        }, 0);
        return writer.toByteArray();
    }

    /** Writes the jar beside its place and moves it there, as a build replaces a jar. */
    private Path jar(String name, Map<String, byte[]> entries) throws IOException {
        Path staged = Files.createTempFile(dir, name, ".tmp");
        try (OutputStream out = Files.newOutputStream(staged); JarOutputStream jar = new JarOutputStream(out)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(entry.getKey() + ".class"));
                jar.write(entry.getValue());
                jar.closeEntry();
            }
        }
        return Files.move(staged, dir.resolve(name), StandardCopyOption.REPLACE_EXISTING);
    }

    private static Map<String, byte[]> classes(String... internalNames) throws IOException {
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : internalNames) {
            files.put(name, classFile(name));
        }
        return files;
    }

    @Test
    void loadersOverTheSameJarsShareOneInstrumenterAndOthersDoNot() throws Exception {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        Path jar = jar("app.jar", classes("fixture/hierarchy/PlainBase", "fixture/hierarchy/PlainSub"));
        Path other = jar("other.jar", classes("fixture/hierarchy/PlainBase"));
        try (TransformingLoader a = new TransformingLoader(jar, transformer);
                TransformingLoader b = new TransformingLoader(jar, transformer);
                URLClassLoader plain = new URLClassLoader(new URL[] {jar.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
                URLClassLoader twoJars = new URLClassLoader(new URL[] {jar.toUri().toURL(), other.toUri().toURL()},
                        ClassLoader.getPlatformClassLoader());
                URLClassLoader swapped = new URLClassLoader(new URL[] {other.toUri().toURL(), jar.toUri().toURL()},
                        ClassLoader.getPlatformClassLoader());
                URLClassLoader belowApplication = new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader());
                URLClassLoader overFolder = new URLClassLoader(new URL[] {dir.toUri().toURL()}, ClassLoader.getPlatformClassLoader());
                URLClassLoader overFolder2 = new URLClassLoader(new URL[] {dir.toUri().toURL()}, ClassLoader.getPlatformClassLoader())) {
            assertSame(transformer.instrumenterFor(a), transformer.instrumenterFor(b));
            // another loader class, other jars or another order: another search, another instrumenter
            assertNotSame(transformer.instrumenterFor(a), transformer.instrumenterFor(plain));
            assertNotSame(transformer.instrumenterFor(plain), transformer.instrumenterFor(twoJars));
            assertNotSame(transformer.instrumenterFor(twoJars), transformer.instrumenterFor(swapped));
            // below the application loader, or over a folder (whose files change unseen): nothing shared
            assertNotSame(transformer.instrumenterFor(belowApplication),
                    transformer.instrumenterFor(new URLClassLoader(new URL[] {jar.toUri().toURL()}, getClass().getClassLoader())));
            assertNotSame(transformer.instrumenterFor(overFolder), transformer.instrumenterFor(overFolder2));
            // the same answers through either loader
            Class<?> sub = Class.forName("fixture.hierarchy.PlainSub", false, a);
            Class<?> again = Class.forName("fixture.hierarchy.PlainSub", false, b);
            assertNotSame(sub, again);
            assertEquals(List.of(), a.rewritten);
            assertEquals(List.of(), b.rewritten);
        }
    }

    @Test
    void anOverrideIsInstrumentedThroughEveryLoaderThatSharesWhatTheFirstLearnt() throws Exception {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        Path jar = jar("app.jar", classes("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"));
        for (String first : List.of("fixture.hierarchy.CoSub", "fixture.hierarchy.CoBase")) {
            try (TransformingLoader a = new TransformingLoader(jar, transformer);
                    TransformingLoader b = new TransformingLoader(jar, transformer)) {
                Class.forName(first, false, a);
                Class.forName("fixture.hierarchy.CoSub", false, a);
                Class.forName("fixture.hierarchy.CoSub", false, b); // its supertype known from a's loading
                assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                        a.rewritten.stream().sorted().toList(), "loading " + first + " first");
                assertEquals(List.of("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"), b.rewritten,
                        "loading " + first + " first");
            }
        }
    }

    @Test
    void aJarReplacedBetweenTwoLoadersIsReadAfresh() throws Exception {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        Map<String, byte[]> before = classes("fixture/hierarchy/CoSub");
        before.put("fixture/hierarchy/CoBase", withoutMarkers(classFile("fixture/hierarchy/CoBase")));
        Path jar = jar("app.jar", before);
        try (TransformingLoader a = new TransformingLoader(jar, transformer)) {
            Class.forName("fixture.hierarchy.CoSub", false, a); // reads CoBase, without coroutine functions
            assertEquals(List.of(), a.rewritten);
        }
        // the next build gives CoBase its marker: CoSub's override now inherits it
        jar("app.jar", classes("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"));
        try (TransformingLoader b = new TransformingLoader(jar, transformer)) {
            Class.forName("fixture.hierarchy.CoSub", false, b);
            assertEquals(List.of("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"), b.rewritten);
        }
    }
}
