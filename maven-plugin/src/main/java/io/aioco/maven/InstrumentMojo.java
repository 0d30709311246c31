package io.aioco.maven;

import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.ResolutionScope;

/**
 * Weaves the project's classes ({@code target/classes}) in place: every {@code @CoroutineFn} method
 * becomes a resumable state machine, exactly as the {@code -javaagent} would rewrite it at load
 * time, so the application runs without the agent. Checks QEMU's {@code coroutine_fn} rule on the
 * way and fails the build on errors (see {@code failOnError}). The class hierarchy is read from the
 * output folder and the compile classpath as bytes; no project class is loaded into Maven.
 */
@Mojo(name = "instrument", defaultPhase = LifecyclePhase.PROCESS_CLASSES, threadSafe = true,
        requiresDependencyResolution = ResolutionScope.COMPILE)
public class InstrumentMojo extends MainClassesMojo {
    /** Creates the mojo (Maven injects its parameters). */
    public InstrumentMojo() {}
}
