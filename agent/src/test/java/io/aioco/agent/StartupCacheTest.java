package io.aioco.agent;

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
        Path file = dir.resolve(name);
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifestClassPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, manifestClassPath);
        }
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out, manifest)) {
            jar.flush();
        }
        return file;
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
        assertEquals(0, cache.cleanEntries(1).size());
        cache.record("p/C", 0, 10, NONE, NONE); // extends a JDK type: clean
        assertEquals(Set.of(StartupCache.hash(0, "p/C")), hashes(cache.cleanEntries(1)));
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
        CleanClassFile.Entries clean = cache.cleanEntries(1);
        assertEquals(Set.of(StartupCache.hash(0, "p/I"), StartupCache.hash(0, "p/Base"), StartupCache.hash(0, "p/Sub")),
                hashes(clean));
        assertEquals(11, clean.lengthOf(StartupCache.hash(0, "p/Sub")));
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
                new CachedClassPath(classPath.stream().map(Path::toString).toList(), "test").key());
        for (int i = 1; i < entries.size(); i++) {
            assertTrue(entries.hashes()[i - 1] < entries.hashes()[i], "ascending at " + i);
        }
        for (int run = 0; run < 3; run++) {
            for (int i = 0; i < 50; i++) {
                assertEquals(1000 * run + i, entries.lengthOf(StartupCache.hash(0, "p/C" + run + "_" + i)));
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
        assertEquals(0, classPath.jarIndex(domainOf(first)));
        ProtectionDomain firstAgain = domainOf(first);
        assertEquals(0, classPath.jarIndex(firstAgain));
        assertEquals(-1, classPath.jarIndex(domainOf(folder)));
        assertEquals(-1, classPath.jarIndex(domainOf(after)), "a folder before it could shadow its classes");
        assertEquals(-1, classPath.jarIndex(new ProtectionDomain(null, null)));
        assertTrue(classPath.key().contains("missing"));
    }

    @Test
    void aManifestClassPathEndsTheJarsThatMayBeSaved() throws IOException {
        Path first = emptyJar("first.jar", null);
        Path second = emptyJar("second.jar", "lib/extra.jar");
        Path third = emptyJar("third.jar", null);
        CachedClassPath classPath = new CachedClassPath(List.of(first.toString(), second.toString(), third.toString()),
                "test");
        assertEquals(2, classPath.limitByManifests(), "extra.jar comes right after second.jar");
        StartupCache cache = new StartupCache(classPath, dir.resolve("cache"), false);
        cache.record("p/A", 1, 10, NONE, NONE);
        cache.record("p/B", 2, 10, NONE, NONE);
        cache.record("p/C", 1, 10, new String[] {"p/B"}, NONE);
        assertEquals(Set.of(StartupCache.hash(1, "p/A")), hashes(cache.cleanEntries(classPath.limitByManifests())));
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
