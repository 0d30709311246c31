package io.aioco.instrumenter;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.StringTokenizer;
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

    /**
     * The {@code Class-Path} of a jar's manifest, read as the JDK's class loader reads it: entries
     * split at white space, each a URL relative to the jar's URL ({@code %20} is a space; an absolute
     * {@code file:} URL is allowed), entries of other protocols left out.
     */
    private static List<Path> manifestClassPath(Path jarPath, JarFile jar) {
        List<Path> referenced = new ArrayList<>();
        try {
            Manifest manifest = jar.getManifest();
            String value = manifest == null ? null : manifest.getMainAttributes().getValue(Attributes.Name.CLASS_PATH);
            if (value == null) {
                return referenced;
            }
            URL base = jarPath.toUri().toURL();
            StringTokenizer entries = new StringTokenizer(value); // NOTE: the JDK's split (URLClassPath)
            while (entries.hasMoreTokens()) {
                Path path = filePath(base, entries.nextToken());
                if (path != null) {
                    referenced.add(path);
                }
            }
        } catch (IOException | RuntimeException e) {
            // NOTE: an unreadable manifest adds nothing, as for a class loader
        }
        return referenced;
    }

    /** @return the file a manifest's entry names, or null when it names none (another protocol, a malformed URL) */
    private static Path filePath(URL base, String entry) {
        try {
            URL url = new URL(base, entry);
            String host = url.getHost();
            if (!"file".equalsIgnoreCase(url.getProtocol()) || (host != null && !host.isEmpty())) {
                return null;
            }
            return Path.of(percentDecoded(url.getPath()));
        } catch (MalformedURLException | IllegalArgumentException e) { // NOTE: InvalidPathException too
            return null; // NOTE: the class loader skips such an entry too
        }
    }

    /**
     * Decodes {@code %XX} escapes as UTF-8 bytes and leaves every other character as it is (unlike
     * {@code URLDecoder}, a {@code +} stays a plus), as the JDK turns a {@code file:} URL into a path.
     */
    static String percentDecoded(String path) {
        if (path.indexOf('%') < 0) {
            return path;
        }
        StringBuilder out = new StringBuilder(path.length());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int i = 0;
        while (i < path.length()) {
            char c = path.charAt(i);
            if (c != '%') {
                out.append(c);
                i++;
                continue;
            }
            bytes.reset();
            while (i < path.length() && path.charAt(i) == '%') {
                if (i + 2 >= path.length()) {
                    throw new IllegalArgumentException("a truncated escape in " + path);
                }
                int high = Character.digit(path.charAt(i + 1), 16);
                int low = Character.digit(path.charAt(i + 2), 16);
                if (high < 0 || low < 0) {
                    throw new IllegalArgumentException("a malformed escape in " + path);
                }
                bytes.write(high * 16 + low);
                i += 3;
            }
            out.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
        }
        return out.toString();
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
