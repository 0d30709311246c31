package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which recorded classes the startup cache takes as clean, and which jars it trusts. */
class StartupCacheTest {
    private static final String[] NONE = {};

    @TempDir
    Path dir;

    private Path emptyJar(String name, String manifestClassPath) throws IOException {
        return indexedJar(name, null, manifestClassPath);
    }

    private StartupCache cache(List<Path> classPath) {
        return new StartupCache(new CachedClassPath(classPath.stream().map(Path::toString).toList(), "test"),
                dir.resolve("cache"), false);
    }

    private static Set<Long> hashes(CleanClassFile.Entries entries) {
        Set<Long> out = new HashSet<>();
        for (long hash : entries.hashes()) {
            out.add(hash);
        }
        return out;
    }

    private static ProtectionDomain domainOf(Path location) throws IOException {
        return new ProtectionDomain(new CodeSource(location.toUri().toURL(), (Certificate[]) null), null);
    }

    @Test
    void aChainDownToAClassOfAFolderHasNoCleanClass() throws IOException {
        StartupCache cache = cache(List.of(emptyJar("a.jar", null)));
        // A extends B extends F, F from a folder: never recorded, since the cache does not cover it
        cache.record("p/A", 0, 10, new String[] {"p/B"}, NONE);
        cache.record("p/B", 0, 10, new String[] {"p/F"}, NONE);
        assertEquals(0, cache.cleanEntries().size());
        cache.record("p/C", 0, 10, NONE, NONE); // extends a JDK type: clean
        assertEquals(Set.of(StartupCache.hash(0, "p/C")), hashes(cache.cleanEntries()));
    }

    @Test
    void aClassIsCleanWhenItsSupertypesAndFunctionalInterfacesHaveNoCoroutineFunctions() throws IOException {
        StartupCache cache = cache(List.of(emptyJar("a.jar", null)));
        cache.record("p/I", 0, 10, NONE, new String[] {"p/I"}); // a default method makes a lambda of I
        cache.record("p/Base", 0, 10, NONE, NONE);
        cache.record("p/Sub", 0, 11, new String[] {"p/Base", "p/I"}, new String[] {"p/I"});
        cache.record("p/UsesUnseen", 0, 12, NONE, new String[] {"p/Unseen"});
        cache.record("p/Middle", 0, 13, new String[] {"p/Unseen"}, NONE);
        cache.record("p/UsesMiddle", 0, 14, NONE, new String[] {"p/Middle"});
        CleanClassFile.Entries clean = cache.cleanEntries();
        assertEquals(Set.of(StartupCache.hash(0, "p/I"), StartupCache.hash(0, "p/Base"), StartupCache.hash(0, "p/Sub")),
                hashes(clean));
        assertEquals(11, clean.checksumOf(StartupCache.hash(0, "p/Sub")));
    }

    @Test
    void aClassOfAnEarlierRunCountsForTheClassesOfALaterOne() throws IOException {
        List<Path> classPath = List.of(emptyJar("a.jar", null), emptyJar("b.jar", null));
        StartupCache first = cache(classPath);
        first.record("p/Base", 1, 10, NONE, NONE);
        assertTrue(first.save());
        StartupCache second = cache(classPath);
        assertEquals(1, second.loadedCount());
        second.record("p/Sub", 0, 20, new String[] {"p/Base"}, NONE); // Base is skipped now, never recorded
        assertTrue(second.save());
        assertEquals(2, cache(classPath).loadedCount());
    }

    @Test
    void theClassesOfLaterRunsAreMergedIntoTheFileInHashOrder() throws IOException {
        List<Path> classPath = List.of(emptyJar("a.jar", null));
        for (int run = 0; run < 3; run++) {
            StartupCache cache = cache(classPath);
            assertEquals(50 * run, cache.loadedCount());
            for (int i = 0; i < 50; i++) {
                cache.record("p/C" + run + "_" + i, 0, 1000 * run + i, NONE, NONE);
            }
            assertTrue(cache.save());
        }
        CleanClassFile.Entries entries = CleanClassFile.decode(Files.readAllBytes(cache(classPath).file()),
                new CachedClassPath(classPath.stream().map(Path::toString).toList(), "test").key()).entries();
        for (int i = 1; i < entries.size(); i++) {
            assertTrue(entries.hashes()[i - 1] < entries.hashes()[i], "ascending at " + i);
        }
        for (int run = 0; run < 3; run++) {
            for (int i = 0; i < 50; i++) {
                assertEquals(1000 * run + i, entries.checksumOf(StartupCache.hash(0, "p/C" + run + "_" + i)));
            }
        }
    }

    @Test
    void onlyJarsBeforeTheFirstFolderAreCovered() throws IOException {
        Path first = emptyJar("first.jar", null);
        Path folder = Files.createDirectory(dir.resolve("classes"));
        Path after = emptyJar("after.jar", null);
        CachedClassPath classPath = new CachedClassPath(List.of(first.toString(), folder.toString(), after.toString(),
                dir.resolve("missing.jar").toString()), "test");
        classPath.readSearchOrder();
        assertEquals(0, classPath.jarIndex(domainOf(first)));
        ProtectionDomain firstAgain = domainOf(first);
        assertEquals(0, classPath.jarIndex(firstAgain));
        assertEquals(-1, classPath.jarIndex(domainOf(folder)));
        assertEquals(-1, classPath.jarIndex(domainOf(after)), "a folder before it could shadow its classes");
        assertEquals(-1, classPath.jarIndex(new ProtectionDomain(null, null)));
        assertTrue(classPath.key().contains("missing"));
    }

    @Test
    void theJarsAManifestNamesAreSearchedRightAfterItsJarAndTrusted() throws IOException {
        Files.createDirectories(dir.resolve("lib"));
        Path first = emptyJar("first.jar", null);
        Path app = emptyJar("app.jar", "lib/a.jar lib/gone.jar  lib/b.jar first.jar");
        Path a = emptyJar("lib/a.jar", "c.jar ../lib/b.jar"); // relative to lib/
        Path c = emptyJar("lib/c.jar", null);
        Path b = emptyJar("lib/b.jar", null);
        Path last = emptyJar("last.jar", null);
        CachedClassPath classPath = new CachedClassPath(List.of(first.toString(), app.toString(), last.toString()),
                "test");
        classPath.readSearchOrder();
        // the search order: first, app, a, c, b (named by a, so not again by app), last; the
        // class path's jars keep their indexes, the manifests' follow
        assertEquals(List.of(0, 1, 2, 3, 4, 5), trusted(classPath));
        assertEquals(1, classPath.jarIndex(domainOf(app)));
        assertEquals(3, classPath.jarIndex(domainOf(a)));
        assertEquals(4, classPath.jarIndex(domainOf(c)));
        assertEquals(5, classPath.jarIndex(domainOf(b)));
        assertEquals(2, classPath.jarIndex(domainOf(last)), "gone.jar does not exist: skipped, as the JDK skips it");
        assertTrue(classPath.searchOrderText().contains("missing " + dir.resolve("lib/gone.jar")),
                classPath.searchOrderText());

        StartupCache cache = new StartupCache(classPath, dir.resolve("cache"), false);
        cache.record("p/A", 3, 10, NONE, NONE);
        cache.record("p/Last", 2, 10, new String[] {"p/A"}, NONE);
        assertEquals(Set.of(StartupCache.hash(3, "p/A"), StartupCache.hash(2, "p/Last")), hashes(cache.cleanEntries()));
    }

    @Test
    void aFolderOrAnIndexedJarAManifestNamesEndsTrust() throws IOException {
        Files.createDirectories(dir.resolve("classes"));
        Path app = emptyJar("app.jar", "a.jar classes/ b.jar");
        Path a = emptyJar("a.jar", null);
        Path b = emptyJar("b.jar", null);
        Path last = emptyJar("last.jar", null);
        CachedClassPath classPath = new CachedClassPath(List.of(app.toString(), last.toString()), "test");
        classPath.readSearchOrder();
        assertEquals(List.of(0, 2), trusted(classPath), "app, a; then a folder");
        assertTrue(classPath.searchOrderText().endsWith("end 1\n"), classPath.searchOrderText());
        assertEquals(2, classPath.jarIndex(domainOf(a)));
        assertEquals(-1, classPath.jarIndex(domainOf(b)));
        assertEquals(-1, classPath.jarIndex(domainOf(last)));

        Path indexed = indexedJar("indexed.jar", "JarIndex-Version: 1.0\n\nindexed.jar\np\n\nother.jar\nq\n");
        Path web = emptyJar("web.jar", "http://example.com/remote.jar a.jar");
        for (Path stop : List.of(indexed, web)) {
            CachedClassPath withStop = new CachedClassPath(List.of(a.toString(), stop.toString(), last.toString()),
                    "test");
            withStop.readSearchOrder();
            assertEquals(stop == web ? List.of(0, 1) : List.of(0), trusted(withStop), stop.toString());
        }
    }

    @Test
    void aJarWhoseIndexNamesOnlyItselfIsTrustedAsGroovysIs() throws IOException {
        Path a = emptyJar("a.jar", null);
        Path last = emptyJar("last.jar", null);
        Path self = indexedJar("self.jar", "JarIndex-Version: 1.0\r\n\r\nself.jar\r\np\r\np/q\r\n\r\n");
        Path other = indexedJar("other.jar", "JarIndex-Version: 1.0\n\nother.jar\np\n\nlib/more.jar\nq\n");
        Path garbled = indexedJar("garbled.jar", "JarIndex-Version: 1.0\n\nnot-this.jar\n");
        Path withClassPath = indexedJar("cp.jar", "JarIndex-Version: 1.0\n\ncp.jar\np\n", "a.jar");
        for (Path middle : List.of(self, other, garbled, withClassPath)) {
            CachedClassPath classPath = new CachedClassPath(List.of(a.toString(), middle.toString(), last.toString()),
                    "test");
            classPath.readSearchOrder();
            assertEquals(middle == self ? List.of(0, 1, 2) : List.of(0), trusted(classPath), middle.toString());
        }
    }

    private Path indexedJar(String name, String index) throws IOException {
        return indexedJar(name, index, null);
    }

    /**
     * @param index the {@code META-INF/INDEX.LIST}, or null for none
     * @param manifestClassPath the manifest's {@code Class-Path}, or null (with an index: JDK 17
     *     ignores it; 21 and later ignore the index)
     */
    private Path indexedJar(String name, String index, String manifestClassPath) throws IOException {
        Path file = dir.resolve(name);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifestClassPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, manifestClassPath);
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            if (index != null) {
                jar.putNextEntry(new java.util.jar.JarEntry("META-INF/INDEX.LIST"));
                jar.write(index.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                jar.closeEntry();
            }
        }
        return file;
    }

    @Test
    void withoutAManifestClassPathTheSearchOrderIsEmptyAndReadsNothingAtALaterStart() throws IOException {
        Path first = emptyJar("first.jar", null);
        Path folder = Files.createDirectory(dir.resolve("classes"));
        Path after = emptyJar("after.jar", null);
        List<String> entries = List.of(first.toString(), dir.resolve("missing.jar").toString(), first.toString(),
                folder.toString(), after.toString());
        assertEquals("", searchOrderText(entries));
        CachedClassPath later = new CachedClassPath(entries, "test");
        assertTrue(later.useSearchOrder(""));
        assertEquals(List.of(0, 2), trusted(later), "first.jar twice: its second index never has a class");
        assertEquals(0, later.jarIndex(domainOf(first)));
        assertEquals(-1, later.jarIndex(domainOf(after)));
    }

    @Test
    void theSavedSearchOrderHoldsUntilAJarAManifestNamesChangesOrAMissingOneAppears() throws IOException {
        Files.createDirectories(dir.resolve("lib"));
        Path app = emptyJar("app.jar", "lib/a.jar lib/gone.jar");
        Path a = emptyJar("lib/a.jar", null);
        List<String> entries = List.of(app.toString());
        CachedClassPath read = new CachedClassPath(entries, "test");
        read.readSearchOrder();
        String text = read.searchOrderText();
        CachedClassPath later = new CachedClassPath(entries, "test");
        assertTrue(later.useSearchOrder(text), text);
        assertEquals(List.of(0, 1), trusted(later));
        assertEquals(1, later.jarIndex(domainOf(a)));

        assertTrue(a.toFile().setLastModified(a.toFile().lastModified() + 10_000));
        assertTrue(!new CachedClassPath(entries, "test").useSearchOrder(text), "a.jar has another time");
        text = searchOrderText(entries);
        Files.write(a, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND);
        assertTrue(!new CachedClassPath(entries, "test").useSearchOrder(text), "a.jar has another size");
        text = searchOrderText(entries);
        emptyJar("lib/gone.jar", null);
        assertTrue(!new CachedClassPath(entries, "test").useSearchOrder(text), "gone.jar appeared");
        text = searchOrderText(entries);
        assertTrue(new CachedClassPath(entries, "test").useSearchOrder(text), text);
        for (String damaged : List.of("end 2\n", "end 0\nend 0\n", "ref x 1 /a.jar\n", "end 0", "other\n")) {
            assertTrue(!new CachedClassPath(entries, "test").useSearchOrder(damaged), damaged);
        }
    }

    private static String searchOrderText(List<String> entries) {
        CachedClassPath classPath = new CachedClassPath(entries, "test");
        classPath.readSearchOrder();
        return classPath.searchOrderText();
    }

    private static List<Integer> trusted(CachedClassPath classPath) {
        return java.util.Arrays.stream(classPath.trustedJars()).boxed().toList();
    }

    @Test
    void onlyTheFilesUsedLastAreKept() throws IOException {
        Path folder = Files.createDirectories(dir.resolve("cache"));
        for (int i = 0; i < StartupCache.KEPT_FILES + 5; i++) {
            Path old = Files.writeString(folder.resolve("classes-old" + i + ".bin"), "x");
            Files.setLastModifiedTime(old, java.nio.file.attribute.FileTime.fromMillis(1_000_000L * (i + 1)));
        }
        Path leftOver = Files.writeString(folder.resolve("classes-x.bin123.tmp"), "x");
        Files.setLastModifiedTime(leftOver, java.nio.file.attribute.FileTime.fromMillis(1_000_000L));
        StartupCache cache = cache(List.of(emptyJar("a.jar", null)));
        cache.record("p/A", 0, 10, NONE, NONE);
        assertTrue(cache.save());
        try (var files = Files.list(folder)) {
            List<String> names = files.map(path -> path.getFileName().toString()).sorted().toList();
            assertEquals(StartupCache.KEPT_FILES, names.size(), names.toString());
            assertTrue(names.contains(cache.file().getFileName().toString()));
            for (int i = 0; i < 6; i++) {
                assertTrue(!names.contains("classes-old" + i + ".bin"), "the oldest go first: " + names);
            }
        }
    }

    @Test
    void theKeyHoldsEachJarsSizeAndTime() throws IOException {
        Path jar = emptyJar("a.jar", null);
        String before = new CachedClassPath(List.of(jar.toString()), "test").key();
        assertTrue(jar.toFile().setLastModified(jar.toFile().lastModified() - 60_000));
        assertNotEquals(before, new CachedClassPath(List.of(jar.toString()), "test").key());
        assertNotEquals(StartupCache.fileName(before), StartupCache.fileName(new CachedClassPath(List.of(jar.toString()),
                "test").key()));
    }
}
