package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The suite runs twice (test-suite/pom.xml): under the agent on the classes as javac wrote them, and
 * without the agent on a copy woven by aioco-maven-plugin. This checks that each run is what it
 * claims to be, so that a green second run means "woven at build time" and nothing else.
 */
class WeavingModeTest {
    private static final String MARKER = "Lio/aioco/internal/Instrumented;";

    @Test
    void eachRunIsUnderTheAgentOrOnWovenClassesNeverBoth() throws IOException {
        String mode = System.getProperty("aioco.mode");
        boolean agent = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .anyMatch(argument -> argument.startsWith("-javaagent:") && argument.contains("aioco-agent"));
        boolean wovenOnDisk = classFileOf(SupportedShapesTest.class).contains(MARKER);
        switch (String.valueOf(mode)) {
            case "agent" -> {
                assertTrue(agent, "the agent run has no -javaagent");
                assertTrue(!wovenOnDisk, "the agent run sees woven class files");
            }
            case "woven" -> {
                assertTrue(!agent, "the woven run has an agent");
                assertTrue(wovenOnDisk, "the woven run sees class files the plugin did not weave");
            }
            default -> throw new AssertionError("aioco.mode is " + mode + " (expected: agent or woven)");
        }
        assertEquals(mode.equals("woven"), wovenOnDisk);
    }

    private static String classFileOf(Class<?> type) throws IOException {
        try (InputStream in = type.getResourceAsStream(type.getSimpleName() + ".class")) {
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }
}
