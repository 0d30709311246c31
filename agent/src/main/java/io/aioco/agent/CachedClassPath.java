package io.aioco.agent;

import java.io.File;
import java.io.IOException;
import java.net.URL;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Why: the startup cache may trust a class's bytes only while nothing that decides them changes.
 * This is the application class path as the cache sees it: which entries are jars it may trust,
 * what its key says of them, and which jar a class came from.
 *
 * <p>A jar's bytes change only with its size or modification time, which the key holds. A folder's
 * classes change without notice, and a folder before a jar can start shadowing the jar's classes
 * (a supertype the verdict of a cached class rests on, say): so only the jars before the first
 * folder are trusted. A missing entry is in the key as missing (if it appears, the key changes).
 */
final class CachedClassPath {
    /** The entries, canonical (the application class loader names its jars so). */
    private final List<File> entries;
    /** Entries {@code [0, trustedJars)} that are jars are trusted; the first folder ends them. */
    private final int trustedJars;
    private final boolean[] isJar;
    private final String key;
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
     * @param classPath the class path's entries, in order ({@code java.class.path}; an empty entry
     *     is the current folder)
     * @param keyPrefix what else the key holds (the agent, the JDK)
     */
    CachedClassPath(List<String> classPath, String keyPrefix) {
        entries = new ArrayList<>();
        isJar = new boolean[classPath.size()];
        StringBuilder keyText = new StringBuilder(keyPrefix);
        int trusted = classPath.size();
        for (int i = 0; i < classPath.size(); i++) {
            File entry = canonical(new File(classPath.get(i).isEmpty() ? "." : classPath.get(i)));
            entries.add(entry);
            keyText.append("\nclasspath ").append(entry.getPath());
            if (entry.isFile()) {
                isJar[i] = true;
                keyText.append(" jar ").append(entry.length()).append(' ').append(entry.lastModified());
            } else if (entry.isDirectory()) {
                keyText.append(" folder");
                trusted = Math.min(trusted, i);
            } else {
                keyText.append(" missing");
            }
        }
        trustedJars = trusted;
        key = keyText.toString();
    }

    private static File canonical(File file) {
        try {
            return file.getCanonicalFile();
        } catch (IOException | RuntimeException e) {
            return file.getAbsoluteFile();
        }
    }

    /** @return the key: every entry with its kind, and a jar's size and modification time */
    String key() {
        return key;
    }

    /** @return how many entries there are (jar indexes are below) */
    int size() {
        return entries.size();
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
            File file = canonical(new File(location.toURI()));
            for (int i = 0; i < trustedJars; i++) {
                if (isJar[i] && entries.get(i).equals(file)) {
                    return i;
                }
            }
        } catch (Exception e) {
            // NOTE: a location that is no file: its classes are not cached
        }
        return -1;
    }

    /**
     * The jars the cache may keep classes of, once their manifests are known: a manifest's
     * {@code Class-Path} puts the jars it names (not in the key) right after its jar in the search
     * order, where they could shadow the classes of every later jar. Reads the trusted jars'
     * manifests: for saving, not for every start.
     *
     * @return entries {@code [0, limit)} may be cached
     */
    int limitByManifests() {
        for (int i = 0; i < trustedJars; i++) {
            if (!isJar[i]) {
                continue;
            }
            try (JarFile jar = new JarFile(entries.get(i), false)) {
                Manifest manifest = jar.getManifest();
                if (manifest != null && manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH) != null) {
                    return i + 1;
                }
            } catch (IOException | RuntimeException e) {
                return i; // NOTE: a jar that cannot be read now: trust nothing from it on
            }
        }
        return trustedJars;
    }
}
