package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.agent.AgentOptions;
import io.aioco.agent.CoroutineTransformer;
import io.aioco.agent.TransformingLoader;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.security.cert.Certificate;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The startup cache across runs, each run a fresh transformer and a loader playing the application
 * class loader's part over small jars: it calls the transformer before defining each class, with
 * the protection domain of the class's jar, as the JVM does. A run ends with the save the shutdown
 * hook would do.
 */
class StartupCacheLoadingTest {
    @TempDir
    Path dir;

    private Path cacheDir;
    private Path baseJar;
    private Path appJar;

    /** Defines the classes of its jars itself (child first, the first jar's of a name), calling the transformer on each. */
    private static final class JarLoader extends TransformingLoader {
        JarLoader(List<Path> jars, StartupCache cache) throws IOException {
            super("test-app");
            for (Path jar : jars) {
                ProtectionDomain domain = new ProtectionDomain(new CodeSource(jar.toUri().toURL(), (Certificate[]) null),
                        null, this, null);
                try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
                    for (JarEntry entry : java.util.Collections.list(file.entries())) {
                        if (!entry.getName().endsWith(".class")) {
                            continue;
                        }
                        String name = entry.getName().substring(0, entry.getName().length() - ".class".length());
                        try (InputStream in = file.getInputStream(entry)) {
                            add(name, in.readAllBytes(), domain);
                        }
                    }
                }
            }
            transformer(new CoroutineTransformer(AgentOptions.parse("cache=off"), cache, this));
        }
    }

    /** One run: a cache read from the folder, a loader, the classes loaded in order. */
    private final class Run {
        final StartupCache cache;
        final JarLoader loader;

        Run(Path cacheFolder, String... classNames) throws Exception {
            this(List.of(baseJar, appJar), List.of(baseJar, appJar), cacheFolder, classNames);
        }

        /**
         * @param classPath the class path ({@code java.class.path})
         * @param searched the jars the loader searches, in order: the class path's and those their
         *     manifests name, as the JDK's application class loader searches them
         */
        Run(List<Path> classPath, List<Path> searched, Path cacheFolder, String... classNames) throws Exception {
            cache = new StartupCache(new CachedClassPath(classPath.stream().map(Path::toString).toList(), "test agent"),
                    cacheFolder, false);
            loader = new JarLoader(searched, cache);
            for (String name : classNames) {
                Class.forName(name, false, loader);
            }
        }
    }

    private static byte[] classFile(String internalName) throws IOException {
        try (InputStream in = StartupCacheLoadingTest.class.getResourceAsStream("/" + internalName + ".class")) {
            return in.readAllBytes();
        }
    }

    private static Path jar(Path file, String... internalNames) throws IOException {
        return jarWithManifest(file, null, internalNames);
    }

    /** @param manifestClassPath the manifest's {@code Class-Path}, or null for no manifest */
    private static Path jarWithManifest(Path file, String manifestClassPath, String... internalNames) throws IOException {
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        if (manifestClassPath != null) {
            manifest.getMainAttributes().put(Attributes.Name.CLASS_PATH, manifestClassPath);
        }
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file);
                JarOutputStream jar = manifestClassPath == null ? new JarOutputStream(out)
                        : new JarOutputStream(out, manifest)) {
            for (String name : internalNames) {
                jar.putNextEntry(new JarEntry(name + ".class"));
                jar.write(classFile(name));
                jar.closeEntry();
            }
        }
        return file;
    }

    @BeforeEach
    void jars() throws IOException {
        cacheDir = dir.resolve("cache");
        baseJar = jar(dir.resolve("base.jar"), "fixture/hierarchy/CoBase", "fixture/hierarchy/PlainBase",
                "fixture/cache/CoAction", "fixture/cache/PlainAction");
        appJar = jar(dir.resolve("app.jar"), "fixture/hierarchy/CoSub", "fixture/hierarchy/PlainSub",
                "fixture/cache/UsesCoLambda", "fixture/cache/UsesPlainLambda");
    }

    /** A reproducible build's time: every entry and the jar itself are dated so. */
    private static final long PINNED_TIME = 1_600_000_000_000L;

    /**
     * {@code fixture/cache/Rebuilt} alone in a jar of stored (uncompressed) entries, every time
     * pinned: the jar's size and time are the same whether the class is the clean variant or not.
     *
     * @param clean whether to write the variant that names no runtime (same length)
     */
    private static Path reproducibleJar(Path file, boolean clean) throws IOException {
        byte[] bytes = classFile("fixture/cache/Rebuilt");
        if (clean) {
            String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
            bytes = text.replace("io/aioco/", "io/aiocx/").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        }
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        Files.createDirectories(file.getParent());
        try (OutputStream out = Files.newOutputStream(file); JarOutputStream jar = new JarOutputStream(out)) {
            JarEntry entry = new JarEntry("fixture/cache/Rebuilt.class");
            entry.setMethod(java.util.zip.ZipEntry.STORED);
            entry.setSize(bytes.length);
            entry.setCompressedSize(bytes.length);
            entry.setCrc(crc.getValue());
            entry.setTime(PINNED_TIME);
            jar.putNextEntry(entry);
            jar.write(bytes);
            jar.closeEntry();
        }
        assertTrue(file.toFile().setLastModified(PINNED_TIME));
        return file;
    }

    /** Runs {@code fixture.cache.Rebuilt} from a clean build of its jar, then from a rebuild of the same size and time. */
    private void assertARebuildOfTheSameSizeAndTimeIsNotSkipped(Path rebuilt, List<Path> classPath, List<Path> searched)
            throws Exception {
        reproducibleJar(rebuilt, true);
        long size = Files.size(rebuilt);
        Run first = new Run(classPath, searched, cacheDir, "fixture.cache.Rebuilt");
        assertEquals(List.of(), first.loader.rewritten, "the variant naming no runtime is clean");
        assertTrue(first.cache.save());
        assertEquals(1, new Run(classPath, searched, cacheDir, "fixture.cache.Rebuilt").cache.hits,
                "skipped while the jar is the same");

        reproducibleJar(rebuilt, false);
        assertEquals(size, Files.size(rebuilt), "the rebuilt jar has the same size");
        assertEquals(PINNED_TIME, rebuilt.toFile().lastModified(), "and the same time");
        Run afterRebuild = new Run(classPath, searched, cacheDir, "fixture.cache.Rebuilt");
        assertEquals(0, afterRebuild.cache.hits, "a class of the same length in a jar of another content");
        assertEquals(List.of("fixture/cache/Rebuilt"), afterRebuild.loader.rewritten,
                "its new coroutine function is rewritten");
    }

    @Test
    void aRedefinitionIsNeverAnsweredFromTheCache() throws Exception {
        Path rebuilt = reproducibleJar(dir.resolve("rebuilt.jar"), true);
        List<Path> classPath = List.of(rebuilt);
        assertTrue(new Run(classPath, classPath, cacheDir, "fixture.cache.Rebuilt").cache.save());
        Run second = new Run(classPath, classPath, cacheDir, "fixture.cache.Rebuilt");
        assertEquals(1, second.cache.hits, "the clean variant is skipped at its load");

        // a hot swap of the loaded class with a coroutine function of the same length: the
        // transformer must weave it, whatever the cache holds of the class's name and length
        Class<?> loaded = Class.forName("fixture.cache.Rebuilt", false, second.loader);
        byte[] swapped = classFile("fixture/cache/Rebuilt");
        ProtectionDomain domain = loaded.getProtectionDomain();
        byte[] woven = second.loader.transformer().transform(second.loader, "fixture/cache/Rebuilt", loaded, domain,
                swapped);
        assertTrue(woven != null && woven.length > swapped.length, "the redefinition is woven");
        assertEquals(1, second.cache.hits, "and the cache was not asked");
    }

    @Test
    void aJarRebuiltWithTheSameSizeAndTimeIsNotTakenForTheOldOne() throws Exception {
        Path rebuilt = dir.resolve("rebuilt.jar");
        assertARebuildOfTheSameSizeAndTimeIsNotSkipped(rebuilt, List.of(rebuilt), List.of(rebuilt));
    }

    @Test
    void aJarAManifestNamesRebuiltWithTheSameSizeAndTimeIsNotTakenForTheOldOne() throws Exception {
        Path launcher = jarWithManifest(dir.resolve("launcher.jar"), "lib/rebuilt.jar");
        Path rebuilt = dir.resolve("lib").resolve("rebuilt.jar");
        assertARebuildOfTheSameSizeAndTimeIsNotSkipped(rebuilt, List.of(launcher), List.of(launcher, rebuilt));
    }

    @Test
    void aCleanClassFromACachedJarIsSkippedOnTheSecondRun() throws Exception {
        Run first = new Run(cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, first.cache.hits);
        assertTrue(first.cache.save());

        Run second = new Run(cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(2, second.cache.loadedCount());
        assertEquals(List.of("fixture/hierarchy/PlainSub", "fixture/hierarchy/PlainBase"), second.loader.transformed);
        assertEquals(2, second.cache.hits, "both classes skipped before any scan");
        assertFalse(second.cache.save(), "nothing new to save");
        Class<?> sub = Class.forName("fixture.hierarchy.PlainSub", false, second.loader);
        assertEquals(2, sub.getMethod("value").invoke(sub.getDeclaredConstructor().newInstance()));
    }

    @Test
    void anOverrideOfACoroutineFunctionFromAnotherJarIsInstrumentedInBothRuns() throws Exception {
        for (int run = 0; run < 2; run++) {
            Run current = new Run(cacheDir, "fixture.hierarchy.CoSub", "fixture.hierarchy.PlainSub");
            assertEquals(List.of("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"),
                    current.loader.rewritten, "run " + run);
            assertEquals(run == 0 ? 0 : 2, current.cache.hits, "only PlainSub and PlainBase are clean");
            current.cache.save();
        }
    }

    @Test
    void aLambdaOfACoroutineInterfaceIsInstrumentedInBothRuns() throws Exception {
        for (int run = 0; run < 2; run++) {
            Run current = new Run(cacheDir, "fixture.cache.CoAction", "fixture.cache.UsesCoLambda",
                    "fixture.cache.PlainAction", "fixture.cache.UsesPlainLambda");
            assertEquals(List.of("fixture/cache/UsesCoLambda"), current.loader.rewritten,
                    "run " + run);
            assertEquals(run == 0 ? 0 : 2, current.cache.hits, "only PlainAction and UsesPlainLambda are clean");
            current.cache.save();
        }
    }

    @Test
    void aLambdaWhoseInterfaceWasNeverLoadedIsNotCached() throws Exception {
        Run first = new Run(cacheDir, "fixture.cache.UsesPlainLambda");
        assertEquals(List.of("fixture/cache/UsesPlainLambda"), first.loader.transformed);
        assertFalse(first.cache.save(), "PlainAction was read, not loaded: nothing is known clean");
        Run second = new Run(cacheDir, "fixture.cache.UsesPlainLambda");
        assertEquals(0, second.cache.hits);
    }

    @Test
    void aChangedJarMakesAnotherKeySoTheOldFileIsNotUsed() throws Exception {
        assertTrue(new Run(cacheDir, "fixture.hierarchy.PlainSub").cache.save());
        assertTrue(appJar.toFile().setLastModified(appJar.toFile().lastModified() + 10_000));
        Run afterTouch = new Run(cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, afterTouch.cache.loadedCount());
        assertEquals(0, afterTouch.cache.hits);

        assertTrue(afterTouch.cache.save());
        Files.write(appJar, new byte[] {1, 2, 3}, java.nio.file.StandardOpenOption.APPEND); // another size
        Run afterGrowth = new Run(cacheDir);
        assertEquals(0, afterGrowth.cache.loadedCount());
    }

    @Test
    void aCorruptOrTruncatedFileIsIgnoredAndClassesStillLoad() throws Exception {
        Run first = new Run(cacheDir, "fixture.hierarchy.PlainSub", "fixture.hierarchy.CoSub");
        assertTrue(first.cache.save());
        Path file = first.cache.file();
        byte[] whole = Files.readAllBytes(file);
        try (java.io.RandomAccessFile huge = new java.io.RandomAccessFile(file.toFile(), "rw")) {
            huge.setLength(StartupCache.MAX_FILE_BYTES + 1); // sparse: larger than any file the agent writes
        }
        Run afterHuge = new Run(cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, afterHuge.cache.loadedCount());
        List<byte[]> damaged = List.of(java.util.Arrays.copyOf(whole, whole.length - 5), new byte[0],
                new byte[] {0x41, 0x49, 0x4F, 0x43, 0, 0, 0, 1, 0x7F, 0, 0, 0}, "not a cache file".getBytes());
        for (byte[] bytes : damaged) {
            Files.write(file, bytes);
            Run next = new Run(cacheDir, "fixture.hierarchy.PlainSub", "fixture.hierarchy.CoSub");
            assertEquals(0, next.cache.loadedCount());
            assertEquals(0, next.cache.hits);
            assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                    next.loader.rewritten.stream().sorted().toList());
        }
    }

    /**
     * {@code java -jar launcher.jar}: the class path is one jar with no classes, whose manifest
     * names {@code lib/gone.jar} (missing), {@code lib/base.jar} and {@code lib/app.jar}.
     */
    private final class JavaJar {
        final Path launcher;
        final Path lib = dir.resolve("lib");
        final Path base;
        final Path app;

        JavaJar() throws IOException {
            launcher = jarWithManifest(dir.resolve("launcher.jar"), "lib/gone.jar lib/base.jar lib/app.jar");
            base = Files.copy(baseJar, Files.createDirectories(lib).resolve("base.jar"));
            app = Files.copy(appJar, lib.resolve("app.jar"));
        }

        Run run(String... classNames) throws Exception {
            return new Run(List.of(launcher), List.of(launcher, base, app), cacheDir, classNames);
        }
    }

    @Test
    void theClassesOfTheJarsAManifestNamesAreSkippedOnTheSecondRun() throws Exception {
        JavaJar javaJar = new JavaJar();
        for (int run = 0; run < 2; run++) {
            Run current = javaJar.run("fixture.hierarchy.PlainSub", "fixture.hierarchy.CoSub");
            assertEquals(List.of("fixture/hierarchy/CoSub", "fixture/hierarchy/CoBase"), current.loader.rewritten,
                    "run " + run);
            assertEquals(run == 0 ? 0 : 2, current.cache.loadedCount(), "run " + run);
            assertEquals(run == 0 ? 0 : 2, current.cache.hits, "PlainSub (app.jar) and PlainBase (base.jar)");
            assertEquals(run == 0, current.cache.save(), "run " + run);
        }
    }

    @Test
    void aChangedJarAManifestNamesMakesTheFileUnused() throws Exception {
        JavaJar javaJar = new JavaJar();
        assertTrue(javaJar.run("fixture.hierarchy.PlainSub").cache.save());
        assertTrue(javaJar.base.toFile().setLastModified(javaJar.base.toFile().lastModified() + 10_000));
        Run afterTouch = javaJar.run("fixture.hierarchy.PlainSub");
        assertEquals(0, afterTouch.cache.loadedCount());
        assertEquals(0, afterTouch.cache.hits);
        assertTrue(afterTouch.cache.save(), "the file of this key is written again, with base.jar's new time");
        assertEquals(2, javaJar.run("fixture.hierarchy.PlainSub").cache.hits);

        // base.jar with another size: PlainBase now inherits from nothing of app.jar, but the verdicts go
        jar(javaJar.base, "fixture/hierarchy/PlainBase", "fixture/hierarchy/CoBase");
        Run afterRebuild = javaJar.run("fixture.hierarchy.PlainSub");
        assertEquals(0, afterRebuild.cache.loadedCount());
        assertEquals(0, afterRebuild.cache.hits);
    }

    @Test
    void aJarAddedToAManifestMakesTheFileUnused() throws Exception {
        JavaJar javaJar = new JavaJar();
        assertTrue(javaJar.run("fixture.hierarchy.PlainSub").cache.save());
        // app.jar's manifest now names another jar, before base.jar in the search order: it could
        // shadow PlainBase, the class PlainSub's verdict rests on
        Path extra = jar(javaJar.lib.resolve("extra.jar"), "fixture/cache/PlainAction");
        jarWithManifest(javaJar.app, "extra.jar", "fixture/hierarchy/CoSub", "fixture/hierarchy/PlainSub",
                "fixture/cache/UsesCoLambda", "fixture/cache/UsesPlainLambda");
        Run afterApp = new Run(List.of(javaJar.launcher), List.of(javaJar.launcher, javaJar.base, javaJar.app, extra),
                cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, afterApp.cache.loadedCount());
        assertEquals(0, afterApp.cache.hits);
        assertTrue(afterApp.cache.save());

        // the class path's jar names one more: it has another size, so the key is another
        jarWithManifest(javaJar.launcher, "lib/gone.jar lib/base.jar lib/app.jar lib/more.jar");
        Run afterLauncher = new Run(List.of(javaJar.launcher),
                List.of(javaJar.launcher, javaJar.base, javaJar.app, extra), cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, afterLauncher.cache.loadedCount());
        assertEquals(0, afterLauncher.cache.hits);
    }

    @Test
    void aMissingJarAManifestNamesIsSkippedUntilItAppears() throws Exception {
        JavaJar javaJar = new JavaJar();
        assertTrue(javaJar.run("fixture.hierarchy.PlainSub").cache.save());
        assertEquals(2, javaJar.run("fixture.hierarchy.PlainSub").cache.hits, "trusted past lib/gone.jar");
        // gone.jar appears, first in the search order after the launcher: its PlainBase would shadow base.jar's
        Path gone = jar(javaJar.lib.resolve("gone.jar"), "fixture/hierarchy/PlainBase");
        Run afterAppearing = new Run(List.of(javaJar.launcher), List.of(javaJar.launcher, gone, javaJar.base, javaJar.app),
                cacheDir, "fixture.hierarchy.PlainSub");
        assertEquals(0, afterAppearing.cache.loadedCount());
        assertEquals(0, afterAppearing.cache.hits);
    }

    @Test
    void aClassDefinedAtRunTimeWithAJarsDomainIsWovenThoughACleanClassOfItsNameAndLengthIsCached()
            throws Exception {
        Path jar = reproducibleJar(dir.resolve("gen.jar"), true);
        List<Path> classPath = List.of(jar);
        Run first = new Run(classPath, classPath, cacheDir, "fixture.cache.Rebuilt");
        assertEquals(List.of(), first.loader.rewritten, "the variant naming no runtime is clean");
        assertTrue(first.cache.save());

        // a code generator defines, into the application loader, bytes of its own under that name:
        // the JVM gives them the domain of the jar of the lookup class, here the jar of the clean one
        Run second = new Run(classPath, classPath, cacheDir);
        byte[] generated = classFile("fixture/cache/Rebuilt");
        byte[] cleanVariant;
        try (java.util.jar.JarFile file = new java.util.jar.JarFile(jar.toFile())) {
            cleanVariant = file.getInputStream(file.getEntry("fixture/cache/Rebuilt.class")).readAllBytes();
        }
        assertEquals(cleanVariant.length, generated.length, "same name, same length, other bytes");
        ProtectionDomain domain = new ProtectionDomain(new CodeSource(jar.toUri().toURL(), (Certificate[]) null),
                null, second.loader, null);
        byte[] woven = second.loader.transformer().transform(second.loader, "fixture/cache/Rebuilt", null, domain,
                generated);
        assertTrue(woven != null && woven.length > generated.length, "the generated coroutine function is woven");
        assertEquals(0, second.cache.hits, "the cache did not answer for bytes it never saw");
        assertEquals(null, second.loader.transformer().transform(second.loader, "fixture/cache/Rebuilt", null, domain,
                cleanVariant), "the jar's own bytes are still answered from the cache");
        assertEquals(1, second.cache.hits);
    }

    @Test
    void aFifoInTheCacheFilesPlaceIsIgnoredWithoutBlocking() throws Exception {
        Run first = new Run(cacheDir, "fixture.hierarchy.PlainSub");
        assertTrue(first.cache.save());
        Path file = first.cache.file();
        Files.delete(file);
        Process mkfifo = new ProcessBuilder("mkfifo", file.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo");
        // NOTE: the timeout only turns a hang (the open of a FIFO with no writer blocks) into a failure
        Run next = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(30),
                () -> new Run(cacheDir, "fixture.hierarchy.PlainSub", "fixture.hierarchy.CoSub"));
        assertEquals(0, next.cache.loadedCount());
        assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                next.loader.rewritten.stream().sorted().toList());
    }

    @Test
    void anUnwritableCacheFolderIsNoCrash() throws Exception {
        Path notAFolder = Files.writeString(dir.resolve("plain-file"), "x");
        Run run = new Run(notAFolder.resolve("cache"), "fixture.hierarchy.PlainSub", "fixture.hierarchy.CoSub");
        assertFalse(run.cache.save());
        assertEquals(List.of("fixture/hierarchy/CoBase", "fixture/hierarchy/CoSub"),
                run.loader.rewritten.stream().sorted().toList());
    }
}
