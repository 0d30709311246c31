package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodInsnNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Review of grow18b (the compact encoding's saved values shared as a trie): a function just under
 * 8 KiB, so large that it takes the compact encoding, whose suspension points have locals shapes
 * that differ in hostile ways: a block's two-slot local (long, double) whose slots the next block
 * reuses for an int and a String; locals that hold the constant null; arrays; a local whose type
 * differs between the two paths that define it (String or StringBuilder as a CharSequence, String[]
 * or Integer[] as Object[]); the exception and a local of a catch handler live across a call that
 * suspends; a finally block's locals; long and double values on the operand stack under the call;
 * uninitialized objects ({@code new Box(..., call)}) under the call; and calls that each define one
 * more local, live to the end (a deep trie). Run in a coroutine that suspends at every point, it
 * must give the plain program's result. The function is large enough to take the compact encoding
 * (checked: far fewer saves in its body than points).
 *
 * <p>Found on int14: a function of {@code new Box(G.f(s), G.f(s + 1))} statements was refused past
 * about 5 KiB (ASM's frame budget passed even at four times its default, and the refusal says the
 * method passed 64 KiB), and took seconds to instrument: each constructor call gave its arguments
 * fresh locals ({@code UninitializedObjects}), which the compact encoding saves at every later
 * point.
 */
class CompactTrieHostileTest {
    static final int LIMIT = 8 * 1024 - 1;

    private static final String[] TYPES = {"int", "long", "double", "String", "float", "Object", "int[]", "boolean",
        "char", "short", "byte"};

    record Shape(String name, int locals, String patterns, boolean finallyBlock) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                new Shape("slot reuse with other types, null, arrays, 40 live locals", 40, "ABDE", false),
                new Shape("types that differ between paths, catch handlers, 30 live locals", 30, "CJKF", false),
                new Shape("long/double and uninitialized objects under the call, 20 live locals", 20, "GHLU", false),
                // rv14b: refused on int14 (ASM's frame budget, even at four times its default): each
                // constructor call took fresh locals for its arguments, which every later point saved
                new Shape("uninitialized objects under two calls per statement, nested, nothing else live", 0, "HN", false),
                new Shape("uninitialized objects over a long and a double, 20 live locals", 20, "U", false),
                new Shape("every pattern, each call defines a local too, in a finally, 16 live locals", 16,
                        "ABCDEFGHJKLUdd", true))
                .map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void theCompactEncodingRestoresEveryValue(Shape shape) throws Exception {
        Map<String, byte[]> classes = null;
        int points = 60;
        int size = 0;
        int chosen = 0;
        for (int attempt = 0; attempt < 10; attempt++) {
            Map<String, byte[]> compiled = TestCompiler.compile(sources(shape, points));
            int compiledSize = CodeGrowthTest.codeLengths(compiled.get("t/P")).get(BIG);
            if (compiledSize > LIMIT) {
                points = Math.max(1, (int) (points * 0.97 * LIMIT / compiledSize));
                continue;
            }
            if (classes == null || compiledSize > size) {
                classes = compiled;
                size = compiledSize;
                chosen = points;
            }
            if (compiledSize > LIMIT * 0.93) {
                break;
            }
            points = (int) (points * 0.99 * LIMIT / compiledSize);
        }
        assertTrue(size > LIMIT * 0.85 && size <= LIMIT, shape + ": the generated function has " + size + " bytes");

        InstrumentingLoader woven = new InstrumentingLoader(classes);
        InstrumentationResult result = woven.result("t.P");
        assertEquals(List.of(), result.diagnostics(), shape + " (" + size + " bytes): refused");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());
        // the compact encoding: far fewer saves in the body than the values its points save (the
        // usual encoding saves 16 or more at each point)
        int[] saves = saves(result.bytes());
        assertTrue(saves[0] < saves[1] * 4, shape + ": not compact? " + saves[0] + " saves for " + saves[1] + " points");

        Object[] plain = (Object[]) call(new PlainLoader(classes), "plain");
        Object[] instrumented = (Object[]) woven.callStatic("t.P", "run");
        int suspensions = (Integer) plain[1];
        assertTrue(suspensions >= chosen / 2, shape + ": " + suspensions + " suspension points passed");
        assertEquals(plain[2], instrumented[2], shape + ": the trace of values");
        assertEquals(plain[0], instrumented[0], shape + ": the result");
        assertEquals(suspensions, instrumented[1], shape + ": points passed");
    }

    private static final String BIG = "big(Lt/P;I)J";

    /** @return the calls of CoStack's push methods in the woven body of big, and its calls that may suspend */
    private static int[] saves(byte[] bytes) {
        ClassNode node = new ClassNode();
        new ClassReader(bytes).accept(node, ClassReader.SKIP_FRAMES);
        int pushes = 0;
        int calls = 0;
        for (MethodNode method : node.methods) {
            if (!method.name.equals("big") || !method.desc.startsWith("(Lt/P;ILio/aioco/internal/CoStack;I")) {
                continue;
            }
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                if (insn instanceof MethodInsnNode m && m.getOpcode() == Opcodes.INVOKEVIRTUAL
                        && m.owner.equals("io/aioco/internal/CoStack") && m.name.startsWith("push")) {
                    pushes++;
                }
            }
            for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
                String name = insn instanceof org.objectweb.asm.tree.InvokeDynamicInsnNode indy ? indy.name
                        : insn instanceof MethodInsnNode m && m.owner.equals("t/G") ? m.name : "";
                if (name.equals("f") || name.equals("boom")) {
                    calls++;
                }
            }
        }
        return new int[] {pushes, calls};
    }

    static Map<String, String> sources(Shape shape, int points) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.G", """
                package t;
                import io.aioco.*;
                public class G {
                    public static boolean yielding;
                    public static int passed;
                    public static long trace;
                    public static void t(long v) { trace = trace * 1_000_003L + v; }
                    @CoroutineFn public static int f(int x) { passed++; if (yielding) Coroutine.yield(); return x * 31 + 7; }
                    @CoroutineFn public static int boom(int x) {
                        passed++; if (yielding) Coroutine.yield();
                        throw new IllegalStateException("boom" + (x & 7));
                    }
                }
                """);
        sources.put("t.Box", """
                package t;
                public class Box {
                    final int a, b;
                    public Box(int a, int b) { this.a = a; this.b = b; }
                    public Box(long a, double b, int c) { this.a = (int) a ^ c; this.b = (int) b; }
                    public int sum() { return a * 7 + b; }
                }
                """);
        sources.put("t.P", program(shape, points));
        return sources;
    }

    private static String init(String type, int i) {
        return switch (type) {
            case "int" -> "" + i;
            case "long" -> i + "L";
            case "double" -> i + ".5";
            case "float" -> i + ".25f";
            case "String" -> "\"s" + i + "\"";
            case "Object" -> "Integer.valueOf(" + i + ")";
            case "int[]" -> "new int[] {" + i + "}";
            case "boolean" -> "" + (i % 2 == 0);
            case "char" -> "'a'";
            case "short" -> "(short) " + i;
            case "byte" -> "(byte) " + i;
            default -> throw new AssertionError(type);
        };
    }

    private static String touch(String type, String v) {
        return switch (type) {
            case "String" -> v + " = " + v + ".length() > 20 ? \"r\" : " + v + " + \"x\";";
            case "Object" -> v + " = String.valueOf(" + v + ").length();";
            case "int[]" -> v + "[0]++;";
            case "boolean" -> v + " = !" + v + ";";
            default -> v + "++;";
        };
    }

    private static String hash(String type, String v) {
        return switch (type) {
            case "String", "Object" -> v + ".hashCode()";
            case "int[]" -> v + "[0]";
            case "boolean" -> "(" + v + " ? 1 : 0)";
            case "double", "float" -> "(long) (" + v + " * 4)";
            default -> "(long) " + v;
        };
    }

    private static final String[] DEFINED = {"int", "long", "String", "double", "Object", "byte"};

    /** One statement of a pattern; each has at least one call that suspends. */
    private static String statement(char kind, int k, Map<String, String> defined, int locals) {
        String lv = locals > 1 ? "v1" : "7L"; // a long live local when there are two, else a constant
        return switch (kind) {
            // a two-slot local of a block, whose slots the next block (B) reuses
            case 'A' -> "{ long a" + k + " = s * 3L + " + k + "; double b" + k + " = s * 0.5; s = G.f(s); G.t(a" + k
                    + "); G.t((long) (b" + k + " * 2)); s += (int) a" + k + "; }";
            case 'B' -> "{ int a" + k + " = s ^ " + k + "; String b" + k + " = \"b\" + s; int c" + k
                    + " = s & 255; s = G.f(s); G.t(a" + k + "); G.t(b" + k + ".hashCode()); G.t(c" + k + "); s += c" + k
                    + "; }";
            // a type that differs between paths
            case 'C' -> "{ CharSequence c" + k + "; if ((s & 1) == 0) c" + k + " = \"e\" + s; else c" + k
                    + " = new StringBuilder(\"o\").append(s); s = G.f(s); G.t(c" + k + ".length()); G.t(c" + k
                    + ".toString().hashCode()); }";
            // the constant null in a local
            case 'D' -> "{ String n" + k + " = null; Object m" + k + " = null; int[] z" + k + " = null; s = G.f(s); G.t(n"
                    + k + " == null ? 1 : 2); G.t(m" + k + " == null ? 3 : 4); G.t(z" + k + " == null ? 5 : 6); }";
            // arrays
            case 'E' -> "{ int[] p" + k + " = {s, " + k + "}; long[] q" + k + " = {s * 5L}; String[][] r" + k
                    + " = {{\"x\" + s}}; s = G.f(s); G.t(p" + k + "[0] + p" + k + "[1]); G.t(q" + k + "[0]); G.t(r" + k
                    + "[0][0].hashCode()); }";
            // a catch handler's exception and local live across a call that suspends
            case 'F' -> "try { s = G.boom(s); } catch (IllegalStateException e" + k + ") { String m" + k + " = e" + k
                    + ".getMessage(); long w" + k + " = s * 9L; s = G.f(s); G.t(m" + k + ".hashCode()); G.t(w" + k
                    + "); G.t(e" + k + ".getMessage().length()); }";
            // long and double under the call
            case 'G' -> "s = (int) (" + lv + " * 3L + G.f(s)); G.t(s); { double d" + k + " = s * 0.25; s = (int) (d" + k
                    + " + G.f(s)); G.t(s); }";
            // uninitialized objects under the call
            case 'H' -> "s = new Box(s, G.f(s)).sum(); G.t(s); s = new Box(G.f(s), G.f(s + 1)).sum(); G.t(s);";
            case 'U' -> "s = new Box((long) s * 3L, s * 0.5, G.f(s)).sum(); G.t(s);";
            // constructor calls nested in one another's arguments
            case 'N' -> "s = new Box(new Box(s, G.f(s)).sum(), new Box((long) s, s * 0.5, G.f(s + 1)).sum()).sum(); G.t(s);";
            // an array type that differs between paths
            case 'J' -> "{ Object[] o" + k + " = (s & 2) == 0 ? new String[] {\"q\" + s} : new Integer[] {s}; s = G.f(s); G.t(o"
                    + k + ".length); G.t(o" + k + "[0].hashCode()); }";
            // a local defined on one path only (dead on the other), then a call
            case 'K' -> "{ int x" + k + " = s; if ((s & 4) == 0) { long y" + k + " = s * 11L; s = G.f(s); G.t(y" + k
                    + "); } else { String y" + k + " = \"y\" + s; s = G.f(s); G.t(y" + k + ".hashCode()); } G.t(x" + k
                    + "); }";
            // a string concatenation with a long and a double under the call
            case 'L' -> "{ double g" + k + " = s * 1.5; s += (\"p\" + " + lv + " + g" + k + " + G.f(s)).length(); G.t(s); }";
            case 'd' -> {
                String type = DEFINED[defined.size() % DEFINED.length];
                String name = "d" + k;
                defined.put(name, type);
                yield switch (type) {
                    case "int" -> "int " + name + " = G.f(s + " + k + ");";
                    case "long" -> "long " + name + " = G.f(s) + " + k + "L;";
                    case "String" -> "String " + name + " = \"d\" + G.f(s);";
                    case "Object" -> "Object " + name + " = (s & 1) == 0 ? (Object) Integer.valueOf(G.f(s)) : \"w\" + G.f(s);";
                    case "byte" -> "byte " + name + " = (byte) G.f(s);";
                    default -> "double " + name + " = G.f(s) * 0.5;";
                };
            }
            default -> throw new AssertionError(kind);
        };
    }

    static String program(Shape shape, int points) {
        List<String> statements = new ArrayList<>();
        Map<String, String> defined = new LinkedHashMap<>();
        for (int k = 0; k < points; k++) {
            char kind = shape.patterns().charAt(k % shape.patterns().length());
            String statement = statement(kind, k, defined, shape.locals());
            if (shape.locals() > 0) {
                int local = k % shape.locals();
                statement += " " + touch(TYPES[local % TYPES.length], "v" + local);
            }
            statements.add(statement);
        }
        StringBuilder code = new StringBuilder();
        int half = shape.finallyBlock() ? statements.size() / 2 : statements.size();
        if (shape.finallyBlock()) {
            code.append("        try {\n");
        }
        for (int i = 0; i < half; i++) {
            code.append("        ").append(statements.get(i)).append('\n');
        }
        if (shape.finallyBlock()) {
            code.append("        if (s == 12345) return 1;\n        } finally {\n");
            for (int i = half; i < statements.size(); i++) {
                String st = statements.get(i);
                code.append("        ").append(st.startsWith("int d") || st.startsWith("long d") || st.startsWith("String d")
                        || st.startsWith("double d") || st.startsWith("Object d") || st.startsWith("byte d")
                        ? "G.t(G.f(s));" : st).append('\n');
            }
            code.append("        }\n");
        }
        StringBuilder source = new StringBuilder("""
                package t;
                import io.aioco.*;
                public class P {
                    static long result;
                    public static Object plain() {
                        G.yielding = false;
                        G.passed = 0;
                        G.trace = 0;
                        long value = big(new P(), 7);
                        return new Object[] {value, G.passed, G.trace};
                    }
                    public static Object run() {
                        G.yielding = true;
                        G.passed = 0;
                        G.trace = 0;
                        Coroutine co = Coroutine.create(() -> result = big(new P(), 7));
                        int enters = 0;
                        while (!co.isTerminated()) {
                            co.enter();
                            if (++enters > 100_000) {
                                throw new AssertionError("still running after " + enters + " enters");
                            }
                        }
                        return new Object[] {result, G.passed, G.trace};
                    }
                    @CoroutineFn static long big(P self, int s) {
                """);
        for (int i = 0; i < shape.locals(); i++) {
            String type = TYPES[i % TYPES.length];
            source.append("        ").append(type).append(" v").append(i).append(" = ").append(init(type, i)).append(";\n");
        }
        source.append(code);
        source.append("        long h = s;\n");
        for (int i = 0; i < shape.locals(); i++) {
            source.append("        h = h * 31 + ").append(hash(TYPES[i % TYPES.length], "v" + i)).append(";\n");
        }
        if (!shape.finallyBlock()) {
            for (Map.Entry<String, String> local : defined.entrySet()) {
                source.append("        h = h * 31 + ").append(hash(local.getValue(), local.getKey())).append(";\n");
            }
        }
        source.append("        return h;\n    }\n}\n");
        return source.toString();
    }

    private static Object call(ClassLoader loader, String method) throws ReflectiveOperationException {
        try {
            return Class.forName("t.P", true, loader).getMethod(method).invoke(null);
        } catch (InvocationTargetException e) {
            throw new AssertionError(e.getCause());
        }
    }

    private static final class PlainLoader extends ClassLoader {
        private final Map<String, byte[]> classes;

        PlainLoader(Map<String, byte[]> classes) {
            super(PlainLoader.class.getClassLoader());
            this.classes = classes;
        }

        @Override
        protected synchronized Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            byte[] bytes = classes.get(name.replace('.', '/'));
            if (bytes == null) {
                return super.loadClass(name, resolve);
            }
            Class<?> loaded = findLoadedClass(name);
            if (loaded == null) {
                loaded = defineClass(name, bytes, 0, bytes.length);
            }
            return loaded;
        }
    }
}
