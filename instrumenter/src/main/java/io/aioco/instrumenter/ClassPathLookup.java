package io.aioco.instrumenter;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.jar.Attributes;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.zip.ZipFile;

/**
 * Class files on a class path (folders and jars, in order), as bytes, found as a class loader over
 * that class path finds them: jars are read as multi-release jars for the running JDK, and the jars
 * a jar's manifest names in {@code Class-Path} are searched right after it. A {@code first} lookup
 * is asked before the class path (the JDK's classes, as a class loader's parent). Nothing is loaded.
 *
 * <p>Used by the Maven plugin over a build's class path, and by the agent for the application class
 * loader, where it is much cheaper than reading class files as the loader's resources. Thread-safe;
 * closing it closes the jars.
 */
public final class ClassPathLookup implements ClassLookup, Closeable {
    private final ClassLookup first;
    /** The class path in search order: each a folder ({@link Path}) or a jar ({@link JarFile}). */
    private final List<Object> elements = new ArrayList<>();

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
            return;
        }
        if (Files.isDirectory(normalized)) {
            elements.add(normalized);
        } else if (Files.isRegularFile(normalized)) {
            JarFile jar;
            try {
                jar = new JarFile(normalized.toFile(), false, ZipFile.OPEN_READ, Runtime.version());
            } catch (IOException e) {
                if (!strict) {
                    return; // NOTE: a class loader skips a manifest's entry it cannot open
                }
                throw new IOException("cannot open " + element + " from the class path as a jar: " + e.getMessage(), e);
            }
            elements.add(jar);
            for (Path referenced : manifestClassPath(normalized, jar)) {
                add(referenced, seen, false);
            }
        }
    }

    /** The {@code Class-Path} of a jar's manifest: URLs relative to the jar's folder. */
    private static List<Path> manifestClassPath(Path jarPath, JarFile jar) {
        List<Path> referenced = new ArrayList<>();
        try {
            Manifest manifest = jar.getManifest();
            String value = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (value == null) {
                return referenced;
            }
            URI base = jarPath.toUri();
            for (String entry : value.trim().split("\\s+")) {
                if (entry.isEmpty()) {
                    continue;
                }
                URI resolved = base.resolve(new URI(null, null, entry, null));
                if ("file".equals(resolved.getScheme())) {
                    referenced.add(Path.of(resolved));
                }
            }
        } catch (IOException | URISyntaxException | RuntimeException e) {
            // NOTE: an unreadable manifest adds nothing, as for a class loader
        }
        return referenced;
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
        if (failure != null) {
            throw failure;
        }
    }
}
