package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ConstantDynamic;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.InvokeDynamicInsnNode;
import org.objectweb.asm.tree.JumpInsnNode;
import org.objectweb.asm.tree.LabelNode;
import org.objectweb.asm.tree.LdcInsnNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * A static call to a coroutine function of another class woven alike is a plain call of its fresh
 * body ({@code LocalDirectCalls}); the behaviour is the linked call's: suspend and resume through
 * it, a refused callee's message, and a callee left unwoven still runs as plain code.
 */
class CrossClassDirectCallsTest {
    private static final String OTHER = Fixtures.HEADER + """
            public class Other {
                static final Object LOCK = new Object();
                @CoroutineFn public static int twice(int x) { Driver.log("twice " + x); Coroutine.yield(); return 2 * x; }
                @CoroutineFn public static int plain(int x) { Driver.log("plain " + x); return x + 100; }
                @CoroutineFn public static int refused(int x) { synchronized (LOCK) { Coroutine.yield(); } return x; }
            }
            """;

    private static InstrumentingLoader loader(String caller, String... javacOptions) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.Driver", Fixtures.DRIVER);
        sources.put("t.Other", OTHER);
        sources.put("t.Caller", Fixtures.HEADER + caller);
        return InstrumentingLoader.of(sources, javacOptions);
    }

    private static final String CHAIN = """
            public class Caller {
                @CoroutineFn static void go() {
                    int a = Other.twice(3);
                    int b = Other.plain(a);
                    Driver.log("got " + a + " " + b);
                }
                public static Object run() { return Driver.drive(Caller::go); }
            }
            """;

    @Test
    void aSuspendingCalleeOfAnotherClassIsCalledPlainlyAndResumes() {
        InstrumentingLoader loader = loader(CHAIN);
        assertEquals("twice 3,|,plain 6,got 6 106", loader.callStatic("t.Caller", "run"));
        // the fresh calls are plain invokestatics of the fresh bodies (the resume call stays linked)
        ClassNode caller = new ClassNode();
        new ClassReader(loader.result("t.Caller").bytes()).accept(caller, 0);
        int plainToOther = 0;
        for (MethodNode method : caller.methods) {
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode call && call.owner.equals("t/Other")) {
                    assertEquals("(ILio/aioco/internal/CoStack;)I", call.desc, call.name);
                    assertGuarded(call);
                    plainToOther++;
                }
            }
        }
        assertEquals(4, plainToOther, "twice and plain, from the body and the fresh body of go");
    }

    /**
     * The plain call is guarded: {@code ldc hasBody(Other, type); ifnull slow; invokestatic; goto
     * done; slow: invokedynamic link (the same call); done:}, so that a callee loaded unwoven runs
     * as plain code instead of failing with NoSuchMethodError.
     */
    private static void assertGuarded(MethodInsnNode call) {
        AbstractInsnNode jump = previous(call);
        assertEquals(Opcodes.IFNULL, jump.getOpcode(), "a conditional jump before the plain call");
        AbstractInsnNode ldc = previous(jump);
        assertTrue(ldc instanceof LdcInsnNode constant && constant.cst instanceof ConstantDynamic,
                "a dynamic constant before the jump");
        ConstantDynamic guard = (ConstantDynamic) ((LdcInsnNode) ldc).cst;
        // a reference: JDK 17's JITs do not compile a method that loads a primitive dynamic constant
        assertEquals("Ljava/lang/Object;", guard.getDescriptor());
        assertEquals(call.name, guard.getName());
        assertEquals("io/aioco/internal/CoLinker", guard.getBootstrapMethod().getOwner());
        assertEquals("hasBody", guard.getBootstrapMethod().getName());
        assertEquals(2, guard.getBootstrapMethodArgumentCount());
        assertEquals(Type.getObjectType("t/Other"), guard.getBootstrapMethodArgument(0));
        assertEquals(Type.getMethodType(call.desc), guard.getBootstrapMethodArgument(1));
        AbstractInsnNode skip = next(call);
        assertEquals(Opcodes.GOTO, skip.getOpcode(), "a jump over the linked call after the plain call");
        AbstractInsnNode linked = next(((JumpInsnNode) jump).label);
        assertTrue(linked instanceof InvokeDynamicInsnNode, "the linked call where the guard jumps");
        InvokeDynamicInsnNode indy = (InvokeDynamicInsnNode) linked;
        assertEquals(call.name, indy.name);
        assertEquals(call.desc, indy.desc);
        assertEquals("link", indy.bsm.getName());
        assertEquals(Type.getObjectType("t/Other"), indy.bsmArgs[0]);
        assertEquals(((JumpInsnNode) skip).label, nextLabel(indy), "the linked call falls through to the end");
    }

    private static AbstractInsnNode previous(AbstractInsnNode insn) {
        AbstractInsnNode p = insn.getPrevious();
        while (p.getOpcode() < 0) {
            p = p.getPrevious();
        }
        return p;
    }

    private static AbstractInsnNode next(AbstractInsnNode insn) {
        AbstractInsnNode n = insn.getNext();
        while (n.getOpcode() < 0) {
            n = n.getNext();
        }
        return n;
    }

    private static AbstractInsnNode nextLabel(AbstractInsnNode insn) {
        AbstractInsnNode n = insn.getNext();
        while (!(n instanceof LabelNode)) {
            assertTrue(n.getOpcode() < 0, "nothing between the linked call and the end: " + n.getOpcode());
            n = n.getNext();
        }
        return n;
    }

    /**
     * The guard is a dynamic constant, which a class file older than Java 11 cannot hold (the JVM
     * refuses the class): such a caller keeps the linked calls; from Java 11 on, it is guarded.
     */
    @Test
    void aCallerOlderThanJava11KeepsTheLinkedCall() {
        for (String release : new String[] {"8", "11"}) {
            InstrumentingLoader loader = loader(CHAIN, "--release", release);
            assertEquals("twice 3,|,plain 6,got 6 106", loader.callStatic("t.Caller", "run"), release);
            ClassNode caller = new ClassNode();
            new ClassReader(loader.result("t.Caller").bytes()).accept(caller, 0);
            int plainToOther = 0;
            for (MethodNode method : caller.methods) {
                for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                    if (insn instanceof MethodInsnNode call && call.owner.equals("t/Other")) {
                        assertGuarded(call);
                        plainToOther++;
                    }
                }
            }
            assertEquals(release.equals("8") ? 0 : 4, plainToOther, "--release " + release);
        }
    }

    @Test
    void aCalleeOfAClassLeftUnwovenRunsAsPlainCode() {
        InstrumentingLoader loader = loader("""
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + Other.plain(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """).exclude("t.Other");
        assertEquals("plain 1,got 101", loader.callStatic("t.Caller", "run"));
    }

    /**
     * The instrumenter takes Other as woven alike (the caller gets the guarded plain call), but
     * Other is loaded as compiled, as from the boot class path or before the agent started: the
     * guard takes the linked call, which runs it as plain code (without the guard: a
     * NoSuchMethodError for {@code Other.plain(int, CoStack)}).
     */
    @Test
    void aCalleeTakenAsWovenAlikeButLoadedUnwovenRunsAsPlainCode() {
        InstrumentingLoader loader = loader("""
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + Other.plain(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """).loadUnwoven("t.Other");
        assertEquals("plain 1,got 101", loader.callStatic("t.Caller", "run"));
        assertEquals(null, loader.result("t.Other"), "Other was defined as compiled");
        assertTrue(loader.result("t.Caller").bytes() != null, "Caller was woven");
    }

    @Test
    void aRefusedCalleeOfAnotherClassThrowsItsRefusal() {
        InstrumentingLoader loader = loader("""
                public class Caller {
                    @CoroutineFn static void go() { Driver.log("got " + Other.refused(1)); }
                    public static Object run() { return Driver.drive(Caller::go); }
                }
                """);
        InstrumentationResult other = loader.result("t.Other");
        assertEquals(1, other.diagnostics().size(), other.diagnostics().toString());
        IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> loader.callStatic("t.Caller", "run"));
        assertEquals(other.diagnostics().get(0).format(), thrown.getMessage());
        assertTrue(thrown.getMessage().contains("t.Other.refused(I)I"), thrown.getMessage());
    }
}
