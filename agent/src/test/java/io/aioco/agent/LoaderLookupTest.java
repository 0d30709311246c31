package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a loader's class path directly gives what its resources give. */
class LoaderLookupTest {
    @TempDir
    Path dir;

    private static Path jar(Path file, String entry, String content) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out)) {
            jar.putNextEntry(new JarEntry(entry));
            jar.write(content.getBytes(StandardCharsets.UTF_8));
            jar.closeEntry();
        }
        return file;
    }

    private static byte[] resource(ClassLoader loader, String internalName) throws IOException {
        try (InputStream in = loader.getResourceAsStream(internalName + ".class")) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static byte[] opened(LoaderLookup lookup, String internalName) throws IOException {
        try (InputStream in = lookup.openClassFile(internalName)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    @Test
    void aUrlClassLoaderOverFilesIsReadDirectlyWithTheSameAnswers() throws IOException {
        Path first = jar(dir.resolve("first.jar"), "p/X.class", "X from first");
        Path second = jar(dir.resolve("second.jar"), "p/X.class", "X from second");
        jar(dir.resolve("third.jar"), "org/w3c/dom/Node.class", "a copy of a JDK class");
        List<ClassLoader> loaders = List.of(
                new URLClassLoader(new URL[] {first.toUri().toURL(), second.toUri().toURL(),
                        dir.resolve("third.jar").toUri().toURL()}, ClassLoader.getPlatformClassLoader()),
                // below the application loader: its search order is not known here, resources answer
                new URLClassLoader(new URL[] {first.toUri().toURL()}, getClass().getClassLoader()));
        for (ClassLoader loader : loaders) {
            LoaderLookup lookup = new LoaderLookup(loader);
            for (String name : List.of("p/X", "java/lang/String", "org/w3c/dom/Node", "p/Missing",
                    "io/aioco/agent/LoaderLookupTest")) {
                assertArrayEquals(resource(loader, name), lookup.classBytes(name), name + " in " + loader);
                assertArrayEquals(resource(loader, name), opened(lookup, name), name + " in " + loader);
            }
        }
        assertNotNull(new LoaderLookup(loaders.get(0)).classBytes("p/X"));
        assertNull(new LoaderLookup(loaders.get(0)).classBytes("p/Missing"));
    }

    @Test
    void theApplicationLoaderGivesWhatItsResourcesGive() throws IOException {
        ClassLoader app = ClassLoader.getSystemClassLoader();
        LoaderLookup lookup = new LoaderLookup(app);
        for (String name : List.of("io/aioco/agent/LoaderLookup", "org/junit/jupiter/api/Test",
                "org/objectweb/asm/ClassReader", "java/util/List", "p/Missing")) {
            assertArrayEquals(resource(app, name), lookup.classBytes(name), name);
            assertArrayEquals(resource(app, name), opened(lookup, name), name);
        }
    }
}
