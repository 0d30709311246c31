package io.aioco.instrumenter;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipFile;

/**
 * Class files on a class path (folders and jars, in order), as bytes, found as a class loader over
 * that class path finds them: jars are read as multi-release jars as the JDK's loader reads them
 * ({@link JarFile#runtimeVersion()}, which honours {@code -Djdk.util.jar.version}, and not at all
 * under {@code -Djdk.util.jar.enableMultiRelease=false}, which {@link JarFile} itself honours), and the jars a jar's manifest names in
 * {@code Class-Path} ({@link ManifestClassPath}) are searched right after it. A {@code first} lookup
 * is asked before the class path (the JDK's classes, as a class loader's parent). Nothing is loaded.
 *
 * <p>The one class path reader: used by the Maven plugin over a build's class path, by the agent
 * for the application class loader (much cheaper than reading class files as the loader's
 * resources), and by the agent's check command, which also lists the classes to check ({@link
 * #classNames}). Thread-safe; closing it closes the jars. No QEMU counterpart.
 */
public final class ClassPathLookup implements ClassLookup, Closeable {
    private final ClassLookup first;
    /** The class path in search order: each a folder ({@link Path}) or a jar ({@link JarFile}). */
    private final List<Object> elements = new ArrayList<>();
    /** The elements given to {@link #open} that exist, in order: those {@link #classNames} lists. */
    private final List<Object> given = new ArrayList<>();
    /** Each element by its normalized path. Written by {@link #open} only. */
    private final Map<Path, Object> opened = new HashMap<>();

    private ClassPathLookup(ClassLookup first) {
        this.first = first;
    }

    /**
     * @param elements folders and jars, in class path order; elements that do not exist are
     *     skipped, as a class loader skips them
     * @param first asked before the class path (null: nobody)
     * @return a lookup over them
     * @throws IOException if a jar cannot be opened
     */
    public static ClassPathLookup open(List<Path> elements, ClassLookup first) throws IOException {
        ClassPathLookup lookup = new ClassPathLookup(first);
        try {
            Set<Path> seen = new HashSet<>();
            for (Path element : elements) {
                lookup.add(element, seen, true);
            }
        } catch (IOException | RuntimeException e) {
            lookup.close();
            throw e;
        }
        return lookup;
    }

    private void add(Path element, Set<Path> seen, boolean strict) throws IOException {
        Path normalized = element.toAbsolutePath().normalize();
        if (!seen.add(normalized)) {
            Object known = strict ? opened.get(normalized) : null;
            if (known != null && !given.contains(known)) {
                given.add(known); // NOTE: searched where a manifest named it first, listed as given
            }
            return;
        }
        if (Files.isDirectory(normalized)) {
            elements.add(normalized);
            opened.put(normalized, normalized);
            if (strict) {
                given.add(normalized);
            }
        } else if (Files.isRegularFile(normalized)) {
            JarFile jar;
            try {
                // NOTE: as jdk.internal.loader.URLClassPath opens it: not Runtime.version(), which
                // ignores -Djdk.util.jar.version
                jar = new JarFile(normalized.toFile(), false, ZipFile.OPEN_READ, JarFile.runtimeVersion());
            } catch (IOException e) {
                if (!strict) {
                    return; // NOTE: a class loader skips a manifest's entry it cannot open
                }
                throw new IOException("cannot open " + element + " from the class path as a jar: " + e.getMessage(), e);
            }
            elements.add(jar);
            opened.put(normalized, jar);
            if (strict) {
                given.add(jar);
            }
            for (Path referenced : manifestClassPath(normalized, jar)) {
                add(referenced, seen, false);
            }
        }
    }

    /** The files a jar's manifest names in {@code Class-Path} ({@link ManifestClassPath}), in order. */
    private static List<Path> manifestClassPath(Path jarPath, JarFile jar) {
        List<Path> referenced = new ArrayList<>();
        try {
            List<ManifestClassPath.Entry> entries = ManifestClassPath.read(jar, jarPath.toUri().toURL());
            if (entries == null) {
                return referenced;
            }
            for (ManifestClassPath.Entry entry : entries) {
                if (entry.file() != null) {
                    referenced.add(entry.file()); // NOTE: the class loader skips the others too
                }
            }
        } catch (IOException | RuntimeException e) {
            // NOTE: an unreadable manifest adds nothing, as for a class loader
        }
        return referenced;
    }

    /**
     * The classes of the elements given to {@link #open}, not of the jars their manifests name: a
     * folder's class files, and a jar's as the running JDK reads it ({@link JarFile#versionedStream()}
     * for {@link JarFile#runtimeVersion()}: a multi-release jar's classes are listed under their own names,
     * those only in {@code META-INF/versions/N/} for N up to the running version too; nothing else
     * under {@code META-INF/} is a class). {@code module-info} and {@code package-info} are left out.
     * Called by one thread at a time (the check command).
     *
     * @return internal names, in class path order, each once (the first element that holds it)
     * @throws IOException if a folder cannot be walked
     */
    public List<String> classNames() throws IOException {
        Set<String> names = new LinkedHashSet<>();
        for (Object element : given) {
            if (element instanceof JarFile jar) {
                Iterator<JarEntry> entries = jar.versionedStream().iterator();
                while (entries.hasNext()) {
                    JarEntry entry = entries.next();
                    if (!entry.isDirectory() && !entry.getName().startsWith("META-INF/")) {
                        addClassName(names, entry.getName());
                    }
                }
            } else {
                Path folder = (Path) element;
                try (Stream<Path> files = Files.walk(folder)) {
                    Iterator<Path> paths = files.filter(Files::isRegularFile).sorted().iterator();
                    while (paths.hasNext()) {
                        addClassName(names, folder.relativize(paths.next()).toString().replace('\\', '/'));
                    }
                }
            }
        }
        return new ArrayList<>(names);
    }

    private static void addClassName(Set<String> names, String file) {
        if (file.endsWith(".class")) {
            String name = file.substring(0, file.length() - ".class".length());
            if (!name.equals("module-info") && !name.endsWith("/module-info") && !name.endsWith("package-info")) {
                names.add(name);
            }
        }
    }

    @Override
    public byte[] classBytes(String internalName) {
        try (InputStream in = openClassFile(internalName)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null; // NOTE: unreadable counts as missing, as for a class loader's resources
        }
    }

    @Override
    public InputStream openClassFile(String internalName) {
        if (first != null) {
            InputStream in = first.openClassFile(internalName);
            if (in != null) {
                return in;
            }
        }
        String file = internalName + ".class";
        try {
            for (Object element : elements) {
                if (element instanceof JarFile jar) {
                    JarEntry entry = jar.getJarEntry(file);
                    if (entry != null) {
                        return jar.getInputStream(entry);
                    }
                } else {
                    Path path = ((Path) element).resolve(file);
                    if (Files.isRegularFile(path)) {
                        return Files.newInputStream(path);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            return null; // NOTE: unreadable counts as missing, as for a class loader's resources
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (Object element : elements) {
            if (element instanceof JarFile jar) {
                try {
                    jar.close();
                } catch (IOException e) {
                    failure = failure == null ? e : failure;
                }
            }
        }
        elements.clear();
        given.clear();
        opened.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
