package io.aioco;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * The loop's thread-confinement rules are stated as {@code assert}s (issue 15, item 5), and the
 * tests run with {@code -ea}, so that a test that breaks a rule fails at the line that states it
 * rather than somewhere later.
 */
class ThreadConfinementAssertTest {
    @Test
    void theRuntimesTestsRunWithAssertions() {
        assertTrue(AioContext.class.desiredAssertionStatus(), "the runtime's tests must run with -ea");
    }

    /** Releasing a loop claim the calling thread does not hold (IOThread's path) trips the rule. */
    @Test
    void releasingAClaimNotHeldIsCaught() {
        try (AioContext ctx = AioContext.create()) {
            AssertionError e = assertThrows(AssertionError.class, ctx::releaseLoopClaim);
            assertTrue(e.getMessage().contains("releases the claim of " + ctx), e.getMessage());
        }
    }
}
