package io.aioco.maven;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * What the plugin remembers between builds of one woven folder, kept in its own folder under
 * {@code target/}: for each class it wove, the class file as the compiler wrote it (weaving works
 * in place, so nothing else keeps it), the digest of the woven bytes it wrote, and the classes whose
 * verdicts the weaving rested on with their {@link VerdictFingerprints fingerprints} at the time.
 * When a later build finds the woven file unchanged but one of those fingerprints changed (a callee
 * recompiled alone became, or stopped being, a coroutine function, or was deleted), the class is
 * woven again from the saved original. No QEMU counterpart.
 *
 * <p>Layout: {@code state.txt} (format below) and {@code originals/<path of the class file>}.
 * {@code state.txt} holds one line per woven class,
 * {@code woven <TAB> path <TAB> digest of the woven bytes}, followed by one line per class it
 * depends on, {@code dep <TAB> internal name <TAB> fingerprint}. Unknown or broken content is
 * ignored: the classes concerned are then treated as woven without a record.
 *
 * <p>Confined to the mojo's thread.
 */
final class WeaveState {
    private static final String HEADER = "aioco weave state 1";
    static final String STATE_FILE = "state.txt";
    static final String ORIGINALS = "originals";

    /**
     * What is remembered of one woven class.
     *
     * @param wovenDigest {@link VerdictFingerprints#digest} of the bytes written
     * @param dependencies each class the weaving rested on, with its fingerprint then
     */
    record Entry(String wovenDigest, Map<String, String> dependencies) {}

    private final Path directory;
    /** By the class file's path relative to the woven folder, with '/' separators. */
    private final Map<String, Entry> entries;
    private final String loadedText;

    private WeaveState(Path directory, Map<String, Entry> entries, String loadedText) {
        this.directory = directory;
        this.entries = entries;
        this.loadedText = loadedText;
    }

    /**
     * @param directory the state's folder; it need not exist
     * @return the state saved there, empty if none
     * @throws IOException if the state file exists but cannot be read
     */
    static WeaveState load(Path directory) throws IOException {
        Path file = directory.resolve(STATE_FILE);
        Map<String, Entry> entries = new TreeMap<>();
        if (!Files.isRegularFile(file)) {
            return new WeaveState(directory, entries, null);
        }
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> lines = Arrays.asList(text.split("\n"));
        if (lines.isEmpty() || !lines.get(0).equals(HEADER)) {
            return new WeaveState(directory, entries, text); // NOTE: another format: nothing is trusted
        }
        Map<String, String> dependencies = null;
        for (String line : lines.subList(1, lines.size())) {
            String[] fields = line.split("\t");
            if (fields.length == 3 && fields[0].equals("woven")) {
                dependencies = new TreeMap<>();
                entries.put(fields[1], new Entry(fields[2], dependencies));
            } else if (fields.length == 3 && fields[0].equals("dep") && dependencies != null) {
                dependencies.put(fields[1], fields[2]);
            } else if (!line.isEmpty()) {
                return new WeaveState(directory, new TreeMap<>(), text); // NOTE: broken: nothing is trusted
            }
        }
        return new WeaveState(directory, entries, text);
    }

    /** @return the entry of the class file at {@code path}, or null */
    Entry get(String path) {
        return entries.get(path);
    }

    /** Records (or replaces) the entry of a class file. */
    void put(String path, Entry entry) {
        entries.put(path, entry);
    }

    /** Forgets a class file (it was deleted, recompiled without anything to weave, or rewritten by another tool). */
    void remove(String path) {
        entries.remove(path);
    }

    /** @return the paths of every class file with an entry */
    Set<String> paths() {
        return new TreeSet<>(entries.keySet());
    }

    /** @return where the original of the class file at {@code path} is kept */
    Path original(String path) {
        return directory.resolve(ORIGINALS).resolve(path);
    }

    /**
     * @return the saved original of the class file at {@code path}, or null if it is not there
     * @throws IOException if it exists but cannot be read
     */
    byte[] readOriginal(String path) throws IOException {
        Path file = original(path);
        return Files.isRegularFile(file) ? Files.readAllBytes(file) : null;
    }

    /**
     * Saves the original of a class file (through a temporary file, so it is never left half written).
     *
     * @throws IOException if it cannot be written
     */
    void saveOriginal(String path, byte[] original) throws IOException {
        Path file = original(path);
        Files.createDirectories(file.getParent());
        if (Files.isRegularFile(file) && Arrays.equals(Files.readAllBytes(file), original)) {
            return; // NOTE: unchanged files keep their timestamps
        }
        writeAtomically(file, original);
    }

    /**
     * Writes the state file if it changed, and deletes the originals of classes without an entry.
     *
     * @throws IOException if the folder cannot be written
     */
    void save() throws IOException {
        Path originals = directory.resolve(ORIGINALS);
        if (Files.isDirectory(originals)) {
            List<Path> stale = new ArrayList<>();
            try (Stream<Path> files = Files.walk(originals)) {
                for (Path file : files.filter(Files::isRegularFile).toList()) {
                    String path = originals.relativize(file).toString().replace(file.getFileSystem().getSeparator(), "/");
                    if (!entries.containsKey(path)) {
                        stale.add(file);
                    }
                }
            }
            for (Path file : stale) {
                Files.delete(file);
            }
        }
        String text = format();
        if (text.equals(loadedText) || (loadedText == null && entries.isEmpty())) {
            return;
        }
        Files.createDirectories(directory);
        writeAtomically(directory.resolve(STATE_FILE), text.getBytes(StandardCharsets.UTF_8));
    }

    private String format() {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        for (Map.Entry<String, Entry> entry : entries.entrySet()) {
            text.append("woven\t").append(entry.getKey()).append('\t').append(entry.getValue().wovenDigest()).append('\n');
            for (Map.Entry<String, String> dependency : entry.getValue().dependencies().entrySet()) {
                text.append("dep\t").append(dependency.getKey()).append('\t').append(dependency.getValue()).append('\n');
            }
        }
        return text.toString();
    }

    private static void writeAtomically(Path target, byte[] content) throws IOException {
        Path temporary = target.resolveSibling(target.getFileName() + ".aioco-tmp");
        Files.write(temporary, content);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
