package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * INSTRUMENTATION.md's "What must be supported", on classes compiled by Maven and instrumented by
 * the agent at load time (or woven by the plugin), with exact results after many enters: the
 * shared corpus {@code test-fixtures/shapes}, compiled into these tests (the build adds it as a test
 * source folder) and run as the instrumenter's own test runs it in process. Below it, what a
 * coroutine does when the rules are broken at run time.
 */
class SupportedShapesTest {
    private final Drive drive = new Drive();

    @TestFactory
    Stream<DynamicTest> everyShapeOfTheCorpusRunsToItsExpectedResult() {
        Path folder = Path.of(System.getProperty("aioco.shapes", "../test-fixtures/shapes"), "shapes");
        List<String> names;
        try (Stream<Path> files = Files.list(folder)) {
            names = files.map(file -> file.getFileName().toString()).filter(file -> file.endsWith(".java"))
                    .map(file -> file.substring(0, file.length() - ".java".length()))
                    .filter(name -> !name.equals("Driver")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the shapes at " + folder.toAbsolutePath(), e);
        }
        assertTrue(names.size() >= 19, "the corpus at " + folder.toAbsolutePath() + " has " + names);
        return names.stream().map(name -> DynamicTest.dynamicTest(name, () -> {
            Class<?> shape = Class.forName("shapes." + name);
            shapes.Driver.reset();
            assertEquals(shape.getField("EXPECTED").get(null), shape.getMethod("run").invoke(null));
        }));
    }

    // ---- the rules broken at run time ----

    @CoroutineFn
    int failAfterYield(int code) throws java.io.IOException {
        Coroutine.yield();
        if (code > 0) {
            throw new java.io.IOException("code " + code);
        }
        return code;
    }

    @CoroutineFn
    static int fib(int n) {
        if (n < 2) {
            Coroutine.yield();
            return n;
        }
        return fib(n - 1) + fib(n - 2);
    }

    @Test
    void exceptionEscapingAfterResumeReachesEnter() {
        Coroutine co = Coroutine.create(() -> failAfterYield(3));
        co.enter();
        io.aioco.CoroutineException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.aioco.CoroutineException.class, co::enter);
        assertEquals("code 3", e.getCause().getMessage());
    }

    @Test
    void plainLambdaCallingANonSuspendingCoroutineFunctionWorks() {
        Supplier<Integer> plain = () -> fib(0) + 1; // fib(0) yields: must throw naming the lambda
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> drive.run(() -> drive.log(plain.get())));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("SupportedShapesTest.lambda$"),
                e.getMessage());
        List<Integer> collected = new ArrayList<>();
        drive.run(() -> collected.add(((Supplier<Integer>) () -> shapes.MethodKinds.Op.values().length).get()));
        assertEquals(List.of(1), collected);
    }
}
