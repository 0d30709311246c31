package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The class path is searched as a class loader searches it. */
class ClassPathLookupTest {
    @TempDir
    Path dir;

    private static void jar(Path file, Map<String, String> manifest, Map<String, String> entries) throws IOException {
        Files.createDirectories(file.getParent());
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.forEach((key, value) -> mf.getMainAttributes().putValue(key, value));
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, mf)) {
            for (Map.Entry<String, String> entry : entries.entrySet()) {
                jar.putNextEntry(new JarEntry(entry.getKey()));
                jar.write(entry.getValue().getBytes(StandardCharsets.UTF_8));
                jar.closeEntry();
            }
        }
    }

    private static String text(byte[] bytes) {
        return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
    }

    @Test
    void searchesInOrderWithManifestClassPathsRightAfterTheirJar() throws IOException {
        jar(dir.resolve("a.jar"), Map.of("Class-Path", "lib/b.jar missing.jar"), Map.of("p/A.class", "A"));
        jar(dir.resolve("lib/b.jar"), Map.of(), Map.of("p/B.class", "B", "p/C.class", "C from b"));
        jar(dir.resolve("c.jar"), Map.of(), Map.of("p/C.class", "C from c", "p/D.class", "D"));
        Path folder = dir.resolve("classes/p");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("D.class"), "D from the folder");
        ClassLookup jdk = name -> name.startsWith("java/") ? "jdk".getBytes(StandardCharsets.UTF_8) : null;
        try (ClassPathLookup lookup = ClassPathLookup.open(
                List.of(dir.resolve("classes"), dir.resolve("a.jar"), dir.resolve("c.jar"), dir.resolve("gone.jar")), jdk)) {
            assertEquals("jdk", text(lookup.classBytes("java/lang/Object")));
            assertEquals("A", text(lookup.classBytes("p/A")));
            assertEquals("B", text(lookup.classBytes("p/B")));
            assertEquals("C from b", text(lookup.classBytes("p/C")), "b.jar comes right after a.jar, before c.jar");
            // NOTE: a folder comes first here because it is first on the path
            assertEquals("D from the folder", text(lookup.classBytes("p/D")));
            assertNull(lookup.classBytes("p/Nowhere"));
        }
    }

    @Test
    void aJarBeforeAFolderIsSearchedFirst() throws IOException {
        jar(dir.resolve("first.jar"), Map.of(), Map.of("p/E.class", "E from the jar"));
        Path folder = dir.resolve("later/p");
        Files.createDirectories(folder);
        Files.writeString(folder.resolve("E.class"), "E from the folder");
        Files.writeString(folder.resolve("F.class"), "F from the folder");
        try (ClassPathLookup lookup = ClassPathLookup.open(List.of(dir.resolve("first.jar"), dir.resolve("later")), null)) {
            assertEquals("E from the jar", text(lookup.classBytes("p/E")), "class path order, not folders first");
            assertEquals("F from the folder", text(lookup.classBytes("p/F")));
        }
    }

    @Test
    void readsMultiReleaseJarsForTheRunningJdk() throws IOException {
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("p/M.class", "base");
        entries.put("META-INF/versions/9/p/M.class", "for 9");
        entries.put("META-INF/versions/9999/p/M.class", "for a future JDK");
        jar(dir.resolve("mr.jar"), Map.of("Multi-Release", "true"), entries);
        try (ClassPathLookup lookup = ClassPathLookup.open(List.of(dir.resolve("mr.jar")), null)) {
            assertEquals("for 9", text(lookup.classBytes("p/M")));
        }
    }

    @Test
    void findsWhatAClassLoaderFindsAcrossPackagesSplitOverJarsAndVersions() throws IOException {
        Map<String, String> mr = new LinkedHashMap<>();
        mr.put("p/Split.class", "Split from mr");
        mr.put("META-INF/versions/9/q/OnlyVersioned.class", "OnlyVersioned for 9");
        mr.put("META-INF/versions/9/Top.class", "Top for 9");
        mr.put("META-INF/versions/9999/r/Future.class", "Future");
        jar(dir.resolve("mr.jar"), Map.of("Multi-Release", "true"), mr);
        Map<String, String> other = new LinkedHashMap<>();
        other.put("p/Split.class", "Split from other");
        other.put("p/Other.class", "Other");
        other.put("Top.class", "Top from other");
        other.put("q/OnlyVersioned.class", "OnlyVersioned from other");
        other.put("r/Future.class", "Future from other");
        other.put("s/t/Deep.class", "Deep");
        other.put("s/NotAClass.txt", "text");
        jar(dir.resolve("other.jar"), Map.of(), other);
        try (ClassPathLookup lookup = assertFindsWhatAClassLoaderFinds(
                List.of(dir.resolve("mr.jar"), dir.resolve("other.jar")), List.of("p/Split", "p/Other",
                        "q/OnlyVersioned", "Top", "r/Future", "s/t/Deep", "s/NotAClass", "s/Missing", "Missing", "u/Missing"))) {
            assertEquals("Future from other", text(lookup.classBytes("r/Future")), "a version above the JDK's is not read");
            assertEquals("OnlyVersioned for 9", text(lookup.classBytes("q/OnlyVersioned")));
        }
    }

    @Test
    void listsTheClassesOfItsElementsAsTheRunningJdkReadsThem() throws IOException {
        Map<String, String> mr = new LinkedHashMap<>();
        mr.put("p/M.class", "M base");
        mr.put("p/package-info.class", "package info");
        mr.put("META-INF/versions/9/p/M.class", "M for 9");
        mr.put("META-INF/versions/9/q/OnlyNine.class", "OnlyNine for 9");
        mr.put("META-INF/versions/9/module-info.class", "module info");
        mr.put("META-INF/versions/9999/r/Future.class", "Future");
        jar(dir.resolve("mr.jar"), Map.of("Multi-Release", "true"), mr);
        Map<String, String> plain = new LinkedHashMap<>();
        plain.put("s/S.class", "S");
        plain.put("p/M.class", "M from plain");
        plain.put("META-INF/versions/9/s/T.class", "not multi-release: no class");
        jar(dir.resolve("plain.jar"), Map.of(), plain);
        Files.createDirectories(dir.resolve("classes/f"));
        Files.writeString(dir.resolve("classes/f/F.class"), "F");
        Files.writeString(dir.resolve("classes/f/notes.txt"), "text");
        List<Path> path = List.of(dir.resolve("mr.jar"), dir.resolve("plain.jar"), dir.resolve("classes"));
        try (ClassPathLookup lookup = ClassPathLookup.open(path, null);
                java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {
                    path.get(0).toUri().toURL(), path.get(1).toUri().toURL(), path.get(2).toUri().toURL()}, null);
                java.util.jar.JarFile versioned = new java.util.jar.JarFile(path.get(0).toFile(), true,
                        java.util.zip.ZipFile.OPEN_READ, Runtime.version())) {
            List<String> names = lookup.classNames();
            assertEquals(java.util.Set.of("p/M", "q/OnlyNine"), java.util.Set.copyOf(names.subList(0, 2)),
                    "mr.jar's classes as the running JDK reads it, first");
            assertEquals(List.of("s/S", "f/F"), names.subList(2, names.size()), "then the others', each once");
            for (String name : names) {
                byte[] expected;
                try (java.io.InputStream in = loader.getResourceAsStream(name + ".class")) {
                    expected = in.readAllBytes();
                }
                assertEquals(text(expected), text(lookup.classBytes(name)), name + ": as a URLClassLoader reads it");
            }
            for (String name : List.of("p/M", "q/OnlyNine")) {
                try (java.io.InputStream in = versioned.getInputStream(versioned.getJarEntry(name + ".class"))) {
                    assertEquals(text(in.readAllBytes()), text(lookup.classBytes(name)),
                            name + ": as JarFile reads it for Runtime.version()");
                }
            }
            assertEquals("M for 9", text(lookup.classBytes("p/M")));
            assertNull(loader.getResource("r/Future.class"), "a version above the running JDK's is no class");
            assertNull(loader.getResource("s/T.class"), "nor is a versioned entry of a jar that is not multi-release");
        }
    }

    @Test
    void listsAGivenJarAManifestNamedFirst() throws IOException {
        jar(dir.resolve("app.jar"), Map.of("Class-Path", "lib.jar"), Map.of("a/A.class", "A"));
        jar(dir.resolve("lib.jar"), Map.of(), Map.of("l/L.class", "L"));
        jar(dir.resolve("other.jar"), Map.of(), Map.of("o/O.class", "O"));
        try (ClassPathLookup onlyApp = ClassPathLookup.open(List.of(dir.resolve("app.jar")), null);
                ClassPathLookup both = ClassPathLookup.open(
                        List.of(dir.resolve("app.jar"), dir.resolve("other.jar"), dir.resolve("lib.jar")), null)) {
            assertEquals(List.of("a/A"), onlyApp.classNames(), "a jar a manifest names is searched, not listed");
            assertEquals("L", text(onlyApp.classBytes("l/L")));
            assertEquals(List.of("a/A", "o/O", "l/L"), both.classNames());
        }
    }

    /**
     * Compares the lookup with a {@link java.net.URLClassLoader} over the same jars, name by name.
     *
     * @return the lookup, open, for more checks
     */
    private static ClassPathLookup assertFindsWhatAClassLoaderFinds(List<Path> path, List<String> names)
            throws IOException {
        ClassPathLookup lookup = ClassPathLookup.open(path, null);
        java.net.URL[] urls = new java.net.URL[path.size()];
        for (int i = 0; i < urls.length; i++) {
            urls[i] = path.get(i).toUri().toURL();
        }
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(urls, null)) {
            for (String name : names) {
                byte[] expected;
                try (java.io.InputStream in = loader.getResourceAsStream(name + ".class")) {
                    expected = in == null ? null : in.readAllBytes();
                }
                assertEquals(text(expected), text(lookup.classBytes(name)), name);
            }
        } catch (IOException | RuntimeException | AssertionError e) {
            lookup.close();
            throw e;
        }
        return lookup;
    }

    @Test
    void readsAManifestsEntriesAsUrlsAsAClassLoaderDoes() throws IOException {
        Path absolute = dir.resolve("abs/absolute.jar");
        jar(dir.resolve("app.jar"), Map.of("Class-Path",
                "my%20lib.jar plus+sign.jar 100%25.jar\tlib/../up.jar " + absolute.toUri() + " ftp://nowhere.invalid/x.jar"),
                Map.of());
        jar(dir.resolve("my lib.jar"), Map.of(), Map.of("p/Space.class", "Space"));
        jar(dir.resolve("plus+sign.jar"), Map.of(), Map.of("p/Plus.class", "Plus"));
        jar(dir.resolve("plus sign.jar"), Map.of(), Map.of("p/Plus.class", "Plus, wrongly decoded"));
        jar(dir.resolve("100%.jar"), Map.of(), Map.of("p/Percent.class", "Percent"));
        jar(dir.resolve("up.jar"), Map.of(), Map.of("p/Up.class", "Up"));
        jar(absolute, Map.of(), Map.of("p/Absolute.class", "Absolute"));
        try (ClassPathLookup lookup = assertFindsWhatAClassLoaderFinds(List.of(dir.resolve("app.jar")),
                List.of("p/Space", "p/Plus", "p/Percent", "p/Up", "p/Absolute", "p/Missing"))) {
            assertEquals("Plus", text(lookup.classBytes("p/Plus")), "a plus is no space in a URL's path");
            assertEquals("Space", text(lookup.classBytes("p/Space")));
        }
        // NOTE: the JDK's loader throws IllegalArgumentException out of a look-up for such an entry;
        // the lookup skips it and searches on
        jar(dir.resolve("odd.jar"), Map.of("Class-Path", "bad%zz.jar up.jar"), Map.of());
        try (ClassPathLookup lookup = ClassPathLookup.open(List.of(dir.resolve("odd.jar")), null)) {
            assertEquals("Up", text(lookup.classBytes("p/Up")));
        }
    }

    @Test
    void decodesPercentEscapesAsUtf8AndNothingElse() {
        assertEquals("a b+c", ManifestClassPath.percentDecoded("a%20b+c"));
        assertEquals("\u00e9t\u00e9", ManifestClassPath.percentDecoded("%C3%A9t%c3%a9"));
        assertEquals("100%", ManifestClassPath.percentDecoded("100%25"));
        assertEquals("plain", ManifestClassPath.percentDecoded("plain"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ManifestClassPath.percentDecoded("a%2"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ManifestClassPath.percentDecoded("a%zz"));
    }

    /**
     * In a child JVM started with the given options, prints the bytes that {@link ClassPathLookup}
     * and a {@link java.net.URLClassLoader} over the same jar find for {@code p/Svc}.
     */
    public static final class MultiReleaseProbe {
        public static void main(String[] args) throws Exception {
            Path jar = Path.of(args[0]);
            try (ClassPathLookup lookup = ClassPathLookup.open(List.of(jar), null);
                    java.net.URLClassLoader loader = new java.net.URLClassLoader(
                            new java.net.URL[] {jar.toUri().toURL()}, null)) {
                String loaded;
                try (java.io.InputStream in = loader.getResourceAsStream("p/Svc.class")) {
                    loaded = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                }
                System.out.println("lookup=" + text(lookup.classBytes("p/Svc")) + " loader=" + loaded
                        + " names=" + new java.util.TreeSet<>(lookup.classNames()));
            }
        }
    }

    private String probe(Path jar, String... options) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        command.addAll(List.of(options));
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), MultiReleaseProbe.class.getName(),
                jar.toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(0, process.waitFor(), output);
        return output;
    }

    @Test
    void aMultiReleaseJarIsReadAsTheClassLoaderReadsItUnderTheJarProperties() throws Exception {
        Path jar = dir.resolve("mr.jar");
        Map<String, String> entries = new LinkedHashMap<>();
        entries.put("p/Svc.class", "base");
        entries.put("META-INF/versions/11/p/Svc.class", "v11");
        entries.put("META-INF/versions/17/p/Svc.class", "v17");
        entries.put("META-INF/versions/17/p/Only17.class", "only 17");
        jar(jar, Map.of("Multi-Release", "true"), entries);
        assertEquals("lookup=v17 loader=v17 names=[p/Only17, p/Svc]", probe(jar));
        assertEquals("lookup=v11 loader=v11 names=[p/Svc]", probe(jar, "-Djdk.util.jar.version=11"));
        assertEquals("lookup=base loader=base names=[p/Svc]", probe(jar, "-Djdk.util.jar.enableMultiRelease=false"));
    }
}
