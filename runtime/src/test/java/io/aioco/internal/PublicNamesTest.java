package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The public classes and methods {@code io.aioco.internal} names as text ({@link PublicNames}, as
 * it imports nothing public) exist, so renaming one fails here instead of silently changing an
 * error message, the frames a refusal skips or a dump; and the package's sources name no other
 * public class as text.
 */
class PublicNamesTest {
    @Test
    void eachNameIsAClassOrMethodThatExists() throws Exception {
        ClassLoader loader = PublicNames.class.getClassLoader();
        for (String name : List.of(PublicNames.AIO_CONTEXT, PublicNames.CO_FRAME, PublicNames.SPAWN_ENTRY,
                PublicNames.COROUTINE, PublicNames.COROUTINE_FN)) {
            assertEquals(name, Class.forName(name, false, loader).getName());
        }
        String method = PublicNames.WITH_TIMEOUT;
        int dot = method.lastIndexOf('.');
        Class<?> owner = Class.forName(method.substring(0, dot), false, loader);
        String simple = method.substring(dot + 1);
        assertTrue(Arrays.stream(owner.getDeclaredMethods())
                        .anyMatch(m -> m.getName().equals(simple) && Modifier.isStatic(m.getModifiers())),
                method + " is no static method of " + owner);
    }

    /** Every constant of {@link PublicNames} is checked above (a new one must be added there). */
    @Test
    void everyConstantIsChecked() {
        List<String> fields = new ArrayList<>();
        for (java.lang.reflect.Field f : PublicNames.class.getDeclaredFields()) {
            fields.add(f.getName());
        }
        fields.sort(null);
        assertEquals(List.of("AIO_CONTEXT", "COROUTINE", "COROUTINE_FN", "CO_FRAME", "SPAWN_ENTRY", "WITH_TIMEOUT"), fields);
    }

    /** The package's other sources spell no public class's name: they use {@link PublicNames}. */
    @Test
    void noOtherSourceSpellsAPublicName() throws IOException {
        Pattern literal = Pattern.compile("\"io[./]aioco[./][A-Z][^\"]*\"");
        List<String> found = new ArrayList<>();
        Path sources = Path.of("src/main/java/io/aioco/internal");
        assertTrue(Files.isDirectory(sources), "run from the runtime module: " + sources.toAbsolutePath());
        try (Stream<Path> files = Files.walk(sources)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                if (file.getFileName().toString().equals("PublicNames.java")) {
                    continue;
                }
                List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++) {
                    Matcher m = literal.matcher(lines.get(i));
                    while (m.find()) {
                        found.add(file.getFileName() + ":" + (i + 1) + " " + m.group());
                    }
                }
            }
        }
        assertEquals(List.of(), found, "name them in PublicNames, which PublicNamesTest checks");
    }
}
