package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import io.aioco.instrumenter.WovenMarker;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The weaving engine of both goals, on fixture sources compiled to a folder as a build would. */
class WeaverTest {
    private static final String HEADER = "package t;\nimport io.aioco.*;\nimport java.util.*;\n";

    @TempDir
    Path root;

    private Path classes() {
        return root.resolve("target/classes");
    }

    private void compile(Map<String, String> sources, Path... classpath) throws IOException {
        Compiler.compile(root, sources, classes(), classpath);
    }

    private Weaver.Result weave(ClassNamePatterns filter, Path... classpath) throws IOException {
        List<Path> elements = new java.util.ArrayList<>(List.of(classes()));
        elements.addAll(List.of(classpath));
        for (String element : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            elements.add(Path.of(element)); // the runtime, as on a project's compile classpath
        }
        try (ClassPathLookup lookup = ClassPathLookup.open(elements, ClassLookup.ofClassLoader(null))) {
            return new Weaver(classes(), lookup, filter, root).scan();
        }
    }

    private Weaver.Result weaveBroken(java.util.function.UnaryOperator<byte[]> breakIt) throws IOException {
        List<Path> elements = new java.util.ArrayList<>(List.of(classes()));
        for (String element : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            elements.add(Path.of(element));
        }
        try (ClassPathLookup lookup = ClassPathLookup.open(elements, ClassLookup.ofClassLoader(null))) {
            return new Weaver(classes(), lookup, all(), root, breakIt).scan();
        }
    }

    private static ClassNamePatterns all() {
        return new ClassNamePatterns(null, null);
    }

    private static final Map<String, String> PROGRAM = Map.of(
            "t.Program", HEADER + """
                    public class Program {
                        static final List<String> LOG = new ArrayList<>();
                        @CoroutineFn static void produce(int n) {
                            for (int i = 0; i < n; i++) { LOG.add("p" + i); Coroutine.yield(); }
                        }
                        public static String run() {
                            Coroutine co = Coroutine.create(() -> produce(3));
                            while (!co.isTerminated()) { co.enter(); LOG.add("|"); }
                            return String.join(",", LOG);
                        }
                    }
                    """,
            "t.Plain", HEADER + "public class Plain { public static int answer() { return 42; } }\n");

    @Test
    void wovenClassesRunWithoutTheAgentAndOthersAreNotTouched() throws Exception {
        compile(PROGRAM);
        Path plain = classes().resolve("t/Plain.class");
        byte[] plainBefore = Files.readAllBytes(plain);
        FileTime plainTime = FileTime.fromMillis(1_000_000_000_000L);
        Files.setLastModifiedTime(plain, plainTime);

        Weaver.Result result = weave(all());
        assertEquals(List.of(), result.errors);
        assertEquals(List.of("t.Program"), result.woven);
        assertEquals(2, result.scanned);
        result.write();

        assertEquals(WovenMarker.CURRENT_VERSION, WovenMarker.versionOf(Files.readAllBytes(classes().resolve("t/Program.class"))));
        assertArrayEquals(plainBefore, Files.readAllBytes(plain));
        assertEquals(plainTime, Files.getLastModifiedTime(plain));
        try (Stream<Path> files = Files.walk(classes())) {
            assertTrue(files.noneMatch(f -> f.toString().endsWith(".aioco-tmp")));
        }
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes().toUri().toURL()},
                getClass().getClassLoader())) {
            Object trace = loader.loadClass("t.Program").getMethod("run").invoke(null);
            assertEquals("p0,|,p1,|,p2,|,|", trace);
        }
    }

    @Test
    void weavingAgainChangesNoFile() throws IOException {
        compile(PROGRAM);
        weave(all()).write();
        Map<Path, FileTime> times = new HashMap<>();
        Map<Path, byte[]> contents = new HashMap<>();
        FileTime old = FileTime.fromMillis(1_000_000_000_000L);
        try (Stream<Path> files = Files.walk(classes())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.setLastModifiedTime(file, old);
                times.put(file, old);
                contents.put(file, Files.readAllBytes(file));
            }
        }
        Weaver.Result again = weave(all());
        again.write();
        assertEquals(List.of(), again.woven);
        assertEquals(List.of(), again.errors);
        assertEquals(1, again.alreadyWoven);
        for (Path file : times.keySet()) {
            assertEquals(old, Files.getLastModifiedTime(file), file.toString());
            assertArrayEquals(contents.get(file), Files.readAllBytes(file), file.toString());
        }
    }

    @Test
    void everyErrorIsListedBeforeAnythingIsWritten() throws IOException {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Bad", HEADER + """
                public class Bad {
                    static final Object LOCK = new Object();
                    @CoroutineFn static void co() { Coroutine.yield(); }
                    static void plain() { co(); }
                    @CoroutineFn static void locked() { synchronized (LOCK) { co(); } }
                }
                """);
        sources.put("t.AlsoBad", HEADER + "class AlsoBad { AlsoBad() { Bad.co(); } }\n");
        compile(sources);
        byte[] before = Files.readAllBytes(classes().resolve("t/Bad.class"));

        Weaver.Result result = weave(all());
        assertEquals(List.of(
                "t/AlsoBad.java:4: t.AlsoBad.<init>()V: call to coroutine function t.Bad.co()V from a constructor,"
                        + " which cannot be a coroutine function; move the call to a @CoroutineFn method called"
                        + " after construction",
                "t/Bad.java:8: t.Bad.locked()V: call to coroutine function t.Bad.co()V inside a synchronized"
                        + " block: a coroutine cannot suspend while it holds a monitor; use a CoMutex, or move the"
                        + " call out of the synchronized block",
                "t/Bad.java:7: t.Bad.plain()V: call to coroutine function t.Bad.co()V from a method that is not a"
                        + " coroutine function; mark this method @CoroutineFn (its callers must then be coroutine"
                        + " functions too), or run the call in a coroutine (Coroutine.create(() -> ...).enter())"),
                result.errors);
        assertArrayEquals(before, Files.readAllBytes(classes().resolve("t/Bad.class"))); // scan writes nothing
    }

    private Weaver.Result check() throws IOException {
        List<Path> elements = new java.util.ArrayList<>(List.of(classes()));
        for (String element : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            elements.add(Path.of(element));
        }
        try (ClassPathLookup lookup = ClassPathLookup.open(elements, ClassLookup.ofClassLoader(null))) {
            return new Weaver(classes(), lookup, all(), root).check();
        }
    }

    /** The check goal: the findings of weaving (rule and refusals), and nothing woven nor recorded. */
    @Test
    void checkListsWhatWeavingWouldAndWritesNothing() throws IOException {
        Map<String, String> sources = new LinkedHashMap<>(PROGRAM);
        sources.put("t.Bad", HEADER + """
                public class Bad {
                    static final Object LOCK = new Object();
                    @CoroutineFn static void co() { Coroutine.yield(); }
                    static void plain() { co(); }
                    @CoroutineFn static void locked() { synchronized (LOCK) { co(); } }
                }
                """);
        compile(sources);
        Map<Path, byte[]> before = new HashMap<>();
        try (Stream<Path> files = Files.walk(classes())) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                before.put(file, Files.readAllBytes(file));
            }
        }

        Weaver.Result checked = check();
        checked.write();
        assertEquals(List.of(
                "t/Bad.java:8: t.Bad.locked()V: call to coroutine function t.Bad.co()V inside a synchronized"
                        + " block: a coroutine cannot suspend while it holds a monitor; use a CoMutex, or move the"
                        + " call out of the synchronized block",
                "t/Bad.java:7: t.Bad.plain()V: call to coroutine function t.Bad.co()V from a method that is not a"
                        + " coroutine function; mark this method @CoroutineFn (its callers must then be coroutine"
                        + " functions too), or run the call in a coroutine (Coroutine.create(() -> ...).enter())"),
                checked.errors);
        assertEquals(before.size(), checked.scanned + 0, "every class file checked: " + before.keySet());
        assertEquals(List.of(), checked.woven);
        for (Map.Entry<Path, byte[]> file : before.entrySet()) {
            assertArrayEquals(file.getValue(), Files.readAllBytes(file.getKey()), file.getKey() + " was rewritten");
        }
        assertFalse(Files.exists(root.resolve("target").resolve(Weaver.STATE_FOLDER)), "no weaving state is kept");
        assertEquals(checked.errors, weave(all()).errors, "the check finds what weaving finds");
    }

    @Test
    void checkOfACleanProgramFindsNothing() throws IOException {
        compile(PROGRAM);
        Weaver.Result checked = check();
        assertEquals(List.of(), checked.errors);
        assertEquals(List.of(), checked.warnings);
        assertTrue(checked.scanned >= 2, "t.Program and its lambda's class, or t.Plain: " + checked.scanned);
    }

    @Test
    void malformedClassFileIsReportedByItsPath() throws IOException {
        compile(PROGRAM);
        Path broken = classes().resolve("t/Broken.class");
        Files.write(broken, new byte[] {(byte) 0xCA, (byte) 0xFE, (byte) 0xBA, (byte) 0xBE, 0, 0, 0, 61, 0, 99});
        Path truncated = classes().resolve("t/Truncated.class");
        byte[] program = Files.readAllBytes(classes().resolve("t/Program.class"));
        Files.write(truncated, java.util.Arrays.copyOf(program, program.length / 2));

        Weaver.Result result = weave(all());
        assertEquals(2, result.errors.size(), result.errors.toString());
        assertTrue(result.errors.get(0).startsWith("target/classes/t/Broken.class: not a valid class file ("),
                result.errors.get(0));
        assertTrue(result.errors.get(1).startsWith("target/classes/t/Truncated.class: not a valid class file ("),
                result.errors.get(1));
        assertEquals(List.of("t.Program"), result.woven); // the good classes are woven all the same
    }

    @Test
    void excludedClassesAreNeitherWovenNorChecked() throws IOException {
        Map<String, String> sources = new LinkedHashMap<>(PROGRAM);
        sources.put("t.gen.Caller", "package t.gen;\npublic class Caller { void plain() { t.Program.produce(1); } }\n");
        sources.put("t.Program", sources.get("t.Program").replace("@CoroutineFn static", "@CoroutineFn public static"));
        compile(sources);
        Weaver.Result result = weave(new ClassNamePatterns(List.of("t.**"), List.of("t.gen.*", "t.Pl?in")));
        assertEquals(List.of(), result.errors);
        assertEquals(List.of("t.Program"), result.woven);
        assertEquals(List.of("t.Plain", "t.gen.Caller"), result.excluded.stream().sorted().toList());
    }

    @Test
    void hierarchyIsReadFromDependencyJars(@TempDir Path apiRoot) throws IOException {
        Path apiClasses = apiRoot.resolve("classes");
        Compiler.compile(apiRoot, Map.of("api.Step", """
                package api;
                public interface Step { @io.aioco.CoroutineFn void step(); }
                """), apiClasses);
        Path jar = apiRoot.resolve("api.jar");
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out)) {
            jarOut.putNextEntry(new JarEntry("api/Step.class"));
            jarOut.write(Files.readAllBytes(apiClasses.resolve("api/Step.class")));
            jarOut.closeEntry();
        }
        compile(Map.of("t.Impl", HEADER + """
                public class Impl implements api.Step {
                    public void step() { Coroutine.yield(); }
                }
                """), jar);
        Weaver.Result result = weave(all(), jar);
        assertEquals(List.of("t.Impl"), result.woven);
        assertEquals(List.of("t/Impl.java:5: t.Impl.step()V: overrides coroutine function api.Step.step()V without"
                + " @CoroutineFn: it is instrumented as a coroutine function all the same (the marker is inherited);"
                + " add @CoroutineFn so that readers and callers see it"), result.warnings);
    }

    /** Rewrites the superclass a class file names, as a stale class file compiled alone would. */
    private void setSuperclass(String className, String superName) throws IOException {
        Path file = classes().resolve(className + ".class");
        org.objectweb.asm.ClassWriter writer = new org.objectweb.asm.ClassWriter(0);
        new org.objectweb.asm.ClassReader(Files.readAllBytes(file)).accept(
                new org.objectweb.asm.ClassVisitor(org.objectweb.asm.Opcodes.ASM9, writer) {
                    @Override
                    public void visit(int version, int access, String name, String signature, String ignored,
                            String[] interfaces) {
                        super.visit(version, access, name, signature, superName, interfaces);
                    }
                }, 0);
        Files.write(file, writer.toByteArray());
    }

    @Test
    void cyclicHierarchyFromStaleClassFilesFailsNamingTheClassesInsteadOfHanging() throws Exception {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.A", HEADER + "public class A extends B { static A make() { return null; } }\n");
        sources.put("t.B", HEADER + "public class B {}\n");
        sources.put("t.C", HEADER + "public class C extends D { static C make() { return null; } }\n");
        sources.put("t.D", HEADER + "public class D {}\n");
        sources.put("t.E", HEADER + "public class E extends A { public String toString() { return \"e\"; } }\n");
        sources.put("t.Pick", HEADER + """
                public class Pick {
                    @CoroutineFn static String pick(boolean f) {
                        Object o;
                        if (f) o = A.make(); else o = C.make();
                        Coroutine.yield();
                        return String.valueOf(o);
                    }
                }
                """);
        compile(sources);
        setSuperclass("t/B", "t/A"); // B was recompiled alone after A extended it
        setSuperclass("t/D", "t/C");
        Weaver.Result result = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                java.time.Duration.ofSeconds(60), () -> weave(all()));
        assertTrue(result.errors.contains("target/classes/t/E.class: cannot be instrumented: cyclic class hierarchy:"
                + " t.A -> t.B -> t.A (each names the next as its supertype: stale class files; recompile them"
                + " together)"), result.errors.toString());
        assertTrue(result.errors.stream().anyMatch(error -> error.startsWith("target/classes/t/Pick.class: cannot be"
                + " instrumented: ") && error.contains("cyclic class hierarchy: ")), result.errors.toString());
        assertFalse(result.woven.contains("t.Pick"));
    }

    /** A rewrite gone wrong: a POP at the start of every method named {@code name} with code. */
    private static byte[] popFirst(byte[] classBytes, String name) {
        org.objectweb.asm.tree.ClassNode node = new org.objectweb.asm.tree.ClassNode();
        new org.objectweb.asm.ClassReader(classBytes).accept(node, 0);
        for (org.objectweb.asm.tree.MethodNode method : node.methods) {
            if (method.name.equals(name) && method.instructions.size() > 0) {
                method.instructions.insert(new org.objectweb.asm.tree.InsnNode(org.objectweb.asm.Opcodes.POP));
            }
        }
        org.objectweb.asm.ClassWriter writer = new org.objectweb.asm.ClassWriter(0);
        node.accept(writer);
        return writer.toByteArray();
    }

    @Test
    void aWovenClassThatDoesNotVerifyIsAnErrorNamingTheMethodAndIsNeverWritten() throws IOException {
        compile(PROGRAM);
        Path program = classes().resolve("t/Program.class");
        byte[] before = Files.readAllBytes(program);
        Weaver.Result result = weaveBroken(bytes -> popFirst(bytes, "produce"));
        assertEquals(List.of(), result.woven);
        assertFalse(result.errors.isEmpty());
        for (String error : result.errors) {
            assertTrue(error.startsWith("target/classes/t/Program.class: t.Program.produce(I"), error);
            assertTrue(error.contains("Cannot pop operand off an empty stack"), error);
            assertTrue(error.endsWith("(the woven class does not verify; it is not written: please report this as a"
                    + " bug of aioco)"), error);
        }
        result.write();
        assertArrayEquals(before, Files.readAllBytes(program));
        // and what the instrumenter writes itself verifies: nothing is refused
        Weaver.Result fine = weaveBroken(java.util.function.UnaryOperator.identity());
        assertEquals(List.of(), fine.errors);
        assertEquals(List.of("t.Program"), fine.woven);
    }

    @Test
    void aClassWovenByAnOlderAiocoFailsTheBuildNamingTheClassAndBothVersions() throws IOException {
        compile(PROGRAM);
        weave(all()).write();
        Path program = classes().resolve("t/Program.class");
        org.objectweb.asm.tree.ClassNode node = new org.objectweb.asm.tree.ClassNode();
        new org.objectweb.asm.ClassReader(Files.readAllBytes(program)).accept(node, 0);
        node.invisibleAnnotations.forEach(annotation -> annotation.values = null); // the marker as aioco wrote it before
        org.objectweb.asm.ClassWriter writer = new org.objectweb.asm.ClassWriter(0);
        node.accept(writer);
        Files.write(program, writer.toByteArray());

        Weaver.Result result = weave(all());
        assertEquals(List.of("t/Program.java: t.Program: woven by an aioco whose coroutine protocol is version 1; this"
                + " aioco's is version " + io.aioco.instrumenter.WovenMarker.CURRENT_VERSION + ", the two cannot call"
                + " each other, and the original class cannot be recovered from the woven one: recompile it (a clean"
                + " build) so that this aioco weaves it; until then its coroutine functions throw"), result.errors);
        assertEquals(0, result.alreadyWoven);
    }

    @Test
    void classNamePatterns() {
        ClassNamePatterns patterns = new ClassNamePatterns(List.of("com.example.**", "org.*Service"),
                List.of("com.example.gen.**", "com.example.Outer$*"));
        assertTrue(patterns.accepts("com.example.App"));
        assertTrue(patterns.accepts("com.example.deep.er.App"));
        assertTrue(patterns.accepts("org.UserService"));
        assertFalse(patterns.accepts("org.sub.UserService"));
        assertFalse(patterns.accepts("com.example.gen.Parser"));
        assertFalse(patterns.accepts("com.example.Outer$Inner"));
        assertTrue(patterns.accepts("com.example.Outer"));
        assertFalse(patterns.accepts("net.Other"));
        assertTrue(new ClassNamePatterns(List.of(), null).accepts("any.Thing"));
    }
}
