package io.aioco.agent;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AgentOptionsTest {
    @Test
    void everythingIsAcceptedByDefault() {
        AgentOptions options = AgentOptions.parse(null);
        assertFalse(options.verbose());
        assertTrue(options.accepts("any/Class"));
    }
}
