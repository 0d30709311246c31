package io.aioco.agent.cache;

import io.aioco.instrumenter.ManifestClassPath;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * Why: the application class loader searches, right after a jar, the jars its manifest names in
 * {@code Class-Path} (and theirs, recursively), and {@code java.class.path} does not name them:
 * {@code java -jar app.jar} has one entry. This is the search order as the startup cache needs it:
 * the jars it may trust, in the order the loader searches them, with what the cache file must hold
 * of the jars the key does not name.
 *
 * <p>The order follows the JDK's {@code URLClassPath}, as {@link io.aioco.instrumenter.ClassPathLookup}
 * does, with each jar's {@code Class-Path} read by the one method every class path reader calls
 * ({@link ManifestClassPath#read}): a manifest's entries are URLs relative to its jar, split at white
 * space, searched right after the jar in their order; an element met again is skipped; an element
 * that does not exist is skipped. NOTE: this walk is not {@code ClassPathLookup}'s own, because the
 * cache needs what that reader leaves out on purpose: the size and time of each jar read before it
 * is opened, the jars only up to where trust ends (a start without a cache file opens no more), and
 * the elements the reader skips in silence (an entry that is not a local file, a jar it cannot open,
 * a folder or a missing file a manifest names, an index), each of which ends trust or is saved. The
 * two agree on the order by construction (one manifest reader, the same depth-first walk) and a
 * test holds both to the JDK's {@code URLClassLoader} (SearchOrderTest). A jar is trusted when every element before it in that order is a trusted jar or a missing
 * element; trust ends, for the rest of the order, at the first folder (its classes change without
 * notice and could shadow a later jar's), at a jar that cannot be read (the loader skips it, but it
 * may become readable without a change of size or time), at a jar with a {@code META-INF/INDEX.LIST}
 * that names another jar or comes with a {@code Class-Path} (JDK 17 then searches the jars the index
 * names, not its manifest's; an index of the jar alone changes nothing), and at an entry that is not
 * a plain {@code file:} URL (the loader may ignore it or fetch it, by a property the key does not hold).
 *
 * <p>The text ({@link #text()}) is saved in the cache file: one line for each element a manifest
 * adds, in search order, up to where trust ends, and a last line when trust ends before the first
 * folder of the class path; so nothing at all when no jar has a {@code Class-Path} (the common case):
 * <pre>
 *   ref SIZE TIME HASH PATH a jar a manifest names (the next jar index, after the class path's),
 *                           HASH its central directory's ({@link JarFingerprint})
 *   missing PATH            an entry a manifest names that does not exist
 *   end INDEX               the class path's entries from INDEX on are not trusted
 * </pre>
 * The class path's jars before the first folder and before {@code end} are trusted (their sizes and
 * times are in the key). A jar met twice may be trusted under two indexes: its classes get the one
 * {@link #jarIndex} finds first, the same at every start, and both are before where trust ends (a
 * class path entry after a manifest's jar is trusted only if all that manifest names is). A later start with the same key checks the {@code ref} and {@code missing}
 * lines against the files ({@link #parse}) instead of reading manifests again: the manifests of the
 * jars trusted are the same while their sizes, times and central directories are, so the order up
 * to where trust ends is the same. Immutable.
 */
final class SearchOrder {
    /** More elements than any class path has: a bound on a (malformed) chain of manifests. */
    static final int MAX_ELEMENTS = 10_000;

    /** What {@link Reader#jar} found of a jar: not trusted (trust ends before it). */
    private static final int UNTRUSTED = 0;
    /** What {@link Reader#jar} found of a jar: trusted, and so is what its manifest names. */
    private static final int TRUSTED = 1;
    /** What {@link Reader#jar} found of a jar: trusted, but trust ends in what its manifest names. */
    private static final int ENDS_AFTER = 2;

    /** Every element by jar index: the class path's entries, then the jars the manifests name. */
    private final File[] files;
    /** The trusted jars' indexes: the class path's, then the manifests'. */
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

    /** @return the trusted jars' indexes; the caller must not change it */
    int[] trusted() {
        return trusted;
    }

    /**
     * Reads the manifests of the class path's jars, and of the jars they name, up to where trust
     * ends. Costs opening each of those jars: for a start without a cache file of this key.
     *
     * @param classPath the class path's entries, canonical
     * @param isJar which of them were files when the key was made (the others are folders or missing)
     * @param firstFolder the index of the first folder of the class path, or its size
     */
    static SearchOrder read(List<File> classPath, boolean[] isJar, int firstFolder) {
        Reader reader = new Reader(classPath.size());
        for (int i = 0; i < firstFolder; i++) {
            File entry = classPath.get(i);
            if (!reader.seen.add(entry.getPath())) {
                continue; // NOTE: named twice: searched where it was first met
            }
            // NOTE: an entry missing for the key is skipped, as the loader skips it, unless it exists now
            int found = isJar[i] ? reader.jar(entry, null) : entry.exists() ? UNTRUSTED : TRUSTED;
            if (found != TRUSTED) {
                // NOTE: a jar it cannot read, an entry missing for the key that exists now, or an end
                // in what a manifest names: trust nothing from it (or after it) on
                reader.text.append("end ").append(found == ENDS_AFTER ? i + 1 : i).append('\n');
                break;
            }
        }
        // NOTE: made from its text, as a later start makes it: the same jar indexes either way
        return parse(reader.text.toString(), classPath, isJar, firstFolder, false);
    }

    /** Walks the order, reading manifests; writes the text. */
    private static final class Reader {
        final StringBuilder text = new StringBuilder();
        /** The elements met, by path (the JDK skips a URL met again). */
        final Set<String> seen = new HashSet<>();
        int elements;

        Reader(int classPathSize) {
            elements = classPathSize;
        }

        /**
         * Visits a jar and what its manifest names.
         *
         * @param url the URL the loader knows it by (a manifest's entries are relative to it), or
         *     null for a class path entry
         * @return {@link #UNTRUSTED}, {@link #TRUSTED} or {@link #ENDS_AFTER}
         */
        int jar(File file, URL url) {
            // NOTE: the size and time are read before the jar (the key's are read before the class
            // loader opens the class path's): a jar changed in between gets a time no later start matches
            long size = file.length();
            long time = file.lastModified();
            boolean onClassPath = url == null;
            String hash = null;
            List<ManifestClassPath.Entry> named;
            try (JarFile jar = new JarFile(file, false)) {
                if (!onClassPath) {
                    hash = JarFingerprint.of(file); // NOTE: the class path's jars have theirs in the key
                } else {
                    url = file.toURI().toURL();
                }
                named = ManifestClassPath.read(jar, url);
                JarEntry index = jar.getJarEntry("META-INF/INDEX.LIST");
                // NOTE: JDK 17 then ignores the manifest's Class-Path (21 and later, the index)
                if (index != null && (named != null || !indexesOnlyItself(jar, index, file.getName()))) {
                    return UNTRUSTED;
                }
            } catch (IOException | RuntimeException e) {
                return UNTRUSTED; // NOTE: the loader skips it (the whole jar for a malformed manifest)
            }
            if (!onClassPath) {
                text.append("ref ").append(size).append(' ').append(time).append(' ').append(hash).append(' ')
                        .append(file.getPath()).append('\n');
            }
            return named == null || references(url, named) ? TRUSTED : ENDS_AFTER;
        }

        /**
         * Whether a jar's {@code META-INF/INDEX.LIST} names no jar but itself. Before JDK 21 the
         * loader follows the index: for a class the jar lacks, it searches the jars the index names
         * for its package, and it passes over them later in the order. An index of the jar alone
         * (what {@code jar -i} writes for a jar without {@code Class-Path}; groovy ships one) changes
         * nothing.
         */
        private static boolean indexesOnlyItself(JarFile jar, JarEntry index, String name) throws IOException {
            String text;
            try (InputStream in = jar.getInputStream(index)) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            }
            if (!name.endsWith(".jar")) {
                return false; // NOTE: the JDK would read its own name as a package
            }
            // NOTE: as the JDK reads it (JarIndex): every line that ends with ".jar" names a jar
            BufferedReader lines = new BufferedReader(new StringReader(text));
            String line;
            while ((line = lines.readLine()) != null) {
                if (line.endsWith(".jar") && !line.equals(name)) {
                    return false;
                }
            }
            return true;
        }

        /**
         * @param base the URL of the jar whose manifest names them
         * @param entries its manifest's {@code Class-Path}, as every class path reader reads it
         *     ({@link ManifestClassPath#read})
         * @return whether trust goes on after them
         */
        boolean references(URL base, List<ManifestClassPath.Entry> entries) {
            for (int i = 0; i < entries.size(); i++) {
                ManifestClassPath.Entry entry = entries.get(i);
                URL url;
                File file;
                try {
                    if (entry.file() == null) {
                        return false; // NOTE: another protocol, a host, a malformed URL: the loader may fetch it
                    }
                    url = new URL(base, entry.text());
                    file = entry.file().toFile();
                } catch (Exception e) {
                    return false; // NOTE: an entry the reader took and the URL class does not: not followed
                }
                if (!seen.add(file.getPath())) {
                    continue;
                }
                if (++elements > MAX_ELEMENTS || file.getPath().indexOf('\n') >= 0) {
                    return false; // NOTE: a chain too long, or a path the text cannot hold
                }
                if (file.isFile()) {
                    if (jar(file, url) != TRUSTED) {
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
     * The order a cache file saved, if it still holds: each jar a manifest names has the size, time
     * and central directory hash saved, and each missing entry is still missing. Reads no entry of
     * a jar: a {@code stat} and the central directory for each {@code ref} line, a {@code stat} for
     * each {@code missing} line, and nothing when the text is empty (no manifest names anything).
     * Never throws.
     *
     * @param text the saved text ({@link #text()})
     * @param classPath the class path's entries, canonical
     * @param isJar which of them are jars
     * @param firstFolder the index of the first folder of the class path, or its size
     * @return the order, or null when it no longer holds (or the text is not well-formed)
     */
    static SearchOrder parse(String text, List<File> classPath, boolean[] isJar, int firstFolder) {
        return parse(text, classPath, isJar, firstFolder, true);
    }

    /** @param check whether to check the lines against the files (not when they were just read) */
    private static SearchOrder parse(String text, List<File> classPath, boolean[] isJar, int firstFolder,
            boolean check) {
        try {
            List<File> referenced = new ArrayList<>();
            int end = firstFolder;
            boolean ended = false;
            int start = 0;
            while (start < text.length()) {
                int lineEnd = text.indexOf('\n', start);
                if (lineEnd < 0 || ended) {
                    return null; // NOTE: "end" is the last line
                }
                if (text.startsWith("ref ", start)) {
                    int sizeEnd = text.indexOf(' ', start + 4);
                    int timeEnd = sizeEnd < 0 ? -1 : text.indexOf(' ', sizeEnd + 1);
                    int hashEnd = timeEnd < 0 ? -1 : text.indexOf(' ', timeEnd + 1);
                    if (hashEnd < 0 || hashEnd >= lineEnd) {
                        return null;
                    }
                    File file = new File(text.substring(hashEnd + 1, lineEnd));
                    if (check && (file.length() != Long.parseLong(text.substring(start + 4, sizeEnd))
                            || file.lastModified() != Long.parseLong(text.substring(sizeEnd + 1, timeEnd))
                            || !file.isFile() || hashEnd - timeEnd - 1 != 16
                            || !text.regionMatches(timeEnd + 1, fingerprint(file), 0, 16))) {
                        return null;
                    }
                    referenced.add(file);
                } else if (text.startsWith("missing ", start)) {
                    if (check && new File(text.substring(start + 8, lineEnd)).exists()) {
                        return null;
                    }
                } else if (text.startsWith("end ", start)) {
                    end = Integer.parseInt(text.substring(start + 4, lineEnd));
                    ended = true;
                    if (end < 0 || end > firstFolder) {
                        return null;
                    }
                } else {
                    return null;
                }
                start = lineEnd + 1;
            }
            File[] files = classPath.toArray(new File[classPath.size() + referenced.size()]);
            int[] trusted = new int[end + referenced.size()];
            int count = 0;
            for (int i = 0; i < end; i++) {
                if (isJar[i]) {
                    trusted[count++] = i;
                }
            }
            for (int i = 0; i < referenced.size(); i++) {
                files[classPath.size() + i] = referenced.get(i);
                trusted[count++] = classPath.size() + i;
            }
            return new SearchOrder(files, Arrays.copyOf(trusted, count), text);
        } catch (RuntimeException e) {
            return null; // NOTE: a number that is not one: not a text this class wrote
        }
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

    /** @return the jar's {@link JarFingerprint}, or "" when it has none (matches no saved line) */
    private static String fingerprint(File file) {
        try {
            return JarFingerprint.of(file);
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    static File canonical(File file) {
        try {
            return file.getCanonicalFile();
        } catch (IOException | RuntimeException e) {
            return file.getAbsoluteFile();
        }
    }
}
