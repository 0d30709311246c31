package io.aioco.maven;

import java.io.File;
import java.util.List;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * What {@code instrument} and {@code check} share: they work on the project's main classes, with
 * the compile classpath for their hierarchy ({@code instrument-tests} has the test classes'
 * folder and classpath instead). Declared once here, so both goals take the same parameters.
 *
 * <p>No QEMU counterpart. Maven runs each mojo on one thread.
 */
abstract class MainClassesMojo extends AbstractWeaveMojo {
    /** The folder of the main classes: woven in place by {@code instrument}, checked by {@code check}. */
    @Parameter(property = "aioco.classesDirectory", defaultValue = "${project.build.outputDirectory}",
            required = true)
    private File classesDirectory;

    /** The compile classpath, for the main classes' hierarchy. */
    @Parameter(defaultValue = "${project.compileClasspathElements}", readonly = true, required = true)
    private List<String> compileClasspathElements;

    /** Creates the mojo (Maven injects its parameters). */
    MainClassesMojo() {}

    @Override
    protected File classesDirectory() {
        return classesDirectory;
    }

    @Override
    protected List<String> classpathElements() {
        return compileClasspathElements;
    }
}
