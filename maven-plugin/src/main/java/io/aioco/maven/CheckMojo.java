package io.aioco.maven;

import java.io.File;
import java.util.List;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.plugins.annotations.ResolutionScope;

/**
 * Checks the project's classes without weaving them, for projects that weave at load time with
 * the {@code -javaagent}: QEMU's {@code coroutine_fn} rule (a call to a coroutine function from a
 * method that is not one) and what the agent would refuse (a suspension inside {@code
 * synchronized}, a constructor marked {@code @CoroutineFn}, a class file it cannot read). Every
 * finding is listed, then the build fails on errors as {@code instrument} does (see {@code
 * failOnError}); nothing is written. Runs in {@code verify} by default, on {@code target/classes}
 * and, unless {@code checkTests} is false, on {@code target/test-classes}.
 *
 * <pre>{@code
 * <execution>
 *   <goals><goal>check</goal></goals>   <!-- verify -->
 * </execution>
 * }</pre>
 *
 * <p>No QEMU counterpart (the build's {@code coroutine_fn} check). Maven runs it on one thread.
 */
@Mojo(name = "check", defaultPhase = LifecyclePhase.VERIFY, threadSafe = true,
        requiresDependencyResolution = ResolutionScope.TEST)
public class CheckMojo extends MainClassesMojo {
    /** The folder of the test classes to check (when {@code checkTests} is set). */
    @Parameter(property = "aioco.testClassesDirectory", defaultValue = "${project.build.testOutputDirectory}",
            required = true)
    private File testClassesDirectory;

    /** Checks the test classes too (they run under the agent as well). */
    @Parameter(property = "aioco.checkTests", defaultValue = "true")
    private boolean checkTests;

    /** The test classpath, for the test classes' hierarchy. */
    @Parameter(defaultValue = "${project.testClasspathElements}", readonly = true, required = true)
    private List<String> testClasspathElements;

    /** Creates the mojo (Maven injects its parameters). */
    public CheckMojo() {}

    /**
     * Checks the main classes, then the test classes; fails, after both are listed, when either
     * had errors.
     *
     * @throws MojoFailureException when errors were found and {@code failOnError} is set, or the
     *     configuration is wrong
     * @throws MojoExecutionException when a folder or the classpath cannot be read
     */
    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skipped()) {
            getLog().info("aioco: skipped (aioco.skip)");
            return;
        }
        List<String> failures = new java.util.ArrayList<>();
        try {
            process(classesDirectory(), classpathElements(), false);
        } catch (MojoFailureException e) {
            failures.add(e.getMessage()); // NOTE: the test classes' findings are listed too before the build fails
        }
        if (checkTests) {
            try {
                process(testClassesDirectory, testClasspathElements, false);
            } catch (MojoFailureException e) {
                failures.add(e.getMessage());
            }
        }
        if (!failures.isEmpty()) {
            throw new MojoFailureException(String.join("\n", failures));
        }
    }
}
