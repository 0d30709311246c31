package io.aioco.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a JUnit 5 test method that runs as a coroutine: the method (which must also be a {@link
 * io.aioco.CoroutineFn}, and woven: by the agent or the Maven plugin) is entered as a coroutine on a
 * fresh {@link io.aioco.AioContext}, which the test's thread then polls until the method returns.
 * The same as calling {@link CoroutineTests#run(io.aioco.CoroutineEntry)} around the body.
 *
 * <p><b>Virtual time.</b> Unless {@link #realTime()}, every clock ({@code REALTIME}, {@code
 * VIRTUAL}, {@code HOST}) read on the test's context reads the test's own virtual time, which
 * starts at 0 (HOST: at the wall time the test started) and is independent of other tests, also
 * ones running in parallel. The code under test does not change: its {@code Coroutine.sleepNs},
 * timers and {@code withTimeoutNs} run on that time. Whenever nothing on the context is ready (no
 * bottom half, no ready channel, no coroutine scheduled) and its thread pool has no work in
 * flight, the time jumps to the earliest timer's deadline, so a ten-minute timeout takes
 * milliseconds. This is QEMU's qtest {@code clock_step} on {@code QEMU_CLOCK_VIRTUAL}, done by the
 * test driver whenever the guest is idle (kotlinx-coroutines-test's {@code runTest} does the same).
 *
 * <p><b>Failures.</b> The test fails with what the method throws; with a deadlock (nothing ready,
 * no timer armed, no thread-pool work in flight, no {@code Coroutine.await} of a future
 * another thread may complete and no fd handler that a peer could wake, while the
 * method has not returned), naming what the test coroutine waits for, instead of hanging; and when
 * the method returns with work left on the context (bottom halves scheduled, timers armed, fd
 * handlers installed, coroutines the test created still suspended), listing it. Each suspended
 * coroutine is listed as the coroutine dump ({@link io.aioco.Coroutine#dump}) shows it: what it
 * waits for and its suspended stack, one {@code at} line per frame.
 *
 * <p>Threads: the method runs on the thread JUnit runs the test on, which polls the context.
 * Code that runs on other threads (thread-pool workers, other contexts) reads the machine's clocks.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Test
@ExtendWith(CoroutineTestExtension.class)
public @interface CoroutineTest {
    /**
     * Whether the test runs on the machine's clocks instead of virtual time: timers then fire when
     * their real deadline comes (the deadlock and leak checks stay).
     *
     * @return true for real time; false (the default) for the test's own virtual time
     */
    boolean realTime() default false;
}
