package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Class files from a recent javac (Java 21+: pattern switches, record patterns) run under the
 * agent on a recent JVM. Needs a JDK 21 or later: the one named by {@code -Daioco.jdk21.home}, or
 * Temurin 25 where this project's machines have it.
 */
class ModernClassFilesTest {
    private static final String SOURCE = """
            import io.aioco.*;
            import java.util.*;
            public class Modern {
                sealed interface Shape permits Circle, Rect {}
                record Circle(int r) implements Shape {}
                record Rect(int w, int h) implements Shape {}
                static final List<String> LOG = new ArrayList<>();
                @CoroutineFn static int area(Shape shape) {
                    return switch (shape) {
                        case Circle(int r) when r == 0 -> 0;
                        case Circle c -> { Coroutine.yield(); yield 3 * c.r() * c.r(); }
                        case Rect(int w, int h) -> { Coroutine.yield(); yield w * h; }
                    };
                }
                @CoroutineFn static void body() {
                    for (Object o : List.of(new Circle(2), new Rect(3, 4), new Circle(0), "text", 7)) {
                        String what = switch (o) {
                            case Shape s -> "area " + area(s);
                            case String s when s.length() > 2 -> { Coroutine.yield(); yield "string " + s; }
                            case Integer i -> "int " + i;
                            default -> "other";
                        };
                        LOG.add(what);
                    }
                }
                public static void main(String[] args) {
                    Coroutine co = Coroutine.create(Modern::body);
                    int enters = 0;
                    while (!co.isTerminated()) { co.enter(); enters++; }
                    System.out.println(String.join(",", LOG) + " enters=" + enters);
                }
            }
            """;

    private static Path modernJdk() {
        String configured = System.getProperty("aioco.jdk21.home");
        for (String candidate : new String[] {configured, "/usr/lib/jvm/temurin-25-jdk-amd64"}) {
            if (candidate != null && Files.isExecutable(Path.of(candidate, "bin", "javac"))) {
                return Path.of(candidate);
            }
        }
        return null;
    }

    @Test
    void patternSwitchesCompiledForJava21RunUnderTheAgent(@TempDir Path work) throws Exception {
        Path jdk = modernJdk();
        if (jdk == null) {
            // A missing tool fails the build rather than skipping: a green run must have run this.
            throw new AssertionError("no JDK 21+ found: install one (Temurin 25 is expected at"
                    + " /usr/lib/jvm/temurin-25-jdk-amd64) or point -Daioco.jdk21.home at one");
        }
        Path runtimeJar = ChildJvm.runtime();
        Files.writeString(work.resolve("Modern.java"), SOURCE);
        ChildJvm.run(List.of(jdk.resolve("bin/javac").toString(), "--release", "21", "-cp", runtimeJar.toString(),
                "-d", work.toString(), work.resolve("Modern.java").toString()));
        List<String> command = new ArrayList<>(List.of(jdk.resolve("bin/java").toString(),
                ChildJvm.agent("cache=" + work.resolve("agent-cache")),
                "-cp", runtimeJar + File.pathSeparator + work, "Modern"));
        assertEquals("area 12,area 12,area 0,string text,int 7 enters=4", ChildJvm.run(command).trim());
    }
}
