package io.aioco.maven;

import java.io.File;
import java.util.List;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;
import org.apache.maven.plugins.annotations.ResolutionScope;

/**
 * Weaves the project's test classes ({@code target/test-classes}) in place, as {@code instrument}
 * does for the main classes, so that tests run without the agent. The class hierarchy is read from
 * the test classpath (test and main output folders, test dependencies) as bytes.
 */
@Mojo(name = "instrument-tests", defaultPhase = LifecyclePhase.PROCESS_TEST_CLASSES, threadSafe = true,
        requiresDependencyResolution = ResolutionScope.TEST)
public class InstrumentTestsMojo extends AbstractWeaveMojo {
    /** The folder to weave in place. */
    @Parameter(property = "aioco.testClassesDirectory", defaultValue = "${project.build.testOutputDirectory}",
            required = true)
    private File testClassesDirectory;

    /** The test classpath, for the class hierarchy. */
    @Parameter(defaultValue = "${project.testClasspathElements}", readonly = true, required = true)
    private List<String> testClasspathElements;

    /** Creates the mojo (Maven injects its parameters). */
    public InstrumentTestsMojo() {}

    @Override
    protected File classesDirectory() {
        return testClassesDirectory;
    }

    @Override
    protected List<String> classpathElements() {
        return testClasspathElements;
    }
}
