package io.aioco.agent;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.StringTokenizer;
import java.util.jar.Attributes;
import java.util.jar.JarFile;
import java.util.jar.Manifest;

/**
 * Why: the application class loader searches, right after a jar, the jars its manifest names in
 * {@code Class-Path} (and theirs, recursively), and {@code java.class.path} does not name them:
 * {@code java -jar app.jar} has one entry. This is the search order as the startup cache needs it:
 * the jars it may trust, in the order the loader searches them, with what the cache file must hold
 * of the jars the key does not name.
 *
 * <p>The order follows the JDK's {@code URLClassPath}, as {@link io.aioco.instrumenter.ClassPathLookup}
 * does: a manifest's entries are URLs relative to its jar, split at white space, searched right
 * after the jar in their order; an element met again is skipped; an element that does not exist is
 * skipped. A jar is trusted when every element before it in that order is a trusted jar or a missing
 * element; trust ends, for the rest of the order, at the first folder (its classes change without
 * notice and could shadow a later jar's), at a jar that cannot be read (the loader skips it, but it
 * may become readable without a change of size or time), at a jar with a {@code META-INF/INDEX.LIST}
 * (JDK 17 then searches the jars the index names, not its manifest's), and at an entry that is not
 * a plain {@code file:} URL (the loader may ignore it or fetch it, by a property the key does not hold).
 *
 * <p>The text ({@link #text()}) is saved in the cache file, one line per element up to where trust ends:
 * <pre>
 *   jar INDEX               a jar of the class path (its size and time are in the key)
 *   ref SIZE TIME PATH      a jar a manifest names (the next jar index, after the class path's)
 *   missing PATH            an entry a manifest names that does not exist
 * </pre>
 * A later start with the same key checks the {@code ref} and {@code missing} lines against the
 * files ({@link #parse}) instead of reading manifests again: the manifests of the jars listed are
 * the same while their sizes and times are, so the order up to where trust ends is the same.
 * Immutable.
 */
final class SearchOrder {
    /** More elements than any class path has: a bound on a (malformed) chain of manifests. */
    static final int MAX_ELEMENTS = 10_000;

    /** Every element by jar index: the class path's entries, then the jars the manifests name. */
    private final File[] files;
    /** The trusted jars' indexes, in search order. */
    private final int[] trusted;
    private final String text;

    private SearchOrder(File[] files, int[] trusted, String text) {
        this.files = files;
        this.trusted = trusted;
        this.text = text;
    }

    /** @return the saved form: see the class comment */
    String text() {
        return text;
    }

    /** @return the trusted jars' indexes, in search order; the caller must not change it */
    int[] trusted() {
        return trusted;
    }

    /**
     * Reads the manifests of the class path's jars, and of the jars they name, up to where trust
     * ends. Costs opening each of those jars: for a start without a cache file of this key.
     *
     * @param classPath the class path's entries, canonical
     * @param isJar which of them were files when the key was made (the others are folders or missing)
     */
    static SearchOrder read(List<File> classPath, boolean[] isJar) {
        Reader reader = new Reader(classPath);
        for (int i = 0; i < classPath.size(); i++) {
            File entry = classPath.get(i);
            if (!reader.seen.add(entry.getPath())) {
                continue; // NOTE: named twice (or by a manifest before): searched where it was first met
            }
            if (isJar[i]) {
                if (!reader.jar(i, entry, null)) {
                    break;
                }
            } else if (entry.exists()) {
                break; // NOTE: a folder (or a file since the key was made): trust nothing from it on
            }
        }
        return new SearchOrder(reader.files.toArray(new File[0]), toArray(reader.trusted), reader.text.toString());
    }

    /** Walks the order, reading manifests; collects the trusted jars and the text. */
    private static final class Reader {
        final List<File> files;
        final List<Integer> trusted = new ArrayList<>();
        final StringBuilder text = new StringBuilder();
        /** The elements met, by path (the JDK skips a URL met again). */
        final Set<String> seen = new HashSet<>();

        Reader(List<File> classPath) {
            files = new ArrayList<>(classPath);
        }

        /**
         * Visits a jar: trusts it and visits what its manifest names, unless trust ends here.
         *
         * @param url the URL the loader knows it by (a manifest's entries are relative to it), or
         *     null for a class path entry
         * @return whether trust goes on after it
         */
        boolean jar(int index, File file, URL url) {
            // NOTE: the size and time are read before the jar (the key's are read before the class
            // loader opens the class path's): a jar changed in between gets a time no later start matches
            long size = file.length();
            long time = file.lastModified();
            boolean onClassPath = url == null;
            String classPath;
            try (JarFile jar = new JarFile(file, false)) {
                if (jar.getEntry("META-INF/INDEX.LIST") != null) {
                    return false;
                }
                Manifest manifest = jar.getManifest();
                classPath = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
                if (onClassPath) {
                    url = file.toURI().toURL();
                }
            } catch (IOException | RuntimeException e) {
                return false; // NOTE: the loader skips it (the whole jar for a malformed manifest)
            }
            trusted.add(index);
            if (onClassPath) {
                text.append("jar ").append(index).append('\n');
            } else {
                text.append("ref ").append(size).append(' ').append(time).append(' ').append(file.getPath()).append('\n');
            }
            return classPath == null || references(url, classPath);
        }

        /** @return whether trust goes on after the entries of one manifest's {@code Class-Path} */
        boolean references(URL base, String classPath) {
            // NOTE: StringTokenizer splits as the JDK's URLClassPath does (and compiles no pattern)
            StringTokenizer entries = new StringTokenizer(classPath);
            while (entries.hasMoreTokens()) {
                URL url;
                File file;
                try {
                    url = new URL(base, entries.nextToken());
                    if (!"file".equals(url.getProtocol())) {
                        return false;
                    }
                    file = new File(new URI(url.toString())); // NOTE: decoded, "." and ".." resolved by URL
                } catch (Exception e) {
                    return false; // NOTE: a malformed URL, a host, a query or a fragment: not followed
                }
                if (!seen.add(file.getPath())) {
                    continue;
                }
                if (files.size() >= MAX_ELEMENTS || file.getPath().indexOf('\n') >= 0) {
                    return false; // NOTE: a chain too long, or a path the text cannot hold
                }
                if (file.isFile()) {
                    int index = files.size();
                    files.add(file);
                    if (!jar(index, file, url)) {
                        return false;
                    }
                } else if (file.exists()) {
                    return false; // NOTE: a folder
                } else {
                    text.append("missing ").append(file.getPath()).append('\n');
                }
            }
            return true;
        }
    }

    /**
     * The order a cache file saved, if it still holds: each jar a manifest names has the size and
     * time saved, and each missing entry is still missing. Reads no jar: a {@code stat} for each line
     * of a manifest's jar or missing entry, nothing when there are none. Never throws.
     *
     * @param text the saved text ({@link #text()})
     * @param classPath the class path's entries, canonical
     * @param isJar which of them are jars
     * @return the order, or null when it no longer holds (or the text is not well-formed)
     */
    static SearchOrder parse(String text, List<File> classPath, boolean[] isJar) {
        try {
            List<File> files = new ArrayList<>(classPath);
            List<Integer> trusted = new ArrayList<>();
            boolean[] listed = new boolean[classPath.size()];
            int start = 0;
            while (start < text.length()) {
                int end = text.indexOf('\n', start);
                if (end < 0) {
                    return null;
                }
                if (!parseLine(text, start, end, files, trusted, listed, isJar)) {
                    return null;
                }
                start = end + 1;
            }
            return new SearchOrder(files.toArray(new File[0]), toArray(trusted), text);
        } catch (RuntimeException e) {
            return null; // NOTE: a number that is not one: not a text this class wrote
        }
    }

    /** @return whether one line is well-formed and still holds */
    private static boolean parseLine(String text, int start, int end, List<File> files, List<Integer> trusted,
            boolean[] listed, boolean[] isJar) {
        if (text.startsWith("jar ", start)) {
            int index = Integer.parseInt(text.substring(start + 4, end));
            if (index < 0 || index >= listed.length || !isJar[index] || listed[index]) {
                return false;
            }
            listed[index] = true;
            trusted.add(index);
            return true;
        }
        if (text.startsWith("ref ", start)) {
            int sizeEnd = text.indexOf(' ', start + 4);
            int timeEnd = sizeEnd < 0 ? -1 : text.indexOf(' ', sizeEnd + 1);
            if (timeEnd < 0 || timeEnd >= end) {
                return false;
            }
            long size = Long.parseLong(text.substring(start + 4, sizeEnd));
            long time = Long.parseLong(text.substring(sizeEnd + 1, timeEnd));
            File file = new File(text.substring(timeEnd + 1, end));
            if (file.length() != size || file.lastModified() != time || !file.isFile()) {
                return false;
            }
            trusted.add(files.size());
            files.add(file);
            return true;
        }
        if (text.startsWith("missing ", start)) {
            return !new File(text.substring(start + 8, end)).exists();
        }
        return false;
    }

    /**
     * @param location where a class's protection domain says it comes from
     * @return the index of the trusted jar the loader defined it from, or -1
     */
    int jarIndex(File location) {
        String path = location.getPath();
        for (int index : trusted) {
            if (files[index].getPath().equals(path)) {
                return index;
            }
        }
        // NOTE: the loader names a manifest's jar by its URL, which may name the file another way
        // (a link, another encoding): then the first trusted jar that is the same file. A file met
        // twice in the order has the same classes in both places: the loader defines them from the first
        File canonical = canonical(location);
        for (int index : trusted) {
            if (canonical(files[index]).equals(canonical)) {
                return index;
            }
        }
        return -1;
    }

    static File canonical(File file) {
        try {
            return file.getCanonicalFile();
        } catch (IOException | RuntimeException e) {
            return file.getAbsoluteFile();
        }
    }

    private static int[] toArray(List<Integer> list) {
        int[] array = new int[list.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = list.get(i);
        }
        return array;
    }
}
