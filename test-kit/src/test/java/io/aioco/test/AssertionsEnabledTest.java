package io.aioco.test;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import org.junit.jupiter.api.Test;

/**
 * The test kit's tests run with {@code -ea} for aioco's classes: the runtime states its
 * thread-confinement rules as {@code assert}s (issue 15, item 5), which the kit's driver must not
 * break unseen.
 */
class AssertionsEnabledTest {
    @Test
    void theKitsTestsRunWithAssertions() {
        assertTrue(AioContext.class.desiredAssertionStatus(), "the runtime's classes must run with -ea here");
        assertTrue(CoroutineTests.class.desiredAssertionStatus(), "the test kit's classes must run with -ea here");
    }
}
