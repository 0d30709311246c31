package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import java.io.File;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The suite's tests, and the JVMs they start of their own ({@link ChildJvm#command}), run with
 * {@code -ea}: aioco's thread-confinement rules are {@code assert}s (issue 15, item 5), and a
 * test that breaks one must fail at the line that states it, in the child as in the test's JVM.
 */
class AssertionsEnabledTest {
    @Test
    void theSuitesJvmRunsWithAssertions() {
        assertTrue(AioContext.class.desiredAssertionStatus(), "the test-suite's tests must run with -ea");
    }

    @Test
    void aChildJvmRunsWithAssertions(@TempDir Path work) throws Exception {
        Path classes = ChildJvm.compile(work, "ea", new String[][] {{"ea/Main.java", """
                package ea;

                public class Main {
                    public static void main(String[] args) {
                        System.out.println("assertions=" + io.aioco.AioContext.class.desiredAssertionStatus());
                    }
                }
                """}}, ChildJvm.runtime().toString());
        String output = ChildJvm.run(ChildJvm.command("-cp", classes + File.pathSeparator + ChildJvm.runtime(), "ea.Main"));
        assertEquals("assertions=true", output.strip(), output);
    }
}
