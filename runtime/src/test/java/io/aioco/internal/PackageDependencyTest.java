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
                "io.aioco.Coroutine.withTimeoutNs", "Xio/aioco/NotThis", "(JLio/aioco/internal/Carrier;)V",
                "<T:Ljava/lang/Object;L:Lio/aioco/internal/loop/TestTime;>(TT;[[IZLio/aioco/internal/CoLinker;)TL;",
                "Ljava/util/Map<Ljava/lang/String;+Lio/aioco/internal/Dispatch;>.Entry<*-Lio/aioco/internal/CoTables;>;",
                "<K::Ljava/lang/Comparable<TK;>;>Ljava/lang/Object;Lio/aioco/internal/Instrumented<TK;>;",
                "(TK;)V^Lio/aioco/internal/Gone;", "not a descriptor (Lio/aioco/Text;)"}) {
            namesIn(text, found);
        }
        assertEquals(Set.of("io/aioco/Coroutine", "io/aioco/internal/CoStack", "io/aioco/internal/loop/Poller",
                "io/aioco/AioContext", "io/aioco/internal/Carrier", "io/aioco/internal/loop/TestTime",
                "io/aioco/internal/CoLinker", "io/aioco/internal/Dispatch", "io/aioco/internal/CoTables",
                "io/aioco/internal/Instrumented", "io/aioco/internal/Gone"), found);
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
                case 1 -> namesIn(in.readUTF(), names); // Utf8
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

    /**
     * Adds to {@code out} the runtime classes a constant pool Utf8 entry names: the entry itself
     * when it is a class's internal name ({@code io/aioco/X}, a class entry's text), else the
     * classes of the descriptor or signature it is, read by walking its grammar (JVMS 4.3, 4.7.9.1):
     * formal type parameters {@code <T:bound:bound>}, {@code (}, {@code )}, primitives and
     * {@code V}, {@code [}, {@code L...;} with type arguments {@code <...>} ({@code *}, {@code +},
     * {@code -}) and inner suffixes {@code .Inner<...>}, {@code T...;} type variables, {@code ^}
     * throws. Any other text (a string constant, a member name) names nothing.
     */
    static void namesIn(String text, Set<String> out) {
        if (text.matches("io/aioco/(?:[a-z0-9_]+/)*[A-Za-z0-9_$]+")) {
            out.add(text);
            return;
        }
        Set<String> found = new TreeSet<>();
        if (new Walker(text, found).descriptor()) {
            out.addAll(found);
        }
    }

    /** A recursive walk over one descriptor or signature; false when the text is not one. */
    private static final class Walker {
        private final String s;
        private final Set<String> found;
        private int i;

        Walker(String s, Set<String> found) {
            this.s = s;
            this.found = found;
        }

        boolean descriptor() {
            if (s.isEmpty()) {
                return false;
            }
            if (peek() == '<' && !typeParameters()) {
                return false;
            }
            if (peek() == '(') { // a method: parameters, return type, thrown types
                i++;
                while (peek() != ')') {
                    if (!type()) {
                        return false;
                    }
                }
                i++;
                if (peek() == 'V') {
                    i++;
                } else if (!type()) {
                    return false;
                }
                while (peek() == '^') {
                    i++;
                    if (!type()) {
                        return false;
                    }
                }
                return i == s.length();
            }
            while (i < s.length()) { // a field type, or a class signature's superclass and interfaces
                if (!type()) {
                    return false;
                }
            }
            return true;
        }

        private char peek() {
            return i < s.length() ? s.charAt(i) : '\0';
        }

        private boolean typeParameters() {
            i++; // '<'
            while (peek() != '>') {
                int colon = s.indexOf(':', i);
                if (colon <= i) {
                    return false;
                }
                i = colon;
                while (peek() == ':') {
                    i++;
                    if (peek() != ':' && peek() != '>' && !type()) {
                        return false;
                    }
                }
            }
            i++;
            return true;
        }

        private boolean type() {
            char c = peek();
            switch (c) {
                case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z' -> {
                    i++;
                    return true;
                }
                case '[' -> {
                    i++;
                    return type();
                }
                case 'T' -> {
                    int end = s.indexOf(';', i);
                    if (end < 0) {
                        return false;
                    }
                    i = end + 1;
                    return true;
                }
                case 'L' -> {
                    i++;
                    StringBuilder name = new StringBuilder();
                    while (true) {
                        char d = peek();
                        if (d == ';') {
                            i++;
                            record(name.toString());
                            return true;
                        }
                        if (d == '<') {
                            i++;
                            while (peek() != '>') {
                                char w = peek();
                                if (w == '*') {
                                    i++;
                                    continue;
                                }
                                if (w == '+' || w == '-') {
                                    i++;
                                }
                                if (!type()) {
                                    return false;
                                }
                            }
                            i++;
                        } else if (d == '.') { // Outer<...>.Inner: the inner class's name
                            record(name.toString());
                            name.append('$');
                            i++;
                        } else if (d == '\0' || d == '(' || d == ')' || d == '>' || d == ':' || d == '[') {
                            return false;
                        } else {
                            name.append(d);
                            i++;
                        }
                    }
                }
                default -> {
                    return false;
                }
            }
        }

        private void record(String name) {
            if (name.startsWith("io/aioco/")) {
                found.add(name);
            }
        }
    }
}
