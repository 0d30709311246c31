package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A runtime image without java.management (a jlink'ed application, {@code --limit-modules}) runs
 * aioco's contexts: the coroutine MBean is left out, nothing fails, with or without {@code
 * -Daioco.jmx=false} (review rv17c: the first context's creation threw NoClassDefFoundError and
 * left the open-context count one too high).
 */
class WithoutJavaManagementTest {
    private static final String MAIN = """
            package app;
            public class Main {
                public static void main(String[] args) throws Exception {
                    for (int i = 0; i < 3; i++) {
                        try {
                            io.aioco.AioContext ctx = io.aioco.AioContext.create();
                            ctx.poll(false);
                            ctx.close();
                            System.out.println("create " + i + ": ok");
                        } catch (Throwable t) {
                            System.out.println("create " + i + ": " + t);
                        }
                    }
                }
            }
            """;

    @TempDir
    Path work;

    @ParameterizedTest
    @ValueSource(strings = {"-Daioco.jmx=true", "-Daioco.jmx=false"})
    void contextsWorkWithoutJavaManagement(String jmx) throws Exception {
        Path runtime = ChildJvm.runtime();
        Path app = ChildJvm.compile(work, "app", new String[][] {{"app/Main.java", MAIN}}, runtime.toString());
        String output = ChildJvm.run(ChildJvm.command("--limit-modules", "java.base,java.logging", jmx,
                "-cp", app + File.pathSeparator + runtime, "app.Main"));
        assertTrue(output.contains("create 0: ok\ncreate 1: ok\ncreate 2: ok\n"), output);
    }
}
