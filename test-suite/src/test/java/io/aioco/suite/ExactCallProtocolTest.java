package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.File;
import java.lang.invoke.MethodHandles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A frame that was not rewritten, between an instrumented caller and a coroutine function of the
 * same name and descriptor, is never taken for the caller: the callee throws the documented error
 * naming that frame when it suspends, before the frame runs on (it used to get a dummy result,
 * and run again with dummy arguments on resume). Under the agent and woven by the plugin; the
 * agent's {@code exclude=} in a JVM of its own.
 */
class ExactCallProtocolTest {
    /** A service whose implementation suspends. */
    public interface Svc {
        @CoroutineFn
        int get(int k);
    }

    static final List<String> TRACE = new java.util.ArrayList<>();

    /** Logs for the hidden class (public: it is a nestmate of nothing). */
    public static void log(String event) {
        TRACE.add(event);
    }

    public static class Impl implements Svc {
        @Override
        public int get(int k) {
            log("impl k=" + k);
            Coroutine.yield();
            return 42;
        }
    }

    /** Plain: implements nothing annotated. */
    public static class Base {
        final Svc delegate;

        Base(Svc delegate) {
            this.delegate = delegate;
        }

        public int get(int k) {
            log("charging k=" + k);
            int r = delegate.get(k);
            log("got r=" + r);
            return r;
        }
    }

    /** Inherits the plain Base.get as its Svc.get. */
    public static class Sub extends Base implements Svc {
        Sub(Svc delegate) {
            super(delegate);
        }
    }

    @CoroutineFn
    static void body(Svc svc) {
        log("main r=" + svc.get(2));
    }

    @Test
    void plainSuperclassMethodImplementingTheInterfaceMethodIsNotTakenForTheCaller() {
        TRACE.clear();
        Svc svc = new Sub(new Impl());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Drive().run(() -> body(svc)));
        assertTrue(e.getMessage().startsWith("cannot suspend coroutine: io.aioco.suite.ExactCallProtocolTest$Impl"
                + ".get(I)I was called from io.aioco.suite.ExactCallProtocolTest$Base.get(ExactCallProtocolTest.java:"),
                e.getMessage());
        assertEquals(List.of("charging k=2", "impl k=2"), TRACE);
    }

    @Test
    void hiddenClassDecoratorIsNotTakenForTheCaller(@TempDir Path work) throws Exception {
        TRACE.clear();
        Path source = work.resolve("io/aioco/suite/HiddenDeco.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, """
                package io.aioco.suite;
                public class HiddenDeco implements ExactCallProtocolTest.Svc {
                    public static ExactCallProtocolTest.Svc inner;
                    public int get(int k) {
                        ExactCallProtocolTest.log("charging k=" + k);
                        int r = inner.get(k);
                        ExactCallProtocolTest.log("got r=" + r);
                        return r;
                    }
                }
                """);
        compile(work, source);
        byte[] bytes = Files.readAllBytes(work.resolve("io/aioco/suite/HiddenDeco.class"));
        Class<?> hidden = MethodHandles.lookup().defineHiddenClass(bytes, true).lookupClass();
        hidden.getField("inner").set(null, new Impl());
        Svc svc = (Svc) hidden.getConstructor().newInstance();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> new Drive().run(() -> body(svc)));
        assertTrue(e.getMessage().startsWith("cannot suspend coroutine: io.aioco.suite.ExactCallProtocolTest$Impl"
                + ".get(I)I was called from io.aioco.suite.HiddenDeco/0x"), e.getMessage());
        assertTrue(e.getMessage().contains(".get(HiddenDeco.java:6)"), e.getMessage());
        assertEquals(List.of("charging k=2", "impl k=2"), TRACE);
    }

    /** A program run under the agent with its decorator excluded: the error, and the plain frame stopped. */
    private static final String EXCLUDED = """
            import io.aioco.*;
            public class Excluded {
                public interface Svc { @CoroutineFn int get(int k); }
                static class Impl implements Svc {
                    public int get(int k) { System.out.println("impl k=" + k); Coroutine.yield(); return 42; }
                }
                static class Deco implements Svc {
                    final Svc inner;
                    Deco(Svc inner) { this.inner = inner; }
                    public int get(int k) {
                        System.out.println("charging k=" + k);
                        int r = inner.get(k);
                        System.out.println("got r=" + r);
                        return r;
                    }
                }
                @CoroutineFn static void body(Svc svc) { System.out.println("main r=" + svc.get(2)); }
                public static void main(String[] args) {
                    Svc svc = new Deco(new Impl());
                    Coroutine co = Coroutine.create(() -> body(svc));
                    try {
                        while (!co.isTerminated()) co.enter();
                    } catch (IllegalStateException e) {
                        System.out.println(e.getMessage());
                    }
                }
            }
            """;

    @Test
    void decoratorExcludedFromTheAgentIsNotTakenForTheCaller(@TempDir Path work) throws Exception {
        Path source = work.resolve("Excluded.java");
        Files.writeString(source, EXCLUDED);
        compile(work, source);
        String output = ChildJvm.run(ChildJvm.command(
                ChildJvm.agent("cache=off,exclude=Excluded$Deco"),
                "-cp", ChildJvm.runtime() + File.pathSeparator + work, "Excluded")).trim();
        List<String> lines = output.lines().filter(line -> !line.startsWith("WARNING")).toList();
        assertEquals(3, lines.size(), output);
        assertEquals("charging k=2", lines.get(0), output);
        assertEquals("impl k=2", lines.get(1), output);
        assertTrue(lines.get(2).startsWith("cannot suspend coroutine: Excluded$Impl.get(I)I was called from"
                + " Excluded$Deco.get(Excluded.java:12)"), output);
    }

    private static void compile(Path out, Path source) {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, "-d", out.toString(), "-cp", System.getProperty("java.class.path"),
                source.toString());
        assertEquals(0, status, "javac failed on " + source);
    }
}
