package sample;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import org.junit.jupiter.api.Test;

class CounterTest {
    @Test
    void suspendsOnceAndResumes() {
        int[] result = {0};
        Coroutine co = Counter.start(new Counter(), 3, result);
        co.enter();
        assertFalse(co.isTerminated(), "suspended at the yield");
        assertEquals(0, result[0]);
        co.enter();
        assertTrue(co.isTerminated());
        assertEquals(9, result[0]);
    }
}
