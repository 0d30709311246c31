package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.agentfixture.Fixture;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CoroutineTransformerTest {
    private final ClassLoader loader = getClass().getClassLoader();

    private static byte[] bytesOf(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            return in.readAllBytes();
        }
    }

    @Test
    void rewritesClassWithCoroutineFunctionsAndDumpsIt(@TempDir Path dump) throws IOException {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse("dump=" + dump));
        byte[] original = bytesOf(Fixture.class);
        byte[] rewritten = transformer.transform(loader, "io/aioco/agentfixture/Fixture", null, null, original);
        assertNotNull(rewritten);
        assertTrue(rewritten.length > original.length);
        assertArrayEquals(rewritten, Files.readAllBytes(dump.resolve("io/aioco/agentfixture/Fixture.class")));
    }

    @Test
    void aRedefinitionOfAWovenClassIsWovenAsItsFirstLoadWas() throws IOException {
        // NOTE: a debugger's hot swap (redefineClasses) hands the transformer the new, unwoven bytes
        // with the class already loaded: left as they are, they lack the woven class's methods and
        // the JVM refuses them ("attempted to delete a method")
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        byte[] original = bytesOf(Fixture.class);
        byte[] atLoad = transformer.transform(loader, "io/aioco/agentfixture/Fixture", null, null, original);
        byte[] atRedefinition = transformer.transform(loader, "io/aioco/agentfixture/Fixture", Fixture.class, null,
                original);
        assertNotNull(atRedefinition);
        assertArrayEquals(atLoad, atRedefinition);
    }

    @Test
    void leavesClassesWithoutCoroutinesAlone() throws IOException {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        assertNull(transformer.transform(loader, "io/aioco/agent/AgentOptionsTest", null, null,
                bytesOf(AgentOptionsTest.class)));
    }

    @Test
    void excludedAndBootstrapClassesAreNotTouched() throws IOException {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse("exclude=io.aioco.agentfixture.Fix"));
        byte[] original = bytesOf(Fixture.class);
        assertNull(transformer.transform(loader, "io/aioco/agentfixture/Fixture", null, null, original));
        assertNull(new CoroutineTransformer(AgentOptions.parse("")).transform(null, "io/aioco/agentfixture/Fixture", null,
                null, original));
    }

    @Test
    void malformedClassFilesComeBackUnchangedWithoutThrowing() throws IOException {
        CoroutineTransformer transformer = new CoroutineTransformer(AgentOptions.parse(""));
        byte[] original = bytesOf(Fixture.class);
        Random random = new Random(42);
        for (int i = 0; i < 300; i++) {
            byte[] broken = i % 3 == 0 ? Arrays.copyOf(original, random.nextInt(original.length)) : original.clone();
            if (i % 3 != 0) {
                for (int flips = 0; flips < 1 + random.nextInt(8); flips++) {
                    broken[random.nextInt(broken.length)] = (byte) random.nextInt(256);
                }
            }
            byte[] result = transformer.transform(loader, "io/aioco/agentfixture/Fixture", null, null, broken);
            // either unchanged, or bytes that the instrumenter produced from what it could read
            assertTrue(result == null || result.length > 0);
        }
    }

    @Test
    void optionsAreParsedAndBadOnesNamed() {
        AgentOptions options = AgentOptions.parse("verbose,dump=/tmp/x,include=com.a:com.b,include=org.c,exclude=com.a.gen");
        assertTrue(options.verbose());
        assertEquals(Path.of("/tmp/x"), options.dumpDirectory());
        assertEquals(List.of("com/a", "com/b", "org/c"), options.includes());
        assertTrue(options.accepts("com/a/Foo"));
        assertTrue(!options.accepts("com/a/gen/Foo"));
        assertTrue(!options.accepts("net/Foo"));
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("verbos"));
        assertTrue(bad.getMessage().contains("unknown aioco agent option 'verbos'"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("dump="));
    }
}
