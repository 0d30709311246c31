package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import inherit.fixture.DoublingStepper;
import io.aioco.Coroutine;
import org.junit.jupiter.api.Test;

/**
 * A subclass that inherits the marker is loaded before its supertype (the JVM transforms the
 * subclass first, then loads the supertype): both must come out instrumented. No other test
 * touches these two classes, so the first use here is their first load.
 */
class InheritedMarkerLoadOrderTest {
    @Test
    void aSubclassLoadedBeforeItsSupertypeStillInheritsTheMarker() {
        int[] result = new int[1];
        Coroutine co = Coroutine.create(() -> result[0] = new DoublingStepper().step(20));
        co.enter();
        assertFalse(co.isTerminated(), "the inherited coroutine function yielded");
        co.enter();
        assertTrue(co.isTerminated());
        assertEquals(42, result[0]);
    }
}
