package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.zip.ZipFile;

/**
 * The class files a build can see, as bytes: the JDK's, then the project's output folders and
 * dependency jars in classpath order, as a class loader over that classpath would find them. Nothing
 * is loaded into Maven's JVM. Jars are read as multi-release jars for the running JDK, as the agent's
 * class loader would read them.
 *
 * <p>Confined to the thread of the mojo that opened it; closing it closes the jars.
 */
final class ClassPathLookup implements ClassLookup, Closeable {
    private static final ClassLookup JDK = ClassLookup.ofClassLoader(null);

    private final List<Path> folders = new ArrayList<>();
    private final List<JarFile> jars = new ArrayList<>();

    private ClassPathLookup() {}

    /**
     * @param elements output folders and jars, in classpath order; elements that do not exist are
     *     skipped, as a class loader skips them
     * @return a lookup over them
     * @throws IOException if a jar cannot be opened
     */
    static ClassPathLookup open(List<Path> elements) throws IOException {
        ClassPathLookup lookup = new ClassPathLookup();
        try {
            for (Path element : elements) {
                if (Files.isDirectory(element)) {
                    lookup.folders.add(element);
                } else if (Files.isRegularFile(element)) {
                    lookup.jars.add(openJar(element));
                }
            }
        } catch (IOException | RuntimeException e) {
            lookup.close();
            throw e;
        }
        return lookup;
    }

    private static JarFile openJar(Path jar) throws IOException {
        try {
            return new JarFile(jar.toFile(), false, ZipFile.OPEN_READ, Runtime.version());
        } catch (IOException e) {
            throw new IOException("cannot open " + jar + " from the classpath as a jar: " + e.getMessage(), e);
        }
    }

    @Override
    public byte[] classBytes(String internalName) {
        byte[] bytes = JDK.classBytes(internalName);
        if (bytes != null) {
            return bytes;
        }
        String file = internalName + ".class";
        try {
            for (Path folder : folders) {
                Path path = folder.resolve(file);
                if (Files.isRegularFile(path)) {
                    return Files.readAllBytes(path);
                }
            }
            for (JarFile jar : jars) {
                JarEntry entry = jar.getJarEntry(file);
                if (entry != null) {
                    try (InputStream in = jar.getInputStream(entry)) {
                        return in.readAllBytes();
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
        IOException first = null;
        for (JarFile jar : jars) {
            try {
                jar.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        jars.clear();
        if (first != null) {
            throw first;
        }
    }
}
