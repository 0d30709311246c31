package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.DataInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The runtime's packages form no import cycle (issue 15, item 1): the woven-code entry point
 * ({@link CoStack}, {@link Carrier}) and the loop's pieces ({@code io.aioco.internal.loop}) name no
 * class of the public package {@code io.aioco}, which depends on them; and no package depends back
 * on one that depends on it. Read from the compiled classes (every class name and type descriptor
 * in each constant pool), so a reference through a field type, a signature, a cast or a
 * superclass counts, not only an {@code import} line.
 */
class PackageDependencyTest {
    /** A class of the runtime named in a constant pool entry: {@code io/aioco/...} up to its simple name. */
    private static final Pattern NAME = Pattern.compile(
            "(?<=^|[^A-Za-z0-9_$/]|(?:^|[^A-Za-z0-9_$/])L)io/aioco/(?:[a-z0-9_]+/)*[A-Za-z0-9_$]+");

    @Test
    void theEntryPointAndTheLoopNameNothingPublic() throws IOException {
        Map<String, Set<String>> refs = referencesByClass();
        List<String> found = new ArrayList<>();
        refs.forEach((from, to) -> {
            if (packageOf(from).equals("io/aioco/internal/") || packageOf(from).equals("io/aioco/internal/loop/")) {
                for (String target : to) {
                    if (packageOf(target).equals("io/aioco/")) {
                        found.add(from + " -> " + target);
                    }
                }
            }
        });
        assertTrue(refs.containsKey("io/aioco/internal/CoStack"), "the scan found no classes: " + refs.keySet());
        assertEquals(List.of(), found, "io.aioco.internal(.loop) must not name a class of io.aioco");
    }

    @Test
    void runtimePackagesFormNoCycle() throws IOException {
        Map<String, Set<String>> graph = new TreeMap<>();
        Map<String, String> witness = new TreeMap<>();
        referencesByClass().forEach((from, to) -> {
            for (String target : to) {
                String a = packageOf(from);
                String b = packageOf(target);
                if (!a.equals(b) && graph.computeIfAbsent(a, k -> new TreeSet<>()).add(b)) {
                    witness.put(a + " -> " + b, from + " -> " + target);
                }
            }
        });
        assertTrue(graph.getOrDefault("io/aioco/", Set.of()).contains("io/aioco/internal/"),
                "the API depends on the internals, or the scan is broken: " + graph);
        List<String> cycle = findCycle(graph);
        assertFalse(cycle != null, () -> "import cycle between the runtime's packages: " + String.join(" -> ", cycle)
                + " (" + describe(cycle, witness) + ")");
    }

    /** The scan finds names in class entries, descriptors and signatures, and only whole names. */
    @Test
    void theScanReadsDescriptors() {
        Set<String> found = new TreeSet<>();
        for (String text : new String[] {"io/aioco/Coroutine", "(Lio/aioco/Coroutine;)Lio/aioco/internal/CoStack;",
                "[Lio/aioco/internal/loop/Poller;", "Ljava/util/List<Lio/aioco/AioContext;>;",
                "io.aioco.Coroutine.withTimeoutNs", "Xio/aioco/NotThis"}) {
            Matcher m = NAME.matcher(text);
            while (m.find()) {
                found.add(m.group());
            }
        }
        assertEquals(Set.of("io/aioco/Coroutine", "io/aioco/internal/CoStack", "io/aioco/internal/loop/Poller",
                "io/aioco/AioContext"), found);
    }

    /** The checker finds a cycle when there is one (it cannot pass by checking nothing). */
    @Test
    void aCycleIsFound() {
        Map<String, Set<String>> graph = new TreeMap<>();
        graph.put("a/", Set.of("b/"));
        graph.put("b/", Set.of("c/"));
        graph.put("c/", Set.of("a/"));
        assertEquals(List.of("a/", "b/", "c/", "a/"), findCycle(graph));
        graph.put("c/", Set.of());
        assertEquals(null, findCycle(graph));
    }

    private static String describe(List<String> cycle, Map<String, String> witness) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i + 1 < cycle.size(); i++) {
            out.add(witness.get(cycle.get(i) + " -> " + cycle.get(i + 1)));
        }
        return String.join("; ", out);
    }

    /** @return a cycle as its packages, the first repeated at the end, or null */
    static List<String> findCycle(Map<String, Set<String>> graph) {
        Map<String, Integer> state = new TreeMap<>(); // absent: new; 1: on the path; 2: done
        for (String start : graph.keySet()) {
            List<String> path = new ArrayList<>();
            List<String> cycle = visit(start, graph, state, path);
            if (cycle != null) {
                return cycle;
            }
        }
        return null;
    }

    private static List<String> visit(String node, Map<String, Set<String>> graph, Map<String, Integer> state,
            List<String> path) {
        Integer s = state.get(node);
        if (s != null && s == 2) {
            return null;
        }
        if (s != null) {
            List<String> cycle = new ArrayList<>(path.subList(path.indexOf(node), path.size()));
            cycle.add(node);
            return cycle;
        }
        state.put(node, 1);
        path.add(node);
        for (String next : graph.getOrDefault(node, Set.of())) {
            List<String> cycle = visit(next, graph, state, path);
            if (cycle != null) {
                return cycle;
            }
        }
        path.remove(path.size() - 1);
        state.put(node, 2);
        return null;
    }

    private static String packageOf(String internalName) {
        return internalName.substring(0, internalName.lastIndexOf('/') + 1);
    }

    /** Every runtime class (compiled, main) with the runtime classes its constant pool names. */
    private static Map<String, Set<String>> referencesByClass() throws IOException {
        Path root;
        try {
            root = Path.of(CoStack.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new IOException(e);
        }
        Map<String, Set<String>> out = new TreeMap<>();
        List<Path> classes;
        try (Stream<Path> files = Files.walk(root.resolve("io/aioco"))) {
            classes = files.filter(f -> f.toString().endsWith(".class")).toList();
        }
        for (Path file : classes) {
            String self = root.relativize(file).toString().replace(java.io.File.separatorChar, '/');
            self = self.substring(0, self.length() - ".class".length());
            if (self.endsWith("/package-info")) {
                continue; // annotations only; its Javadoc links are not in the class file
            }
            try (DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(Files.newInputStream(file)))) {
                Set<String> names = runtimeNames(in);
                names.remove(self);
                out.put(self, names);
            }
        }
        return out;
    }

    /**
     * The runtime classes named in a class file's constant pool: every Utf8 entry is searched (class
     * entries name a Utf8 entry; field and method descriptors and generic signatures are Utf8
     * entries), so nothing that links a class is missed. JVMS 4.4.
     */
    static Set<String> runtimeNames(DataInputStream in) throws IOException {
        if (in.readInt() != 0xCAFEBABE) {
            throw new IOException("not a class file");
        }
        in.readUnsignedShort(); // minor
        in.readUnsignedShort(); // major
        int count = in.readUnsignedShort();
        Set<String> names = new TreeSet<>();
        for (int i = 1; i < count; i++) {
            int tag = in.readUnsignedByte();
            switch (tag) {
                case 1 -> { // Utf8
                    Matcher m = NAME.matcher(in.readUTF());
                    while (m.find()) {
                        names.add(m.group());
                    }
                }
                case 3, 4 -> in.readInt(); // Integer, Float
                case 5, 6 -> { // Long, Double: two slots
                    in.readLong();
                    i++;
                }
                case 7, 8, 16, 19, 20 -> in.readUnsignedShort(); // Class, String, MethodType, Module, Package
                case 9, 10, 11, 12, 17, 18 -> in.readInt(); // refs, NameAndType, Dynamic, InvokeDynamic
                case 15 -> { // MethodHandle
                    in.readUnsignedByte();
                    in.readUnsignedShort();
                }
                default -> throw new IOException("unknown constant pool tag " + tag + " at " + i);
            }
        }
        return names;
    }
}
