package io.aioco.instrumenter;

/**
 * One finding of the instrumenter about a method: where it is and what is wrong.
 *
 * @param severity {@link Severity#ERROR} for a refused method, {@link Severity#WARNING} otherwise
 * @param className the class, in internal form
 * @param methodName the method's name (null for a finding about the whole class)
 * @param methodDescriptor the method's descriptor (null for the whole class)
 * @param sourceFile the source file named by the class file, or null
 * @param line the source line, or -1 when unknown
 * @param message what is wrong and how to fix it
 */
public record Diagnostic(Severity severity, String className, String methodName,
        String methodDescriptor, String sourceFile, int line, String message) {

    /** How serious a finding is. */
    public enum Severity {
        /** The method is refused: the agent replaces its body by a throw, the plugin fails. */
        ERROR,
        /** Worth fixing; the method is instrumented anyway. */
        WARNING
    }

    /**
     * Formats the finding as {@code path/to/Source.java:LINE: Class.method(desc): message}.
     *
     * @return the one-line form used by the agent and the build tools
     */
    public String format() {
        StringBuilder out = new StringBuilder();
        String pkg = className.lastIndexOf('/') < 0 ? "" : className.substring(0, className.lastIndexOf('/') + 1);
        out.append(sourceFile == null ? className + ".class" : pkg + sourceFile);
        if (line > 0) {
            out.append(':').append(line);
        }
        out.append(": ").append(className.replace('/', '.'));
        if (methodName != null) {
            out.append('.').append(methodName).append(methodDescriptor);
        }
        return out.append(": ").append(message).toString();
    }

    @Override
    public String toString() {
        return severity + " " + format();
    }
}
