package io.aioco.agent.cache;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Why: the startup cache may trust a class's bytes only while nothing that decides them changes.
 * This is the application class path as the cache sees it: which entries are jars it may trust,
 * what its key says of them, and which jar a class came from.
 *
 * <p>A jar is known by its size, its modification time and the hash of its central directory
 * ({@link JarFingerprint}: every entry's name, sizes and CRC-32), since a rebuild may keep the size
 * and time (reproducible builds pin times) and change a class. The key holds those of the class
 * path's jars; those of the jars their manifests name ({@code Class-Path}) are in the cache file's
 * {@link SearchOrder}, checked at start. A folder's classes change without notice, and a folder before
 * a jar can start shadowing the jar's classes (a supertype the verdict of a cached class rests on,
 * say): so only the jars before the first folder in the search order are trusted; a jar whose
 * central directory cannot be read ends trust as a folder does. A missing entry is in the key as
 * missing (if it appears, the key changes).
 *
 * <p>Made in two steps by {@link StartupCache}'s constructor, before any transforming thread sees it:
 * the key (which names the file), then the search order (from that file, or from the jars).
 */
final class CachedClassPath {
    /** The entries, canonical (the application class loader names its jars so). */
    private final List<File> entries;
    private final boolean[] isJar;
    /**
     * The index of the first folder (or jar whose central directory cannot be read), or the class
     * path's size: no entry from it on is trusted.
     */
    private final int firstFolder;
    private final String key;
    /**
     * The trusted jars, or null until {@link #useSearchOrder} or {@link #readSearchOrder}. NOTE: set
     * once, in {@link StartupCache}'s constructor: transforming threads see it through that
     * cache's final field, and the transformer is registered after.
     */
    private SearchOrder searchOrder;
    /**
     * The jar index of each protection domain met (-1: not a trusted jar). NOTE: the application
     * class loader gives all the classes of one jar the same ProtectionDomain, and ProtectionDomain
     * does not override equals: this is an identity map of a few entries, one per jar.
     */
    private final Map<ProtectionDomain, Integer> jarIndexes = new ConcurrentHashMap<>();
    /** The last domain looked up and its index: classes come mostly from one jar in a row. */
    private volatile LastDomain last;

    private record LastDomain(ProtectionDomain domain, int jarIndex) {}

    /**
     * Makes the key; reads no jar.
     *
     * @param classPath the class path's entries, in order ({@code java.class.path}; an empty entry
     *     is the current folder)
     * @param keyPrefix what else the key holds (the agent, the JDK)
     */
    CachedClassPath(List<String> classPath, String keyPrefix) {
        entries = new ArrayList<>();
        isJar = new boolean[classPath.size()];
        StringBuilder keyText = new StringBuilder(keyPrefix);
        int folder = classPath.size();
        for (int i = 0; i < classPath.size(); i++) {
            File entry = SearchOrder.canonical(new File(classPath.get(i).isEmpty() ? "." : classPath.get(i)));
            entries.add(entry);
            keyText.append("\nclasspath ").append(entry.getPath());
            if (entry.isFile()) {
                isJar[i] = true;
                keyText.append(" jar ").append(entry.length()).append(' ').append(entry.lastModified());
                try {
                    keyText.append(' ').append(JarFingerprint.of(entry));
                } catch (IOException | RuntimeException e) {
                    // NOTE: no central directory where a zip has it: its content is not known, so
                    // trust ends here as at a folder (the loader cannot open it either)
                    keyText.append(" unreadable");
                    folder = Math.min(folder, i);
                }
            } else if (entry.isDirectory()) {
                keyText.append(" folder");
                folder = Math.min(folder, i);
            } else {
                keyText.append(" missing");
            }
        }
        firstFolder = folder;
        key = keyText.toString();
    }

    /** @return the key: every entry with its kind, and a jar's size, modification time and central directory hash */
    String key() {
        return key;
    }

    /**
     * Takes the search order a cache file of this key saved, if it still holds ({@link SearchOrder#parse}).
     *
     * @return whether it holds; if not, nothing changed
     */
    boolean useSearchOrder(String text) {
        SearchOrder order = SearchOrder.parse(text, entries, isJar, firstFolder);
        if (order == null) {
            return false;
        }
        searchOrder = order;
        return true;
    }

    /** Reads the search order from the jars' manifests ({@link SearchOrder#read}): when no file of this key holds one. */
    void readSearchOrder() {
        searchOrder = SearchOrder.read(entries, isJar, firstFolder);
    }

    /** @return the search order, to save with the clean classes */
    String searchOrderText() {
        return searchOrder.text();
    }

    /** @return the trusted jars' indexes; the caller must not change it */
    int[] trustedJars() {
        return searchOrder.trusted();
    }

    /**
     * Called concurrently by any transforming thread; after the first class of a jar, a field read
     * or a map lookup.
     *
     * @return the index of the trusted jar whose classes have this domain, or -1
     */
    int jarIndex(ProtectionDomain domain) {
        LastDomain seen = last;
        if (seen != null && seen.domain() == domain) {
            return seen.jarIndex();
        }
        Integer index = jarIndexes.get(domain);
        if (index == null) {
            index = locate(domain);
            jarIndexes.put(domain, index);
        }
        last = new LastDomain(domain, index);
        return index;
    }

    private int locate(ProtectionDomain domain) {
        try {
            CodeSource source = domain.getCodeSource();
            URL location = source == null ? null : source.getLocation();
            if (location == null || !"file".equals(location.getProtocol())) {
                return -1;
            }
            return searchOrder.jarIndex(new File(location.toURI()));
        } catch (Exception e) {
            return -1; // NOTE: a location that is no file: its classes are not cached
        }
    }
}
