package io.aioco.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

import io.aioco.test.fixtures.KitFixtures;
import io.aioco.test.fixtures.OnlyThroughTheLauncher;
import java.io.IOException;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * How a @CoroutineTest fails: each fixture of {@link KitFixtures} is run through the JUnit launcher
 * (junit-platform-testkit is not available offline) and its failure is checked.
 */
class KitFailuresTest {
    @AfterEach
    void closePipes() throws Exception {
        for (Pipe p : KitFixtures.PIPES) {
            p.source().close();
            p.sink().close();
        }
        KitFixtures.PIPES.clear();
    }

    /** Runs one fixture; returns its failure, or null if it passed. */
    private static Throwable run(String method) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectMethod(KitFixtures.class, method))
                .configurationParameter(OnlyThroughTheLauncher.PARAMETER, "true").build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();
        LauncherFactory.create().execute(request, listener);
        TestExecutionSummary summary = listener.getSummary();
        assertEquals(1, summary.getTestsStartedCount(), method + " ran");
        List<TestExecutionSummary.Failure> failures = summary.getFailures();
        return failures.isEmpty() ? null : failures.get(0).getException();
    }

    private static String failureMessage(String method) {
        Throwable t = run(method);
        assertInstanceOf(AssertionError.class, t, method + " must fail with an AssertionError");
        return t.getMessage();
    }

    @Test
    void aCleanTestPasses() {
        assertEquals(null, run("passes"));
    }

    @Test
    void aLeakedTimerFailsTheTestNamingIt() {
        String m = failureMessage("leaksTimer");
        assertTrue(m.contains("leaksTimer returned with work left"), m);
        assertTrue(m.contains("HOST timer due at") && m.contains("leakedTimerCallback"), m);
    }

    @Test
    void aLeakedBottomHalfFailsTheTestNamingIt() {
        String m = failureMessage("leaksBottomHalf");
        assertTrue(m.contains("bottom half scheduled: BottomHalf[foreverBottomHalf"), m);
    }

    @Test
    void aLeakedSuspendedCoroutineFailsTheTestNamingItsWaitAndItsStack() throws IOException {
        String m = failureMessage("leaksSuspendedCoroutine");
        assertTrue(m.contains("coroutine suspended: Coroutine@"), m);
        assertTrue(m.contains("state: SUSPENDED, waiting for"), m);
        // its suspended stack as the coroutine dump shows it: the runtime's wait, then the lambda's line
        assertTrue(m.contains("\n    \tat io.aioco.CoQueue.await("), m);
        assertTrue(m.contains("\n    \tat io.aioco.test.fixtures.KitFixtures.lambda$leaksSuspendedCoroutine$")
                && m.contains("(KitFixtures.java:" + fixtureLine("// nobody ever wakes it") + ")"), m);
    }

    /** @return the line of {@code KitFixtures.java} that holds {@code marker} */
    private static int fixtureLine(String marker) throws IOException {
        List<String> lines = Files.readAllLines(Path.of("src/test/java/io/aioco/test/fixtures/KitFixtures.java"));
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError("no " + marker + " in KitFixtures.java");
    }

    @Test
    void aLeakedFdHandlerFailsTheTestNamingIt() {
        String m = failureMessage("leaksFdHandler");
        assertTrue(m.contains("fd handler on") && m.contains("leakedReadHandler"), m);
    }

    @Test
    void aDeadlockFailsInsteadOfHanging() throws IOException {
        String m = failureMessage("deadlocks");
        assertTrue(m.contains("deadlocks deadlocked: its coroutine Coroutine@"), m);
        assertTrue(m.contains("waiting for"), m);
        // the other coroutine stuck with it is listed too; both with their stacks
        assertTrue(m.contains("coroutine suspended: Coroutine@"), m);
        assertTrue(m.contains("the test's coroutine: Coroutine@"), m);
        assertTrue(m.contains("\tat io.aioco.test.fixtures.KitFixtures.deadlocks(KitFixtures.java:"
                + fixtureLine("// nobody can wake it") + ")"), m);
        assertTrue(m.contains("\tat io.aioco.test.fixtures.KitFixtures.lambda$deadlocks$"), m);
    }

    @Test
    void awaitingASpawnedCoroutineThatCannotEndIsADeadlockToo() {
        String m = failureMessage("deadlocksAwaitingASpawnedCoroutine");
        assertTrue(m.contains("deadlocked") && m.contains("waiting for the completion of"), m);
    }

    @Test
    void aTestMethodThatIsNoCoroutineFnIsRefusedWithItsName() {
        Throwable t = run("notACoroutineFn");
        assertInstanceOf(IllegalStateException.class, t);
        assertTrue(t.getMessage().contains("KitFixtures.notACoroutineFn is a @CoroutineTest and must also be a @CoroutineFn"),
                t.getMessage());
    }

    @Test
    void theTestsOwnFailureComesFirstWithTheLeaksSuppressed() {
        Throwable t = run("failsAndLeaks");
        assertInstanceOf(IllegalArgumentException.class, t);
        assertEquals("the test's own failure", t.getMessage());
        assertEquals(1, t.getSuppressed().length);
        assertTrue(t.getSuppressed()[0].getMessage().contains("leakedTimerCallback"), t.getSuppressed()[0].getMessage());
    }
}
