package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every item of INSTRUMENTATION.md's "What must be supported", with exact results after many
 * enters: the shared corpus {@code test-fixtures/shapes} (its README says how to add a shape),
 * each shape compiled in process (with the javac options its first line names), instrumented by
 * {@link InstrumentingLoader} (which also verifies the result) and run. The test suite runs the same
 * corpus under the agent and woven by the plugin.
 */
class SupportedShapesTest {
    /** The system property naming the corpus folder (set by the build; the default suits a run from this module). */
    static final String SHAPES = "aioco.shapes";
    private static final String OPTIONS_LINE = "// javac:";

    /** @return the corpus's shape files, by name; never empty */
    static List<Path> shapes() {
        Path folder = Path.of(System.getProperty(SHAPES, "../test-fixtures/shapes"), "shapes");
        try (Stream<Path> files = Files.list(folder)) {
            List<Path> shapes = files.filter(file -> file.toString().endsWith(".java"))
                    .filter(file -> !file.getFileName().toString().equals("Driver.java"))
                    .sorted().toList();
            assertTrue(shapes.size() >= 19, "the corpus at " + folder.toAbsolutePath() + " has " + shapes);
            return shapes;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the shapes at " + folder.toAbsolutePath()
                    + " (set -D" + SHAPES + "=DIR)", e);
        }
    }

    @TestFactory
    Stream<DynamicTest> everyShapeOfTheCorpusRunsToItsExpectedResult() {
        return shapes().stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            String name = "shapes." + file.getFileName().toString().replace(".java", "");
            String source = Files.readString(file);
            Map<String, String> sources = new LinkedHashMap<>();
            sources.put("shapes.Driver", Files.readString(file.resolveSibling("Driver.java")));
            sources.put(name, source);
            InstrumentingLoader loader = InstrumentingLoader.of(sources, options(source));
            loader.callStatic("shapes.Driver", "reset");
            Object expected = loader.load(name).getField("EXPECTED").get(null);
            assertEquals(expected, loader.callStatic(name, "run"));
        }));
    }

    /** @return the javac options the shape's first line names ({@code // javac: --release 8}), or none */
    private static String[] options(String source) {
        String first = source.lines().findFirst().orElse("");
        return first.startsWith(OPTIONS_LINE) ? first.substring(OPTIONS_LINE.length()).trim().split("\\s+") : new String[0];
    }
}
