package io.aioco.agent.check;

import io.aioco.instrumenter.ClassLookup;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The classes of a list of jars and folders, by internal name, read on demand: the check
 * command's input and its class lookup. Closes its jars when closed.
 */
final class ClassPathIndex implements ClassLookup, AutoCloseable {
    /** Where one class file is. */
    private record Location(ZipFile jar, ZipEntry entry, Path file) {}

    private final Map<String, Location> classes = new LinkedHashMap<>();
    private final List<ZipFile> jars = new ArrayList<>();

    /**
     * @param paths jars and folders of classes
     * @throws IOException if a path cannot be read
     */
    ClassPathIndex(List<Path> paths) throws IOException {
        for (Path path : paths) {
            if (Files.isDirectory(path)) {
                try (Stream<Path> files = Files.walk(path)) {
                    files.filter(f -> f.toString().endsWith(".class")).forEach(f -> {
                        String name = path.relativize(f).toString().replace('\\', '/');
                        add(name.substring(0, name.length() - ".class".length()), new Location(null, null, f));
                    });
                }
            } else {
                ZipFile jar = new ZipFile(path.toFile());
                jars.add(jar);
                jar.stream().filter(e -> e.getName().endsWith(".class") && !e.isDirectory()).forEach(e -> {
                    String name = e.getName();
                    if (name.startsWith("META-INF/versions/")) {
                        return; // multi-release variants: the base entries are what an older JVM loads
                    }
                    add(name.substring(0, name.length() - ".class".length()), new Location(jar, e, null));
                });
            }
        }
    }

    private void add(String name, Location location) {
        if (!name.endsWith("module-info") && !name.endsWith("package-info")) {
            classes.putIfAbsent(name, location);
        }
    }

    /** @return the internal names of every class, in path order */
    List<String> names() {
        return new ArrayList<>(classes.keySet());
    }

    @Override
    public byte[] classBytes(String internalName) {
        Location location = classes.get(internalName);
        if (location == null) {
            return null;
        }
        try {
            if (location.file() != null) {
                return Files.readAllBytes(location.file());
            }
            try (InputStream in = location.jar().getInputStream(location.entry())) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() throws IOException {
        for (ZipFile jar : jars) {
            jar.close();
        }
    }
}
