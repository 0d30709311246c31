package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Which command lines make aioco's transformer retransformation-capable ({@link AgentOrder#agentAfter}). */
class AgentOrderTest {
    private static boolean after(String... arguments) {
        return AgentOrder.agentAfter(List.of(arguments), path -> path.endsWith("aioco-agent.jar"));
    }

    @Test
    void onlyAnAgentListedAfterAiocosCounts() {
        assertFalse(after("-Xmx1g", "-javaagent:lib/aioco-agent.jar=cache=off"));
        assertFalse(after("-javaagent:jacoco.jar=destfile=x", "-javaagent:lib/aioco-agent.jar"));
        assertTrue(after("-javaagent:lib/aioco-agent.jar=probes", "-javaagent:jacoco.jar=destfile=x"));
        assertTrue(after("-javaagent:lib/aioco-agent.jar", "-agentpath:/opt/profiler.so=start"));
        assertTrue(after("-javaagent:lib/aioco-agent.jar", "-agentlib:hprof"));
        assertTrue(after("-javaagent:lib/aioco-agent.jar", "-Xrunhprof:cpu=samples"));
    }

    @Test
    void aDebuggerAfterAiocoDoesNotCount() {
        assertFalse(after("-javaagent:aioco-agent.jar", "-agentlib:jdwp=transport=dt_socket,server=y"));
        assertFalse(after("-javaagent:aioco-agent.jar", "-Xrunjdwp:transport=dt_socket"));
        assertFalse(after("-javaagent:aioco-agent.jar", "-Xdebug", "-Dx=-javaagent"));
    }

    @Test
    void aiocoListedTwiceCountsFromItsLastEntryAndUnknownAiocoMeansNotCapable() {
        assertFalse(after("-javaagent:aioco-agent.jar", "-javaagent:other.jar", "-javaagent:aioco-agent.jar"));
        assertFalse(after("-javaagent:other.jar", "-javaagent:another.jar"));
    }
}
