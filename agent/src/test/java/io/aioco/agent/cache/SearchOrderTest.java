package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.instrumenter.ClassPathLookup;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The startup cache's search order and the instrumenter's class path reader walk the manifests
 * the same way, and both as the JDK's {@link URLClassLoader} does: a manifest's jars right after it,
 * relative to it, escapes decoded, a jar met again (a cycle, a class path entry a manifest named
 * first) skipped, a missing entry skipped.
 */
class SearchOrderTest {
    @TempDir
    Path tempDir;

    /**
     * Writes a jar holding {@code p/X0.class} to {@code p/X<rank>.class}, each holding the jar's
     * name: the jar of rank k in the search order is then the first that holds {@code p/X<k>}.
     */
    private static Path jar(Path file, int rank, String manifestClassPath) throws IOException {
        Files.createDirectories(file.getParent());
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifestClassPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, manifestClassPath);
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            for (int k = 0; k <= rank; k++) {
                jar.putNextEntry(new JarEntry("p/X" + k + ".class"));
                jar.write(file.getFileName().toString().getBytes(StandardCharsets.UTF_8));
                jar.closeEntry();
            }
        }
        return file;
    }

    @Test
    void theCacheTheClassPathReaderAndTheJdkSearchTheSameOrder() throws IOException {
        Path dir = tempDir.toRealPath(); // NOTE: the cache's class path is canonical, as the loader's is
        Path lib = dir.resolve("lib");
        // the order: a, what a names (b, what b names, then "c d", what it names), then the class path's rest
        List<Path> expected = List.of(lib.resolve("a.jar"), lib.resolve("b.jar"), dir.resolve("top.jar"),
                lib.resolve("sub/c d.jar"), lib.resolve("sub/e.jar"), dir.resolve("last.jar"));
        jar(expected.get(0), 0, "b.jar sub/c%20d.jar missing.jar b.jar");
        jar(expected.get(1), 1, "../top.jar a.jar"); // NOTE: a cycle back to a
        jar(expected.get(2), 2, null);
        jar(expected.get(3), 3, "e.jar");
        jar(expected.get(4), 4, null);
        jar(expected.get(5), 5, null);
        List<Path> classPath = List.of(expected.get(0), expected.get(4), expected.get(5)); // e met again

        URL[] urls = new URL[classPath.size()];
        for (int i = 0; i < urls.length; i++) {
            urls[i] = classPath.get(i).toUri().toURL();
        }
        List<Path> jdkOrder = new ArrayList<>();
        try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
            for (URL url : Collections.list(loader.getResources("p/X0.class"))) {
                String path = url.getPath(); // NOTE: jar:file:/...!/p/X0.class
                jdkOrder.add(Path.of(java.net.URI.create(path.substring(0, path.indexOf("!/")))));
            }
        }
        assertEquals(expected, jdkOrder, "the fixture's order is the JDK's");

        try (ClassPathLookup lookup = ClassPathLookup.open(classPath, null)) {
            for (int k = 0; k < expected.size(); k++) {
                assertArrayEquals(expected.get(k).getFileName().toString().getBytes(StandardCharsets.UTF_8),
                        lookup.classBytes("p/X" + k), "the class path reader finds p/X" + k + " where the JDK does");
            }
        }

        List<File> files = new ArrayList<>();
        for (Path entry : classPath) {
            files.add(entry.toFile());
        }
        SearchOrder order = SearchOrder.read(files, new boolean[] {true, true, true}, files.size());
        // NOTE: e is a manifest's jar too: met there first, so saved, and trusted under both indexes
        assertEquals("ref-" + expected.get(1) + "\nref-" + expected.get(2) + "\nref-" + expected.get(3)
                        + "\nref-" + expected.get(4) + "\nmissing " + lib.resolve("missing.jar") + "\n",
                order.text().replaceAll("(?m)^ref \\S+ \\S+ \\S+ ", "ref-"),
                "the jars the manifests name, in the JDK's order, each once");
        List<Integer> trusted = new ArrayList<>();
        for (int index : order.trusted()) {
            trusted.add(index);
        }
        for (Path jar : expected) {
            int index = order.jarIndex(jar.toFile());
            assertEquals(true, trusted.contains(index), jar + " is trusted: " + order.text());
        }
        assertEquals(expected.size() + 1, trusted.size(), "each jar once, e twice: " + order.text());
    }
}
