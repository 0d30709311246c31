package io.aioco.agent.cache;

import java.io.File;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.CRC32C;

/**
 * Why: at a cold start the agent's own time goes to reading the supertypes of classes not loaded
 * yet and to scanning every class, nearly all of which need nothing. This remembers, between runs
 * of the same application, the classes known to need nothing ("clean"), so that later starts return
 * them unchanged before any scan.
 *
 * <p>What it covers: classes the application class loader defines from a trusted jar of its search
 * order ({@link CachedClassPath}): the class path's jars and the jars their manifests name in
 * {@code Class-Path}, up to the first folder ({@link SearchOrder}). Which file: one per key, the key
 * holding the agent's jar, the JDK and every class path entry (a jar with its size, time and the
 * hash of its central directory, {@link JarFingerprint}: a rebuild of the same size and time is
 * another jar); any change means another file, so a cold start, never a stale answer. The jars the
 * manifests name are not in the key (knowing them means opening every jar, some ms a start): the
 * file holds them, with their sizes, times and hashes, and a start checks those ({@link SearchOrder#parse}); if one changed, the
 * file's classes are not used, as for another key. Only a start without a file that holds reads the
 * manifests, before the class loader opens any jar.
 *
 * <p>What is clean: a class is recorded when the instrumenter's quick scan alone found nothing to
 * do in it ({@link io.aioco.instrumenter.Instrumenter.QuickScanListener}: no reference to the
 * runtime, no diagnostic), with the classes its verdict rests on: its direct supertypes and its
 * lambdas' functional interfaces, JDK types left out. The verdict holds as long as none of those
 * has a coroutine function. At save time:
 * <ul>
 *   <li>a class is <em>without coroutine functions</em> when it was recorded (so it declares none:
 *       a marker names the runtime) and so is each of its direct supertypes, down to the JDK's
 *       (the supertype relation has no cycles; a class met again while its own answer is being
 *       worked out is taken as not, so a malformed cycle is harmless);
 *   <li>a class is <em>clean</em> when it was recorded and each class its verdict rests on is
 *       without coroutine functions. A clean class is so itself, since its supertypes are among
 *       those classes: so a class of the file counts as without coroutine functions for the
 *       classes of a later run.
 * </ul>
 * A class resting on a class of a folder, of another loader, never seen in this run (nor in the
 * file), or rewritten, is not clean.
 *
 * <p>NOTE: the transformer sees the class bytes after any agent that transforms before this one,
 * not the jar's, and a class defined at run time into the application class loader
 * ({@code Lookup.defineClass}, a proxy, a code generator) gets the protection domain of the jar of
 * its lookup class while its bytes are in no jar: so a clean class is skipped only when the bytes
 * being defined have the CRC-32C recorded with it ({@link #checksum}), whatever domain they come
 * with. Likewise
 * {@code -Xbootclasspath/a} is not in the key (no property tells of it): a class there that
 * shadows one of the class path is read from the class path by the agent with or without the
 * cache ({@code io.aioco.agent.LoaderLookup}), so the cache answers as the agent would.
 *
 * <p>No QEMU counterpart. {@link #isClean}, {@link #record} and {@link #jarIndex} are called
 * concurrently by any transforming thread (never for a redefinition: the transformer does not ask
 * it then); {@link #forApplication}, {@link #file} and {@link #loadedCount} by the thread that
 * installs the agent; {@link #save} by one thread at a time (the shutdown hook, or a test).
 */
public final class StartupCache {
    /** The largest cache file read (a file has 12 bytes per class and the key). */
    static final long MAX_FILE_BYTES = 64L << 20;

    /** How many cache files (applications, or versions of one) a cache folder keeps. */
    static final int KEPT_FILES = 32;

    private final CachedClassPath classPath;
    private final Path directory;
    private final Path file;
    private final boolean verbose;
    /** Set by {@link #saveAtExit}: logging may be shut down already. */
    private volatile boolean exiting;
    /** What the file held at start. Immutable: read by any transforming thread without a lock. */
    private final CleanClassFile.Entries loaded;
    /** The classes the quick scan found nothing to do in, in this run. */
    private final Queue<Recorded> recorded = new ConcurrentLinkedQueue<>();
    /**
     * Classes skipped thanks to the file. NOTE: a plain field incremented by any thread without a
     * lock, so it may miss some: for tests (single-threaded) and the verbose log, never a decision.
     */
    int hits;

    /** A class the quick scan found nothing to do in, with what its verdict rests on. */
    private record Recorded(String name, int jarIndex, long checksum, String[] supertypes,
            String[] functionalInterfaces) {}

    /**
     * Reads the file of this key, if there is one, it is well-formed and its search order still
     * holds; else reads the search order from the jars. Never throws.
     *
     * @param classPath the application class path, its search order not known yet (this sets it)
     * @param directory where the cache files are
     * @param verbose whether to log at INFO what would otherwise be DEBUG
     */
    StartupCache(CachedClassPath classPath, Path directory, boolean verbose) {
        this.classPath = classPath;
        this.directory = directory;
        this.verbose = verbose;
        this.file = directory.resolve(fileName(classPath.key()));
        CleanClassFile.Contents contents = read(file, classPath.key());
        if (contents != null && classPath.useSearchOrder(contents.searchOrder())) {
            this.loaded = contents.entries();
        } else {
            if (contents != null) {
                log("ignoring the startup cache " + file + ": a jar a manifest names in Class-Path changed");
            }
            classPath.readSearchOrder();
            this.loaded = CleanClassFile.Entries.EMPTY;
        }
    }

    /**
     * The cache of the running JVM's application class path, or null when the application class
     * loader is not the JDK's (its search order is not known) or modules are on a module path.
     *
     * @param directory where the cache files are
     * @param verbose whether to log at INFO what would otherwise be DEBUG
     */
    public static StartupCache forApplication(Path directory, boolean verbose) {
        ClassLoader system = ClassLoader.getSystemClassLoader();
        if (!system.getClass().getName().equals("jdk.internal.loader.ClassLoaders$AppClassLoader")
                || System.getProperty("jdk.module.path") != null) {
            return null;
        }
        String agentJar = agentJar();
        if (agentJar == null) {
            return null; // NOTE: the agent's own classes are not in a jar: it has no identity to key on
        }
        // NOTE: this runs in premain, before the application, in the interpreter: no lambda, stream
        // or string concatenation here (each would bootstrap an invokedynamic call site, some ms)
        StringBuilder prefix = new StringBuilder("aioco agent startup cache\nagent ").append(agentJar)
                .append("\njava.home ").append(System.getProperty("java.home"))
                .append("\njava.version ").append(System.getProperty("java.version"))
                .append("\njava.vm.version ").append(System.getProperty("java.vm.version"))
                // which entries of a multi-release jar the class loader reads (JarFile.runtimeVersion);
                // the checksums tell the bytes apart anyway: this keeps each setting's file whole
                .append("\njdk.util.jar.enableMultiRelease ").append(System.getProperty("jdk.util.jar.enableMultiRelease"))
                .append("\njdk.util.jar.version ").append(System.getProperty("jdk.util.jar.version"));
        // --add-modules, --limit-modules and --patch-module change which packages the boot layer
        // holds (found there before the class path), and no system property tells of them
        List<String> modules = new ArrayList<>();
        for (Module module : ModuleLayer.boot().modules()) {
            modules.add(new StringBuilder(module.getName()).append(' ').append(module.getPackages().size()).toString());
        }
        modules.sort(null);
        for (String module : modules) {
            prefix.append("\nmodule ").append(module);
        }
        List<String> entries = Arrays.asList(System.getProperty("java.class.path", "").split(File.pathSeparator, -1));
        return new StartupCache(new CachedClassPath(entries, prefix.toString()), directory, verbose);
    }

    /**
     * @return the agent's jar with its size, time and central directory hash ({@link JarFingerprint}:
     *     an agent rebuilt with the same size and time may rewrite otherwise), or null if its classes
     *     are not in a readable jar
     */
    private static String agentJar() {
        try {
            File jar = new File(StartupCache.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.isFile() ? new StringBuilder(jar.getCanonicalPath()).append(' ').append(jar.length())
                    .append(' ').append(jar.lastModified()).append(' ').append(JarFingerprint.of(jar)).toString() : null;
        } catch (Exception e) {
            return null;
        }
    }

    /** @return the file's name for a key: a hash of the key (the file holds the whole key, compared exactly) */
    static String fileName(String key) {
        return new StringBuilder("classes-").append(Long.toHexString(hash(0, key))).append(".bin").toString();
    }

    /** @return the file's contents, or null when there is none for this key (logged when not well-formed) */
    private CleanClassFile.Contents read(Path path, String key) {
        byte[] bytes;
        File asFile = path.toFile();
        if (!asFile.isFile()) {
            // NOTE: a FIFO or a device in the file's place would block the open or the read, and the
            // JVM's start with it: only a regular file (or a link to one) is opened. A FIFO put in
            // its place between this check and the open is not caught (java.io has no O_NONBLOCK)
            if (asFile.exists()) {
                log("ignoring the startup cache " + path + ": not a regular file");
            }
            return null; // NOTE: else the first start: nothing to say
        }
        // NOTE: java.io, not Files.readAllBytes: at this point of a start, the first use of the NIO
        // file channels costs about 5 ms, ten times the read itself
        try (RandomAccessFile in = new RandomAccessFile(path.toFile(), "r")) {
            long length = in.length();
            if (length > MAX_FILE_BYTES) {
                // NOTE: no file this agent writes is this large (a million classes take 12 MB): an
                // allocation as large as the file could fail the JVM's start with an OutOfMemoryError
                throw new IOException("too large: " + length + " bytes");
            }
            bytes = new byte[(int) length];
            in.readFully(bytes);
        } catch (FileNotFoundException e) {
            if (!path.toFile().exists()) {
                return null; // NOTE: the first start: nothing to say
            }
            log("cannot read the startup cache " + path + ": " + e);
            return null;
        } catch (IOException | RuntimeException e) {
            log("cannot read the startup cache " + path + ": " + e);
            return null;
        }
        CleanClassFile.Contents contents = CleanClassFile.decode(bytes, key);
        if (contents == null) {
            log("ignoring the startup cache " + path + ": not a well-formed cache file for this class path");
        }
        return contents;
    }

    /** @return the file this run reads and writes */
    public Path file() {
        return file;
    }

    /** @return how many clean classes the file held at start */
    public int loadedCount() {
        return loaded.size();
    }

    /**
     * Called concurrently by any transforming thread, for every class: a field read or a map lookup.
     *
     * @return the index of the trusted jar the class comes from, or -1 when the cache does not
     *     cover it (another loader, a folder, a jar after a folder in the search order)
     */
    public int jarIndex(ProtectionDomain domain) {
        return domain == null ? -1 : classPath.jarIndex(domain);
    }

    /**
     * The checksum a class is recorded and looked up with: the CRC-32C of its whole class file.
     * Called concurrently by any transforming thread, once for each class of a trusted jar. Cost:
     * an intrinsic (also in the interpreter on x86 and AArch64) running at several bytes a cycle,
     * well under a microsecond for a class of a few KB, next to the tens of microseconds the scan
     * it saves costs.
     *
     * @return the CRC-32C as an unsigned int (0 to 2^32 - 1)
     */
    public static long checksum(byte[] classFile) {
        CRC32C crc = new CRC32C();
        crc.update(classFile, 0, classFile.length);
        return crc.getValue();
    }

    /**
     * Called concurrently by any transforming thread: a hash of the name and a binary search.
     *
     * @param className the class, in internal form
     * @param jarIndex from {@link #jarIndex}, not negative
     * @param checksum {@link #checksum} of the class file, as the transformer got it
     * @return whether the class is known clean: it needs nothing
     */
    public boolean isClean(String className, int jarIndex, long checksum) {
        // NOTE: a first start (no file) hashes nothing: the hash is a loop over the name, interpreted at first
        if (loaded.size() == 0 || loaded.checksumOf(hash(jarIndex, className)) != checksum) {
            return false;
        }
        hits++;
        return true;
    }

    /**
     * Notes a class the quick scan found nothing to do in. Called concurrently by any transforming
     * thread. The arrays are not copied: the caller must not change them.
     *
     * @param checksum {@link #checksum} of its class file
     * @param supertypes its direct supertypes, JDK types left out
     * @param functionalInterfaces its lambdas' functional interfaces, JDK types left out
     */
    public void record(String className, int jarIndex, long checksum, String[] supertypes, String[] functionalInterfaces) {
        assert checksum >= 0 && checksum <= 0xFFFFFFFFL : checksum;
        recorded.add(new Recorded(className, jarIndex, checksum, supertypes, functionalInterfaces));
    }

    /**
     * The hash of a class of a jar: FNV-1a over the name's chars, seeded with the jar index, then
     * mixed (murmur3's finalizer). Runs once for every class loaded from a trusted jar, at first in
     * the interpreter: one multiply per char.
     */
    static long hash(int jarIndex, String name) {
        long h = 0xCBF29CE484222325L ^ jarIndex;
        for (int i = 0; i < name.length(); i++) {
            h = (h ^ name.charAt(i)) * 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        return h ^ (h >>> 33);
    }

    /**
     * The clean classes: the loaded ones and those this run proved clean.
     *
     * @return the entries, hashes ascending; the loaded entries themselves when this run added none
     */
    CleanClassFile.Entries cleanEntries() {
        Map<String, Recorded> byName = new HashMap<>();
        for (Recorded entry : recorded) {
            byName.putIfAbsent(entry.name(), entry); // NOTE: recorded only from trusted jars (jarIndex)
        }
        Map<String, Boolean> withoutFns = new HashMap<>();
        TreeMap<Long, Long> added = new TreeMap<>();
        for (Recorded entry : byName.values()) {
            long key = hash(entry.jarIndex(), entry.name());
            if (loaded.checksumOf(key) != entry.checksum()
                    && allWithoutFns(entry.supertypes(), byName, withoutFns, 0)
                    && allWithoutFns(entry.functionalInterfaces(), byName, withoutFns, 0)) {
                // NOTE: two clean classes with one hash and checksum are harmless (each is clean); with
                // another checksum, or one already in the file with another, it is kept by neither
                Long previous = added.put(key, entry.checksum());
                if ((previous != null && previous != entry.checksum()) || loaded.checksumOf(key) >= 0) {
                    added.put(key, -1L);
                }
            }
        }
        if (added.isEmpty()) {
            return loaded;
        }
        return merge(loaded, added);
    }

    /** @return the loaded entries and the added ones (checksum -1: drop the hash), hashes ascending */
    private static CleanClassFile.Entries merge(CleanClassFile.Entries loaded, TreeMap<Long, Long> added) {
        long[] hashes = new long[loaded.size() + added.size()];
        int[] checksums = new int[hashes.length];
        int count = 0;
        int at = 0;
        for (Map.Entry<Long, Long> entry : added.entrySet()) {
            long key = entry.getKey();
            while (at < loaded.size() && loaded.hashes()[at] < key) {
                hashes[count] = loaded.hashes()[at];
                checksums[count++] = loaded.checksums()[at++];
            }
            if (at < loaded.size() && loaded.hashes()[at] == key) {
                at++; // NOTE: a collision (added with -1 below): dropped from the file too
            }
            if (entry.getValue() >= 0) {
                hashes[count] = key;
                checksums[count++] = (int) (long) entry.getValue();
            }
        }
        while (at < loaded.size()) {
            hashes[count] = loaded.hashes()[at];
            checksums[count++] = loaded.checksums()[at++];
        }
        return new CleanClassFile.Entries(Arrays.copyOf(hashes, count), Arrays.copyOf(checksums, count));
    }

    /** @return whether each of the classes is known to have no coroutine function (see the class comment) */
    private boolean allWithoutFns(String[] names, Map<String, Recorded> byName, Map<String, Boolean> withoutFns,
            int depth) {
        for (String name : names) {
            if (!withoutFns(name, byName, withoutFns, depth)) {
                return false;
            }
        }
        return true;
    }

    private boolean withoutFns(String name, Map<String, Recorded> byName, Map<String, Boolean> withoutFns,
            int depth) {
        Boolean known = withoutFns.get(name);
        if (known != null) {
            return known;
        }
        Recorded entry = byName.get(name);
        if (entry == null) {
            return inFile(name); // NOTE: clean in an earlier run, so without coroutine functions
        }
        withoutFns.put(name, false); // NOTE: in progress: a (malformed) cycle back to here is not
        boolean answer = depth < 256 && allWithoutFns(entry.supertypes(), byName, withoutFns, depth + 1);
        withoutFns.put(name, answer);
        return answer;
    }

    /**
     * A class not seen in this run may still be clean from an earlier run with the same key (it
     * was then defined from the first jar that holds it, as it would be now).
     */
    private boolean inFile(String name) {
        for (int jar : classPath.trustedJars()) {
            if (loaded.checksumOf(hash(jar, name)) >= 0) {
                return true;
            }
        }
        return false;
    }

    /**
     * Writes the clean classes to the file when this run found new ones: to a temporary file
     * beside it, then moved over it in one step (two JVMs may save at once; the last one wins,
     * and each file is whole). Never throws; logs one line at DEBUG (INFO when verbose) on failure.
     *
     * @return whether the file was written
     */
    boolean save() {
        Path temporary = null;
        long start = System.nanoTime();
        try {
            CleanClassFile.Entries entries = recorded.isEmpty() ? loaded : cleanEntries();
            long computed = System.nanoTime();
            if (entries == loaded) {
                if (loaded.size() > 0) {
                    // NOTE: marks the file as in use, for pruneOldFiles of other applications' runs
                    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
                }
                return false; // NOTE: the union has as many as the file: nothing new
            }
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
            Files.write(temporary, CleanClassFile.encode(classPath.key(), classPath.searchOrderText(), entries));
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
            pruneOldFiles();
            if (verbose) {
                long end = System.nanoTime();
                log("saved " + entries.size() + " clean classes (" + (entries.size() - loaded.size()) + " new; "
                        + hits + " classes skipped in this run) to " + file + " in " + (end - start) / 1000
                        + " us (" + (computed - start) / 1000 + " us finding them)");
            }
            return true;
        } catch (IOException | RuntimeException e) {
            log("cannot save the startup cache to " + file + ": " + e);
            return false;
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException | RuntimeException e) {
                    // NOTE: already failing: one line was logged
                }
            }
        }
    }

    /**
     * Every change of the class path (a rebuilt jar) makes a new file: only the {@link #KEPT_FILES}
     * used last are kept, and temporary files left by a JVM that died while saving are deleted after
     * an hour.
     */
    private void pruneOldFiles() throws IOException {
        List<Path> files = new ArrayList<>();
        long hourAgo = System.currentTimeMillis() - 3_600_000;
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, "classes-*")) {
            for (Path path : stream) {
                String name = path.getFileName().toString();
                if (name.endsWith(".bin")) {
                    files.add(path);
                } else if (name.endsWith(".tmp") && Files.getLastModifiedTime(path).toMillis() < hourAgo) {
                    Files.deleteIfExists(path);
                }
            }
        }
        if (files.size() <= KEPT_FILES) {
            return;
        }
        Map<Path, Long> times = new HashMap<>();
        for (Path path : files) {
            times.put(path, Files.getLastModifiedTime(path).toMillis());
        }
        files.sort((a, b) -> Long.compare(times.get(b), times.get(a)));
        for (Path old : files.subList(KEPT_FILES, files.size())) {
            if (!old.equals(file)) {
                Files.deleteIfExists(old);
            }
        }
    }

    /**
     * {@link #save} from the JVM's shutdown hook. Why a method of its own: {@code java.util.logging}
     * resets its handlers in a shutdown hook of its own, which runs at the same time, so a line
     * logged from here was mostly lost; with {@code verbose}, this one's lines go to standard error.
     *
     * @return whether the file was written
     */
    public boolean saveAtExit() {
        exiting = true;
        return save();
    }

    private void log(String message) {
        if (exiting && verbose) {
            System.err.println("INFO: aioco: " + message);
            return;
        }
        try {
            System.getLogger("io.aioco.agent").log(verbose ? System.Logger.Level.INFO : System.Logger.Level.DEBUG, "aioco: " + message);
        } catch (RuntimeException e) {
            // NOTE: a broken logging configuration must not break class loading or the exit
        }
    }
}
