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
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Issue 18, item 5: no coroutine function of under 8 KiB of bytecode is refused as too large once
 * instrumented, whatever its suspension points. Each case generates one coroutine function of just
 * under 8 KiB (javac's code, {@value #LIMIT} bytes at most) with many suspension points (static
 * calls to another class's coroutine function, virtual calls (through their inline caches), calls of a private
 * function of the same class, {@code Coroutine.yield()}), many live locals of every kind, operand
 * stacks several values deep under the calls, and nested {@code try}/{@code finally} blocks that
 * javac copies onto every exit. The function must be instrumented without a diagnostic, run inside
 * a coroutine that suspends at every point it passes, and give the plain program's result: the same
 * value and the same number of calls, one suspension each.
 */
class CodeGrowthTest {
    /** The largest original method the cases build: just under 8 KiB. */
    static final int LIMIT = 8 * 1024 - 1;

    private static final String[] TYPES = {"int", "long", "double", "String", "float", "Object", "int[]", "boolean",
        "char", "short", "byte"};

    /**
     * What one generated function looks like.
     *
     * @param locals live locals, of the types above in turn
     * @param nesting try/finally blocks nested in one another, each with suspension points in its
     *     try and in its finally (which javac copies onto the normal, return and exception exits)
     * @param stackDepth values of mixed kinds on the operand stack under each call
     * @param calls the kinds of suspension point, in turn: {@code s} static call to another class,
     *     {@code g} static call without arguments or result, {@code v} virtual call, {@code p} private
     *     static call, {@code y} {@code Coroutine.yield()}, {@code r} a static call in a block whose
     *     local is a String or an Integer in turn (one slot, two types), {@code d} a static call whose result
     *     defines one more local (of four types in turn), live to the end (no two points have the same
     *     locals: the Scala tuple builders), {@code a} a static call of eight such calls' results (the
     *     operand stack under each one holds the results of those before it); calls that cannot suspend (which a
     *     compact caller must reach without their wrapper): {@code n} static of another class,
     *     {@code q} private static
     */
    record Shape(String name, int locals, int nesting, int stackDepth, String calls) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Arguments> shapes() {
        return Stream.of(
                new Shape("static calls only, nothing live", 0, 0, 0, "s"),
                new Shape("void calls without arguments, one in three (3 bytes each)", 0, 0, 0, "ggy"),
                new Shape("yields only, 12 live locals", 12, 0, 0, "y"),
                new Shape("mixed calls, 20 live locals, finally nested 2 deep, one slot a String or an Integer", 20, 2, 0,
                        "svpyr"),
                new Shape("static calls, 40 live locals, finally nested 3 deep", 40, 3, 0, "s"),
                new Shape("mixed calls, 30 live locals, stacks 6 deep", 30, 0, 6, "spvs"),
                new Shape("virtual calls, 8 live locals, finally nested 1 deep", 8, 1, 2, "v"),
                new Shape("mixed calls, 60 live locals, finally nested 3 deep", 60, 3, 0, "spsy"),
                new Shape("mixed calls, 30 live locals, finally nested 3 deep, stacks 2 deep", 30, 3, 2, "spsy"),
                new Shape("mixed calls, 60 live locals, finally nested 3 deep, stacks 3 deep", 60, 3, 3, "spvy"),
                new Shape("calls that suspend and calls that cannot, 10 live locals", 10, 1, 1, "snsq"),
                new Shape("every call defines one more live local", 0, 0, 0, "d"),
                new Shape("every other call defines one more live local, 12 live locals, virtual calls and yields", 12,
                        0, 0, "ddvy"))
                .map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void aFunctionUnder8KiBIsInstrumentedAndRunsLikeThePlainProgramSuspendingAtEveryPoint(Shape shape) throws Exception {
        Map<String, byte[]> classes = null;
        int points = 40;
        int size = 0;
        // grow the number of points until the function is just under the limit
        for (int attempt = 0; attempt < 8; attempt++) {
            Map<String, byte[]> compiled = TestCompiler.compile(sources(shape, points));
            int compiledSize = codeLengths(compiled.get("t/P")).get(BIG);
            if (compiledSize > LIMIT) {
                points = Math.max(1, (int) (points * 0.97 * LIMIT / compiledSize));
                continue;
            }
            if (classes == null || compiledSize > size) {
                classes = compiled;
                size = compiledSize;
            }
            if (compiledSize > LIMIT * 0.95) {
                break;
            }
            points = (int) (points * 0.99 * LIMIT / compiledSize);
        }
        assertTrue(size > LIMIT * 0.9 && size <= LIMIT, shape + ": the generated function has " + size + " bytes");

        InstrumentingLoader woven = new InstrumentingLoader(classes);
        InstrumentationResult result = woven.result("t.P");
        assertEquals(List.of(), result.diagnostics(), shape + " (" + size + " bytes): refused");
        assertEquals(InstrumentationResult.Outcome.REWRITTEN, result.outcome());

        Object[] plain = (Object[]) call(new PlainLoader(classes), "plain");
        Object[] instrumented = (Object[]) woven.callStatic("t.P", "run");
        int suspensions = (Integer) plain[1];
        assertTrue(suspensions >= points / 2, shape + ": " + suspensions + " suspension points passed");
        assertEquals(plain[0], instrumented[0], shape + ": the result");
        assertEquals(suspensions, instrumented[1], shape + ": points passed");
        assertEquals(suspensions + 1, instrumented[2], shape + ": one enter per suspension, and the first");
    }

    private static final String BIG = "big(Lt/P;I)J";

    static Map<String, String> sources(Shape shape, int points) {
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put("t.G", """
                package t;
                import io.aioco.*;
                public class G {
                    public static boolean yielding;
                    public static int passed;
                    @CoroutineFn public static int f(int x) { passed++; if (yielding) Coroutine.yield(); return x * 31 + 7; }
                    @CoroutineFn public static void g() { passed++; if (yielding) Coroutine.yield(); }
                    @CoroutineFn public static int h8(int a, int b, int c, int d, int e, int f, int g, int h) {
                        passed++; if (yielding) Coroutine.yield(); return a * 3 + b * 5 + c * 7 + d * 11 + e * 13 + f * 17 + g * 19 + h;
                    }
                    /** Cannot suspend: it has a fresh body only, which a compact caller reaches directly too. */
                    @CoroutineFn public static int n(int x) { P.calledFrom("big"); return x + 11; }
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

    /** A statement that reads and writes a local (so it stays live to the end). */
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
            default -> "(long) " + v;
        };
    }

    /** A value of the local's kind for the operand stack under a call. */
    private static String operand(String type, String v) {
        return switch (type) {
            case "String", "Object" -> v + ".hashCode()";
            case "int[]" -> v + "[0]";
            case "boolean" -> "(" + v + " ? 3 : 5)";
            default -> v;
        };
    }

    /** The types of the locals that calls define, in turn. */
    private static final String[] DEFINED = {"int", "long", "String", "double"};

    static String program(Shape shape, int points) {
        List<String> statements = new ArrayList<>();
        Map<String, String> defined = new LinkedHashMap<>();
        for (int k = 0; k < points; k++) {
            char kind = shape.calls().charAt(k % shape.calls().length());
            String call = switch (kind) {
                case 's' -> "G.f(s)";
                case 'g' -> "G.g()";
                case 'n' -> "G.n(s)";
                case 'q' -> "q(s)";
                case 'v' -> "self.v(s)";
                case 'p' -> "h(s)";
                case 'y', 'r', 'd', 'a' -> null;
                default -> throw new AssertionError(kind);
            };
            String statement;
            if (kind == 'd') {
                String type = DEFINED[defined.size() % DEFINED.length];
                String name = "d" + k;
                defined.put(name, type);
                statement = switch (type) {
                    case "int" -> "int " + name + " = G.f(s + " + k + ");";
                    case "long" -> "long " + name + " = G.f(s) + " + k + "L;";
                    case "String" -> "String " + name + " = \"d\" + G.f(s);";
                    default -> "double " + name + " = G.f(s) * 0.5;";
                };
            } else if (kind == 'a') {
                StringBuilder arguments = new StringBuilder();
                for (int a = 0; a < 8; a++) {
                    arguments.append(a == 0 ? "" : ", ").append("G.f(s + ").append(a).append(")");
                }
                statement = "s = G.h8(" + arguments + ");";
            } else if (kind == 'r') {
                // a block's local in a slot that the next such block reuses with another type
                statement = k % 2 == 0 ? "{ String r = \"r\" + s; s = G.f(s); s += r.length(); }"
                        : "{ Integer r = s; s = G.f(s); s += r.intValue(); }";
            } else if (kind == 'g') {
                statement = call + ";";
            } else if (call == null) {
                statement = "if (G.yielding) Coroutine.yield(); G.passed++;";
            } else if (shape.stackDepth() == 0 || shape.locals() == 0) {
                statement = "s = " + call + ";";
            } else {
                String expression = call;
                for (int d = 0; d < shape.stackDepth(); d++) {
                    int local = (k + d) % shape.locals();
                    expression = operand(TYPES[local % TYPES.length], "v" + local) + " + (" + expression + ")";
                }
                statement = "s = (int) (" + expression + ");";
            }
            if (shape.locals() > 0) {
                int local = k % shape.locals();
                statement += " " + touch(TYPES[local % TYPES.length], "v" + local);
            }
            statements.add(statement);
        }
        int blocks = 1 + 2 * shape.nesting();
        List<String> parts = new ArrayList<>();
        int next = 0;
        for (int block = 0; block < blocks; block++) {
            StringBuilder part = new StringBuilder();
            int count = points / blocks + (block < points % blocks ? 1 : 0);
            for (int k = 0; k < count; k++) {
                part.append("        ").append(statements.get(next++)).append('\n');
            }
            parts.add(part.toString());
        }
        String code = parts.get(0);
        for (int d = 0; d < shape.nesting(); d++) {
            code = parts.get(1 + 2 * d) + "        try {\n" + code + "        if (s == 12345) return 1;\n"
                    + "        } finally {\n" + parts.get(2 + 2 * d) + "        }\n";
        }
        StringBuilder source = new StringBuilder("""
                package t;
                import io.aioco.*;
                public class P {
                    static long result;
                    /** Its fresh calls reach its woven code through the call site's inline cache, in either encoding. */
                    @CoroutineFn public int v(int x) { notThroughItsWrapper("v"); G.passed++; if (G.yielding) Coroutine.yield(); return x * 3 + 1; }
                    @CoroutineFn private static int h(int x) { G.passed++; if (G.yielding) Coroutine.yield(); return x ^ 0x5bd1e995; }
                    @CoroutineFn private static int q(int x) { calledFrom("big"); return x - 3; }
                    /** Throws unless the caller's caller is the method named (not a wrapper of the caller). */
                    static void calledFrom(String name) {
                        StackTraceElement[] frames = new Throwable().getStackTrace();
                        if (!frames[2].getMethodName().equals(name)) {
                            throw new AssertionError("called from " + frames[2] + ", not " + name);
                        }
                    }
                    /** Throws if the caller's caller is the method named: its wrapper (a call not through the inline cache). */
                    static void notThroughItsWrapper(String name) {
                        StackTraceElement[] frames = new Throwable().getStackTrace();
                        if (frames[2].getMethodName().equals(name)) {
                            throw new AssertionError("called through its wrapper from " + frames[3]);
                        }
                    }
                    /** The plain run: no coroutine, nothing suspends. */
                    public static Object plain() {
                        G.yielding = false;
                        G.passed = 0;
                        long value = big(new P(), 7);
                        return new Object[] {value, G.passed};
                    }
                    /** The instrumented run: every point suspends; counts the enters. */
                    public static Object run() {
                        G.yielding = true;
                        G.passed = 0;
                        Coroutine co = Coroutine.create(() -> result = big(new P(), 7));
                        int enters = 0;
                        while (!co.isTerminated()) {
                            co.enter();
                            if (++enters > 100_000) {
                                throw new AssertionError("still running after " + enters + " enters");
                            }
                        }
                        return new Object[] {result, G.passed, enters};
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
        for (Map.Entry<String, String> local : defined.entrySet()) {
            String value = local.getValue().equals("double") ? "(long) " + local.getKey() : hash(local.getValue(), local.getKey());
            source.append("        h = h * 31 + ").append(value).append(";\n");
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

    /**
     * @return each method's code length (name and descriptor to bytes), as the JVM counts it
     *     against its 64 KiB limit
     */
    static Map<String, Integer> codeLengths(byte[] classFile) {
        ClassNode node = new ClassNode();
        new ClassReader(classFile).accept(node, ClassReader.SKIP_FRAMES);
        Map<String, Integer> lengths = new LinkedHashMap<>();
        for (MethodNode method : node.methods) {
            if (method.instructions.size() == 0) {
                continue;
            }
            ClassWriter writer = new ClassWriter(0);
            writer.visit(Opcodes.V17, Opcodes.ACC_PUBLIC, "X", null, "java/lang/Object", null);
            method.accept(writer);
            lengths.put(method.name + method.desc, codeLength(writer.toByteArray()));
        }
        return lengths;
    }

    /** The code length of the only method of a class file with no fields. */
    private static int codeLength(byte[] bytes) {
        java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
        int count = buffer.getShort(8) & 0xFFFF;
        int offset = 10;
        String[] utf8 = new String[count];
        for (int index = 1; index < count; index++) {
            int tag = bytes[offset] & 0xFF;
            int length = switch (tag) {
                case 1 -> 3 + (buffer.getShort(offset + 1) & 0xFFFF);
                case 5, 6 -> 9;
                case 7, 8, 16, 19, 20 -> 3;
                case 15 -> 4;
                default -> 5;
            };
            if (tag == 1) {
                utf8[index] = new String(bytes, offset + 3, length - 3, java.nio.charset.StandardCharsets.UTF_8);
            }
            offset += length;
            if (tag == 5 || tag == 6) {
                index++;
            }
        }
        offset += 6; // access, this, super
        offset += 2 + 2 * (buffer.getShort(offset) & 0xFFFF); // interfaces
        offset += 2; // no fields
        offset += 2 + 6; // one method: its count, access, name, descriptor
        int attributes = buffer.getShort(offset) & 0xFFFF;
        offset += 2;
        for (int a = 0; a < attributes; a++) {
            if ("Code".equals(utf8[buffer.getShort(offset) & 0xFFFF])) {
                return buffer.getInt(offset + 6 + 4);
            }
            offset += 6 + buffer.getInt(offset + 2);
        }
        throw new IllegalArgumentException("no Code attribute");
    }

    /** Defines the classes as compiled. */
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
