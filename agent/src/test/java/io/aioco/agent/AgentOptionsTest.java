package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class AgentOptionsTest {
    @Test
    void everythingIsAcceptedByDefault() {
        AgentOptions options = AgentOptions.parse(null);
        assertFalse(options.verbose());
        assertTrue(options.accepts("any/Class"));
    }

    @Test
    void probesAreOffByDefaultAndTurnedOnByTheirOption() {
        assertFalse(AgentOptions.parse(null).probes());
        assertTrue(AgentOptions.parse("probes").probes());
        assertTrue(AgentOptions.parse("cache=off,probes").probes());
        assertFalse(AgentOptions.parse("probes=false").probes());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("probe"));
        assertTrue(unknown.getMessage().contains("probes"), unknown.getMessage());
    }

    @Test
    void theStartupCacheIsOnByDefaultAndCanBeMovedOrTurnedOff() {
        assertEquals(AgentOptions.defaultCacheDirectory(System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home")),
                AgentOptions.parse("").cacheDirectory());
        assertEquals(Path.of("/some/where"), AgentOptions.parse("verbose,cache=/some/where").cacheDirectory());
        assertNull(AgentOptions.parse("cache=off").cacheDirectory());
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("cache="));
        assertTrue(empty.getMessage().contains("'cache' needs a value"), empty.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> AgentOptions.parse("cach=x"));
        assertTrue(unknown.getMessage().contains("cache=DIR|off"), unknown.getMessage());
    }

    @Test
    void theDefaultCacheFolderFollowsXdgThenTheHomeFolder() {
        assertEquals(Path.of("/xdg/aioco/agent"), AgentOptions.defaultCacheDirectory("/xdg", "/home/u"));
        assertEquals(Path.of("/home/u/.cache/aioco/agent"), AgentOptions.defaultCacheDirectory(null, "/home/u"));
        assertEquals(Path.of("/home/u/.cache/aioco/agent"), AgentOptions.defaultCacheDirectory("", "/home/u"));
        assertNull(AgentOptions.defaultCacheDirectory(null, null));
    }
}
