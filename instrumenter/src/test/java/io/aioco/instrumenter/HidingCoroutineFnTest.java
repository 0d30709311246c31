package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * The mirror of {@link HiddenPackagePrivateTest}: the hidden method is the plain one. {@code q1.A.m}
 * is a package-private coroutine function, but {@code A} is excluded (not rewritten); {@code q2.D}
 * extends it with its own {@code @CoroutineFn public int m()}, which hides {@code A.m} without
 * overriding it (JVMS 5.4.5: another package). A rewritten caller of q1 calls {@code ((A) d).m()},
 * arming the signal for {@code m()I} on {@code d}; the call selects the plain {@code A.m}, which
 * calls {@code d.m()} through a plain helper. {@code D.m}'s wrapper took the signal as its own (its
 * receiver's class is its declaring class), suspended below the plain frames, and {@code A.m} ran
 * on with a dummy 0 and again on resume: {@code A.m,D.m,A.m r=0,|,A.m,A.m r=1,got=11}. Expected:
 * the crossing error naming the plain frames, every body run once. The instrumenter gives such a
 * hiding method a wrapper with the exact check ({@code CoStack.admitExact}); ordinary methods keep
 * the plain one.
 */
class HidingCoroutineFnTest {

    private static Map<String, String> sources() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("q1.A", """
                package q1;
                public class A {
                    @io.aioco.CoroutineFn int m() { t.Driver.log("A.m"); int r = q2.D.call((q2.D) this); t.Driver.log("A.m r=" + r); return r + 10; }
                }
                """);
        sources.put("q2.D", """
                package q2;
                import io.aioco.*;
                public class D extends q1.A {
                    @CoroutineFn public int m() { t.Driver.log("D.m"); Coroutine.yield(); return 1; }
                    public static int call(D d) { return d.m(); }
                    @CoroutineFn public int n() { t.Driver.log("D.n"); Coroutine.yield(); return 2; }
                }
                """);
        sources.put("q1.X", """
                package q1;
                import io.aioco.*;
                public class X {
                    @CoroutineFn static int viaA(A a) { return a.m(); }
                    @CoroutineFn static void work() { t.Driver.log("got=" + viaA(new q2.D())); }
                    @CoroutineFn static void direct() { q2.D d = new q2.D(); t.Driver.log("got=" + d.m() + "," + d.n()); }
                    public static Object throughA() {
                        try { return t.Driver.drive(X::work); }
                        catch (IllegalStateException e) { t.Driver.log(e.getMessage()); return String.join(",", t.Driver.TRACE); }
                    }
                    public static Object throughD() { return t.Driver.drive(X::direct); }
                }
                """);
        return sources;
    }

    @Test
    void aCallArmedForTheHiddenPlainMethodIsNotTakenByTheHidingOne() {
        InstrumentingLoader loader = new InstrumentingLoader(TestCompiler.compile(sources())).exclude("q1.A");
        String trace = (String) loader.callStatic("q1.X", "throughA");
        assertTrue(trace.startsWith("A.m,D.m,cannot suspend coroutine: q2.D.m()I was called from"
                + " q2.D.call(D.java:5) (itself called from q1.A.m(A.java:3)),"), trace);
        assertEquals(-1, trace.indexOf("A.m r="), trace); // the plain frame never ran on with a dummy value
        assertEquals(-1, trace.indexOf("got="), trace);
    }

    @Test
    void aRewrittenCallerOfTheHidingMethodSuspendsAndResumes() {
        InstrumentingLoader loader = new InstrumentingLoader(TestCompiler.compile(sources())).exclude("q1.A");
        assertEquals("D.m,|,D.n,|,got=1,2", loader.callStatic("q1.X", "throughD"));
    }

    @Test
    void onlyTheHidingMethodsWrapperTakesTheExactCheck() {
        Map<String, byte[]> classes = TestCompiler.compile(sources());
        ClassNode woven = woven(classes, classes::get, "q2/D");
        assertEquals(List.of(RuntimeNames.ADMIT_EXACT), admitCalls(woven, "m"));
        assertEquals(List.of(RuntimeNames.ADMIT), admitCalls(woven, "n")); // hides nothing: the plain check
    }

    @Test
    void aSuperclassThatCannotBeReadGivesTheExactCheck() {
        Map<String, byte[]> classes = TestCompiler.compile(sources());
        Map<String, byte[]> withoutA = new HashMap<>(classes);
        withoutA.remove("q1/A");
        ClassNode woven = woven(classes, withoutA::get, "q2/D");
        assertEquals(List.of(RuntimeNames.ADMIT_EXACT), admitCalls(woven, "m"));
        assertEquals(List.of(RuntimeNames.ADMIT_EXACT), admitCalls(woven, "n"));
    }

    @Test
    void aMethodOfTheSamePackageOrAPublicOneAboveIsNotHidden() {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("q1.A", "package q1; public class A { int m() { return 0; } public int p() { return 0; } }");
        sources.put("q1.B", """
                package q1;
                import io.aioco.*;
                public class B extends A {
                    @CoroutineFn int m() { Coroutine.yield(); return 1; }
                    @CoroutineFn public int p() { Coroutine.yield(); return 1; }
                }
                """);
        sources.put("q2.C", """
                package q2;
                import io.aioco.*;
                public class C extends q1.B {
                    @CoroutineFn public int p() { Coroutine.yield(); return 2; }
                    @CoroutineFn int m() { Coroutine.yield(); return 2; }
                }
                """);
        Map<String, byte[]> classes = TestCompiler.compile(sources);
        ClassNode b = woven(classes, classes::get, "q1/B");
        assertEquals(List.of(RuntimeNames.ADMIT), admitCalls(b, "m"));
        assertEquals(List.of(RuntimeNames.ADMIT), admitCalls(b, "p"));
        ClassNode c = woven(classes, classes::get, "q2/C");
        assertEquals(List.of(RuntimeNames.ADMIT), admitCalls(c, "p"));
        assertEquals(List.of(RuntimeNames.ADMIT_EXACT), admitCalls(c, "m")); // hides A.m and B.m of q1
    }

    private static ClassNode woven(Map<String, byte[]> classes, ClassLookup own, String name) {
        Instrumenter instrumenter = new Instrumenter(ClassLookup.chain(own,
                ClassLookup.ofClassLoader(HidingCoroutineFnTest.class.getClassLoader())));
        InstrumentationResult result = instrumenter.instrument(classes.get(name));
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome(), result.diagnostics().toString());
        ClassNode node = new ClassNode();
        new ClassReader(result.bytes()).accept(node, 0);
        return node;
    }

    /** @return the CoStack entry checks that the wrapper of {@code name()I} calls */
    private static List<String> admitCalls(ClassNode owner, String name) {
        List<String> found = new ArrayList<>();
        boolean seen = false;
        for (MethodNode method : owner.methods) {
            if (method.name.equals(name) && method.desc.equals("()I")) {
                seen = true;
                for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                    if (insn instanceof MethodInsnNode call && call.owner.equals(RuntimeNames.STACK)
                            && call.name.startsWith("admit")) {
                        found.add(call.name);
                    }
                }
            }
        }
        assertTrue(seen, name);
        assertFalse(found.isEmpty(), name);
        return found;
    }
}
