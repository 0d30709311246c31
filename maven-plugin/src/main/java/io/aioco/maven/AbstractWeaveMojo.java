package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.ClassPathLookup;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * What the goals share: weave (or, for {@code check}, only check) a folder of class files against
 * its classpath, log every finding, and fail after listing all of them. {@code instrument} and
 * {@code instrument-tests} differ only in the folder and the classpath.
 *
 * <p>No QEMU counterpart (QEMU's {@code coroutine_fn} checks are static analysers run on C code).
 * Maven runs each mojo on one thread.
 */
public abstract class AbstractWeaveMojo extends AbstractMojo {
    /** Skips weaving and checking altogether. */
    @Parameter(property = "aioco.skip", defaultValue = "false")
    private boolean skip;

    /**
     * Logs every class woven and every class excluded, not just the summary; an internal failure of
     * the instrumenter is reported with the method's code as text and the stack trace.
     */
    @Parameter(property = "aioco.verbose", defaultValue = "false")
    private boolean verbose;

    /**
     * Fails the build when the check or the instrumenter reports an error (a call to a coroutine
     * function from a method that is not one, a suspension inside {@code synchronized}, a constructor
     * marked {@code @CoroutineFn}, a class file that cannot be read). All errors are listed first,
     * and nothing is written. With {@code false} the errors are logged as warnings and the classes
     * are woven anyway: refused methods then throw {@code IllegalStateException} with the same
     * message when they are called, as under the agent.
     */
    @Parameter(property = "aioco.failOnError", defaultValue = "true")
    private boolean failOnError;

    /**
     * Patterns of the binary class names to weave and check ({@code com.example.**},
     * {@code com.example.*Service}, {@code com.example.Outer$Inner}): {@code **} matches any
     * characters, {@code *} and {@code ?} any characters (one character) but a dot. Empty: every class.
     */
    @Parameter
    private List<String> includes;

    /** Patterns of the binary class names never to weave nor check, as for {@code includes}. */
    @Parameter
    private List<String> excludes;

    /** The project's folder: paths in messages are shown relative to it. */
    @Parameter(defaultValue = "${project.basedir}", readonly = true, required = true)
    private File basedir;

    /** @return the folder to weave in place */
    protected abstract File classesDirectory();

    /** @return the classpath of the classes in that folder (output folders and dependency jars) */
    protected abstract List<String> classpathElements();

    /**
     * Weaves the folder.
     *
     * @throws MojoFailureException when errors were found and {@code failOnError} is set, or the
     *     configuration is wrong
     * @throws MojoExecutionException when the folder or the classpath cannot be read or written
     */
    @Override
    public void execute() throws MojoExecutionException, MojoFailureException {
        if (skip) {
            getLog().info("aioco: skipped (aioco.skip)");
            return;
        }
        process(classesDirectory(), classpathElements(), true);
    }

    /**
     * Weaves, or only checks, one folder of class files against its classpath, and reports what it
     * found. Called on the mojo's thread.
     *
     * @param directory the folder of class files (nothing happens when it does not exist)
     * @param elements its classpath (output folders and dependency jars)
     * @param weave true to weave the folder in place ({@code instrument}), false to check it and
     *     write nothing ({@code check})
     * @throws MojoFailureException when errors were found and {@code failOnError} is set, or the
     *     configuration is wrong
     * @throws MojoExecutionException when the folder or the classpath cannot be read or written
     */
    protected void process(File directory, List<String> elements, boolean weave)
            throws MojoExecutionException, MojoFailureException {
        if (!directory.isDirectory()) {
            getLog().info("aioco: nothing to " + (weave ? "weave" : "check") + ", " + directory + " does not exist");
            return;
        }
        ClassNamePatterns filter;
        try {
            filter = new ClassNamePatterns(includes, excludes);
        } catch (IllegalArgumentException e) {
            throw new MojoFailureException("aioco: bad <includes>/<excludes>: " + e.getMessage());
        }
        Path folder = directory.toPath().toAbsolutePath().normalize();
        List<Path> classpath = new ArrayList<>(List.of(folder));
        for (String element : elements) {
            Path path = Path.of(element).toAbsolutePath().normalize();
            if (!classpath.contains(path)) {
                classpath.add(path);
            }
        }
        Weaver.Result result;
        try (ClassPathLookup lookup = ClassPathLookup.open(classpath, ClassLookup.ofClassLoader(null))) {
            Weaver weaver = new Weaver(folder, lookup, filter, basedir.toPath().toAbsolutePath().normalize(), verbose);
            if (!weave) {
                reportCheck(folder, weaver.check());
                return;
            }
            result = weaver.scan();
            report(folder, result);
            result.write();
        } catch (IOException e) {
            throw new MojoExecutionException("aioco: cannot " + (weave ? "weave " : "check ") + folder + ": "
                    + e.getMessage() + " (is the build writing to it at the same time?)", e);
        }
    }

    /** @return whether {@code aioco.skip} is set */
    protected boolean skipped() {
        return skip;
    }

    private void reportCheck(Path folder, Weaver.Result result) throws MojoFailureException {
        result.warnings.forEach(warning -> getLog().warn(warning));
        if (!result.errors.isEmpty() && failOnError) {
            result.errors.forEach(error -> getLog().error(error));
            throw new MojoFailureException("aioco: " + count(result.errors.size(), "error") + " in " + folder
                    + " (listed above). Fix them, or set <failOnError>false</failOnError> to report them as warnings"
                    + " (under the agent, refused methods throw when they are called).");
        }
        result.errors.forEach(error -> getLog().warn("(failOnError=false) " + error));
        if (verbose) {
            result.excluded.forEach(name -> getLog().info("aioco: excluded " + name));
        }
        getLog().info("aioco: checked " + count(result.scanned, "class") + " in " + folder + ": "
                + count(result.errors.size(), "error") + ", " + count(result.warnings.size(), "warning")
                + (result.excluded.isEmpty() ? "" : " (" + result.excluded.size() + " excluded)"));
    }

    private void report(Path folder, Weaver.Result result) throws MojoFailureException {
        result.warnings.forEach(warning -> getLog().warn(warning));
        if (!result.errors.isEmpty() && failOnError) {
            result.errors.forEach(error -> getLog().error(error));
            throw new MojoFailureException("aioco: " + count(result.errors.size(), "error") + " in " + folder
                    + " (listed above); nothing was woven. Fix them, or set <failOnError>false</failOnError> to"
                    + " weave anyway (refused methods then throw when called).");
        }
        result.errors.forEach(error -> getLog().warn("(failOnError=false) " + error));
        if (verbose) {
            result.excluded.forEach(name -> getLog().info("aioco: excluded " + name));
            result.woven.forEach(name -> getLog().info("aioco: woven " + name));
        }
        if (result.unrecorded > 0) {
            getLog().warn("aioco: " + count(result.unrecorded, "class") + " in " + folder + " carry aioco's marker"
                    + " but were not woven by this plugin's last run (no record of them in " + Weaver.STATE_FOLDER
                    + "): they are kept as they are, and cannot be woven again if the classes they call change."
                    + " A clean build (mvn clean) records them.");
        }
        if (verbose) {
            result.rewoven.forEach(name -> getLog().info("aioco: woven again " + name
                    + " (a class it depends on changed its coroutine functions)"));
        }
        List<String> notes = new ArrayList<>();
        if (!result.rewoven.isEmpty()) {
            notes.add(result.rewoven.size() + " woven again as their callees changed");
        }
        if (result.alreadyWoven > 0) {
            notes.add(result.alreadyWoven + " already woven");
        }
        if (!result.excluded.isEmpty()) {
            notes.add(result.excluded.size() + " excluded");
        }
        getLog().info("aioco: wove " + count(result.woven.size(), "class") + " of " + result.scanned + " in " + folder
                + (notes.isEmpty() ? "" : " (" + String.join(", ", notes) + ")"));
    }

    private static String count(int n, String noun) {
        return n + " " + (n == 1 ? noun : noun.endsWith("s") ? noun + "es" : noun + "s");
    }
}
