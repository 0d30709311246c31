package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.check.BytecodeVerifier;
import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.instrumenter.classfile.RuntimeNames;
import io.aioco.testing.TriesFromProperty;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Label;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * Class hierarchies no compiler writes but stale class files give (A extends B compiled, then B
 * extends A compiled alone), and hierarchies deeper than any real one: every walk over supertypes
 * ends, and a class whose hierarchy is cyclic or too deep fails with a message naming the types,
 * as one whose supertype is missing does (the agent then loads it unchanged, the plugin fails the
 * build). Without the guards the instrumenter looped for ever in {@code commonSuperClass} and the
 * analyzer's merge, or overflowed the stack in {@code hasCoroutineFns}. The timeouts only turn a
 * hang into a failure; nothing here waits for them.
 */
class HostileHierarchyTest {
    private static final Duration HANG = Duration.ofSeconds(30);

    /** Class files by internal name, made with ASM. */
    private final Map<String, byte[]> classes = new HashMap<>();

    private ClassLookup lookup() {
        return ClassLookup.chain(classes::get, ClassLookup.ofClassLoader(getClass().getClassLoader()));
    }

    private void type(String name, boolean isInterface, String superName, String... interfaces) {
        ClassWriter writer = new ClassWriter(0);
        int access = Opcodes.ACC_PUBLIC | (isInterface ? Opcodes.ACC_INTERFACE | Opcodes.ACC_ABSTRACT : 0);
        writer.visit(Opcodes.V17, access, name, null, isInterface ? "java/lang/Object" : superName, interfaces);
        MethodVisitor method = writer.visitMethod(Opcodes.ACC_PUBLIC | (isInterface ? Opcodes.ACC_ABSTRACT : 0),
                "work", "()V", null, null); // a method a subclass's method could override
        if (!isInterface) {
            method.visitCode();
            method.visitInsn(Opcodes.RETURN);
            method.visitMaxs(0, 1);
        }
        method.visitEnd();
        writer.visitEnd();
        classes.put(name, writer.toByteArray());
    }

    /**
     * A class that extends {@code superName} and has a coroutine function whose local 1 holds a
     * {@code left} on one path and a {@code right} on the other, so that both the frame analysis
     * and the class writer ask for their common superclass.
     */
    private byte[] mainClass(String superName, String left, String right) {
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "Main", null, superName, null);
        writer.visitSource("Main.java", null);
        MethodVisitor method = writer.visitMethod(Opcodes.ACC_PUBLIC | Opcodes.ACC_STATIC, "pick", "(Z)Ljava/lang/Object;",
                null, null);
        method.visitAnnotation(RuntimeNames.COROUTINE_FN_DESC, false).visitEnd();
        method.visitCode();
        Label otherwise = new Label();
        Label join = new Label();
        method.visitVarInsn(Opcodes.ILOAD, 0);
        method.visitJumpInsn(Opcodes.IFEQ, otherwise);
        method.visitInsn(Opcodes.ACONST_NULL);
        method.visitTypeInsn(Opcodes.CHECKCAST, left);
        method.visitVarInsn(Opcodes.ASTORE, 1);
        method.visitJumpInsn(Opcodes.GOTO, join);
        method.visitLabel(otherwise);
        method.visitInsn(Opcodes.ACONST_NULL);
        method.visitTypeInsn(Opcodes.CHECKCAST, right);
        method.visitVarInsn(Opcodes.ASTORE, 1);
        method.visitLabel(join);
        method.visitLineNumber(7, join);
        method.visitMethodInsn(Opcodes.INVOKESTATIC, RuntimeNames.COROUTINE, RuntimeNames.YIELD, RuntimeNames.YIELD_DESC,
                false);
        method.visitVarInsn(Opcodes.ALOAD, 1);
        method.visitInsn(Opcodes.ARETURN);
        method.visitMaxs(0, 0);
        method.visitEnd();
        MethodVisitor work = writer.visitMethod(Opcodes.ACC_PUBLIC, "work", "()V", null, null);
        work.visitCode();
        work.visitInsn(Opcodes.RETURN);
        work.visitMaxs(0, 1);
        work.visitEnd();
        writer.visitEnd();
        return writer.toByteArray();
    }

    /** A class that only extends {@code superName} and overrides its method: nothing names the runtime. */
    private byte[] plainSubclass(String superName, String... interfaces) {
        ClassWriter writer = new ClassWriter(ClassWriter.COMPUTE_MAXS);
        writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "Plain", null, superName, interfaces);
        MethodVisitor work = writer.visitMethod(Opcodes.ACC_PUBLIC, "work", "()V", null, null);
        work.visitCode();
        work.visitInsn(Opcodes.RETURN);
        work.visitMaxs(0, 1);
        work.visitEnd();
        writer.visitEnd();
        return writer.toByteArray();
    }

    private InstrumentationResult instrument(byte[] classBytes) {
        return assertTimeoutPreemptively(HANG, () -> new Instrumenter(lookup()).instrument(classBytes));
    }

    private static String message(InstrumentationResult result) {
        assertEquals(InstrumentationResult.Outcome.FAILED, result.outcome(), result.diagnostics().toString());
        return result.diagnostics().get(0).format();
    }

    @Test
    void cyclicSuperclassesMetByTheFrameComputationFailTheClassNamingThem() {
        type("A", false, "B");
        type("B", false, "A");
        type("C", false, "D");
        type("D", false, "C");
        // NOTE: both merged types sit in a cycle, so that walking up from either never ends
        String message = message(instrument(mainClass("java/lang/Object", "A", "C")));
        assertTrue(message.contains("cyclic class hierarchy: A -> B -> A") || message.contains("C -> D -> C"), message);
        assertTrue(message.startsWith("Main.java:7: Main.pick(Z)Ljava/lang/Object;")
                || message.startsWith("Main.class: Main: "), message);
    }

    @Test
    void cyclicSuperclassesAboveAPlainClassFailItsQuickScan() {
        type("A", false, "B");
        type("B", false, "A");
        String message = message(instrument(plainSubclass("A")));
        assertEquals("Plain.class: Plain: cyclic class hierarchy: A -> B -> A (each names the next as its supertype:"
                + " stale class files; recompile them together)", message);
    }

    @Test
    void cyclicInterfacesAboveAPlainClassFailItsQuickScan() {
        type("I", true, null, "J");
        type("J", true, null, "K");
        type("K", true, null, "I");
        String message = message(instrument(plainSubclass("java/lang/Object", "I")));
        assertTrue(message.contains("cyclic class hierarchy: I -> J -> K -> I"), message);
    }

    @Test
    void aHierarchyDeeperThanTheBoundFailsInsteadOfOverflowingTheStack() {
        int depth = 20 * ClassHierarchy.MAX_DEPTH;
        for (int i = 0; i < depth; i++) {
            type("C" + i, false, i + 1 < depth ? "C" + (i + 1) : "java/lang/Object");
        }
        String message = message(instrument(plainSubclass("C0")));
        assertTrue(message.contains("deeper than " + ClassHierarchy.MAX_DEPTH), message);
        message = message(instrument(mainClass("java/lang/Object", "C0", "C" + (depth - 2))));
        assertTrue(message.contains("deeper than " + ClassHierarchy.MAX_DEPTH), message);
    }

    @Test
    void anEndlessHierarchyFromALookupThatMakesClassesUpEnds() {
        Map<String, byte[]> made = new HashMap<>();
        ClassLookup endless = name -> {
            if (!name.startsWith("E")) {
                return null;
            }
            return made.computeIfAbsent(name, n -> {
                ClassWriter writer = new ClassWriter(0);
                writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC | Opcodes.ACC_INTERFACE | Opcodes.ACC_ABSTRACT, n, null,
                        "java/lang/Object", new String[] {n + "a", n + "b"});
                writer.visitEnd();
                return writer.toByteArray();
            });
        };
        ClassHierarchy hierarchy = new ClassHierarchy(endless, false);
        assertTimeoutPreemptively(HANG, () -> {
            InstrumentationException thrown = org.junit.jupiter.api.Assertions.assertThrows(
                    InstrumentationException.class, () -> hierarchy.isSubtype("E", "Z"));
            assertTrue(thrown.getMessage().contains("supertypes"), thrown.getMessage());
            thrown = org.junit.jupiter.api.Assertions.assertThrows(InstrumentationException.class,
                    () -> hierarchy.hasCoroutineFns("E"));
            assertTrue(thrown.getMessage().contains("deeper than"), thrown.getMessage());
            thrown = org.junit.jupiter.api.Assertions.assertThrows(InstrumentationException.class,
                    () -> hierarchy.isCoroutineFn("E", "work", "()V"));
            assertTrue(thrown.getMessage().contains("supertypes"), thrown.getMessage());
        });
    }

    @Test
    void aDeepButBoundedHierarchyIsStillRead() {
        int depth = ClassHierarchy.MAX_DEPTH - 10;
        for (int i = 0; i < depth; i++) {
            type("C" + i, false, i + 1 < depth ? "C" + (i + 1) : "java/lang/Object");
        }
        InstrumentationResult result = instrument(mainClass("C0", "C0", "C" + (depth - 2)));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome(), result.diagnostics().toString());
        assertEquals(List.of(), new BytecodeVerifier(lookup()).verify(result.bytes()));
    }

    /**
     * Random hierarchies of a few types whose supertypes may point anywhere, cycles included: the
     * instrumenter always answers, fails only on a cycle it names, and what it writes verifies.
     */
    @Property(tries = 300)
    @AddLifecycleHook(TriesFromProperty.Random.class)
    void randomHierarchiesWithCyclesAlwaysEnd(@ForAll long seed) {
        classes.clear();
        Random random = new Random(seed);
        int count = 2 + random.nextInt(6);
        boolean[] isInterface = new boolean[count];
        for (int i = 0; i < count; i++) {
            isInterface[i] = random.nextInt(3) == 0;
        }
        Map<String, List<String>> edges = new HashMap<>();
        for (int i = 0; i < count; i++) {
            List<String> interfaces = new ArrayList<>();
            for (int j = 0; j < count; j++) {
                if (isInterface[j] && random.nextInt(3) == 0) {
                    interfaces.add("T" + j);
                }
            }
            String superName = "java/lang/Object";
            if (!isInterface[i] && random.nextBoolean()) {
                int j = random.nextInt(count);
                superName = "T" + j; // NOTE: may be an interface, or itself: stale files can say anything
            }
            List<String> supertypes = new ArrayList<>(interfaces);
            supertypes.add(superName);
            edges.put("T" + i, supertypes);
            type("T" + i, isInterface[i], superName, interfaces.toArray(new String[0]));
        }
        String left = "T" + random.nextInt(count);
        String right = "T" + random.nextInt(count);
        int extended = random.nextInt(count);
        String superName = random.nextBoolean() && !isInterface[extended] ? "T" + extended : "java/lang/Object";
        for (byte[] bytes : List.of(mainClass(superName, left, right), plainSubclass(superName))) {
            InstrumentationResult result = instrument(bytes);
            if (result.outcome() == InstrumentationResult.Outcome.FAILED) {
                String message = message(result);
                assertTrue(message.contains("cyclic class hierarchy") && hasCycle(edges), message);
            } else if (result.outcome() == InstrumentationResult.Outcome.REWRITTEN) {
                assertEquals(List.of(), new BytecodeVerifier(lookup()).verify(result.bytes()));
            }
        }
    }

    private static boolean hasCycle(Map<String, List<String>> edges) {
        Set<String> done = new HashSet<>();
        for (String start : edges.keySet()) {
            if (reachesCycle(start, edges, new HashSet<>(), done)) {
                return true;
            }
        }
        return false;
    }

    private static boolean reachesCycle(String type, Map<String, List<String>> edges, Set<String> path, Set<String> done) {
        if (done.contains(type) || !edges.containsKey(type)) {
            return false;
        }
        if (!path.add(type)) {
            return true;
        }
        for (String next : edges.get(type)) {
            if (reachesCycle(next, edges, path, done)) {
                return true;
            }
        }
        path.remove(type);
        done.add(type);
        return false;
    }
}
