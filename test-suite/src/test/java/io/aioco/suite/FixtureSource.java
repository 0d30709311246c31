package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The lines of a fixture of the test sources (package {@code coverage.fixture}), found by their
 * markers ({@code // @line NAME}), and the lines of a test's own source that end with a marker
 * {@code // @NAME}, so that the tests that check line numbers (coverage, debugger, coroutine dump,
 * async stack traces) follow an edit of the source. Called by a test's own thread.
 */
final class FixtureSource {
    private FixtureSource() {}

    /** @return the test classes as javac wrote them (not woven) */
    static Path originalClasses() {
        return Path.of(System.getProperty("aioco.original.classes"));
    }

    /** @return the test classes as the plugin wove them */
    static Path wovenClasses() {
        return Path.of(System.getProperty("aioco.woven.classes"));
    }

    /**
     * @param file a file of {@code src/test/java/coverage/fixture}, e.g. {@code Account.java}
     * @return each marker's name and its line (1-based)
     */
    static Map<String, Integer> lines(String file) throws IOException {
        // target/test-classes -> the module's folder
        Path source = originalClasses().getParent().getParent()
                .resolve("src/test/java/coverage/fixture").resolve(file);
        List<String> text = Files.readAllLines(source);
        Map<String, Integer> lines = new HashMap<>();
        for (int i = 0; i < text.size(); i++) {
            int at = text.get(i).indexOf("// @line ");
            if (at >= 0) {
                String name = text.get(i).substring(at + "// @line ".length()).trim();
                if (lines.put(name, i + 1) != null) {
                    throw new AssertionError("marker " + name + " twice in " + source);
                }
            }
        }
        return lines;
    }

    /** @return the line of {@code marker} in {@code file} */
    static int line(String file, String marker) throws IOException {
        Integer line = lines(file).get(marker);
        if (line == null) {
            throw new AssertionError("no marker // @line " + marker + " in " + file);
        }
        return line;
    }

    /**
     * @param test a test class of this module, its source read from {@code src/test/java} (the
     *     tests run in the module's folder)
     * @return the one line (1-based) of {@code test}'s source that ends with {@code // @marker}
     */
    static int markedLine(Class<?> test, String marker) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("src/test/java", test.getName().replace('.', '/') + ".java"));
        int found = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith("// @" + marker)) {
                assertEquals(-1, found, "marker " + marker + " twice");
                found = i + 1;
            }
        }
        assertTrue(found > 0, "no marker " + marker);
        return found;
    }
}
