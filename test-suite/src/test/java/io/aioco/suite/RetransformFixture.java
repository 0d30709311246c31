package io.aioco.suite;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.Attributes;
import java.util.jar.Manifest;

/**
 * What the tests of retransformation and redefinition in a child JVM share: a second agent of the
 * test's own (a spy, a tracer, a debugger's stand-in) compiled from source into a jar, the app it
 * runs beside aioco's agent ({@link #TARGET} and the test's {@code app.Main}), and the edited class
 * of a hot swap. Each test keeps its agent's source, its manifest's capabilities, its {@code Main}
 * and the order of the agents on its command line. Called by a test's own thread.
 */
final class RetransformFixture {
    /** The class retransformed or redefined: one coroutine function that yields once, then returns 100 + x. */
    static final String TARGET = """
            package app;
            public class Target {
                @io.aioco.CoroutineFn
                public static int work(int x) {
                    io.aioco.Coroutine.yield();
                    return 100 + x;
                }
            }
            """;

    /** An agent that only keeps its {@code Instrumentation} in {@code spy.Keeper.instrumentation}. */
    static final String[][] KEEPER = {
        {"spy/Keeper.java", """
                package spy;
                import java.lang.instrument.Instrumentation;
                public final class Keeper {
                    public static volatile Instrumentation instrumentation;
                    public static void premain(String arguments, Instrumentation given) {
                        instrumentation = given;
                    }
                }
                """},
    };

    /**
     * The source of an agent {@code spy.NAME} that keeps its {@code Instrumentation} in {@code
     * NAME.instrumentation} and adds a retransformation-capable transformer.
     *
     * @param imports more import lines, or ""
     * @param members more members of the class, or ""
     * @param transform the body of the transformer's {@code byte[] transform(ClassLoader loader, String
     *     name, Class<?> redefined, ProtectionDomain domain, byte[] bytes)}
     * @return the agent's sources, as {@link #agent} takes them
     */
    static String[][] capableAgent(String name, String imports, String members, String transform) {
        return new String[][] {{"spy/" + name + ".java", """
                package spy;
                import java.lang.instrument.ClassFileTransformer;
                import java.lang.instrument.Instrumentation;
                import java.security.ProtectionDomain;
                %s
                public final class %s {
                    public static volatile Instrumentation instrumentation;
                %s
                    public static void premain(String arguments, Instrumentation given) {
                        instrumentation = given;
                        given.addTransformer(new ClassFileTransformer() {
                            @Override
                            public byte[] transform(ClassLoader loader, String name, Class<?> redefined,
                                    ProtectionDomain domain, byte[] bytes) {
                %s
                            }
                        }, true);
                    }
                }
                """.formatted(imports, name, members.indent(4), transform.indent(16))}};
    }

    private final Path work;
    private final Path runtime = ChildJvm.runtime();
    private final List<Path> libraries;
    /** The agent's classes ({@code work/agent-classes}), which the app compiles and runs against. */
    private final Path classes;
    /** The agent's jar, {@code work/agent.jar}. */
    private final Path jar;

    private RetransformFixture(Path work, List<Path> libraries, String[][] sources, String premainClass,
            String... attributes) throws IOException {
        this.work = work;
        this.libraries = libraries;
        this.classes = ChildJvm.compile(work, "agent", sources, join(List.of(runtime)));
        Manifest manifest = new Manifest();
        manifest.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(new Attributes.Name("Premain-Class"), premainClass);
        for (String attribute : attributes) {
            String[] nameAndValue = attribute.split(":", 2);
            manifest.getMainAttributes().put(new Attributes.Name(nameAndValue[0].trim()), nameAndValue[1].trim());
        }
        this.jar = ChildJvm.jar(work.resolve("agent.jar"), classes, manifest);
    }

    /**
     * Builds the test's second agent.
     *
     * @param sources the agent's sources, each a path below the source folder and its text
     * @param premainClass the manifest's {@code Premain-Class}
     * @param attributes more manifest attributes, each {@code "Name: value"} ({@code
     *     "Can-Retransform-Classes: true"}, ...)
     */
    static RetransformFixture agent(Path work, String[][] sources, String premainClass, String... attributes)
            throws IOException {
        return new RetransformFixture(work, List.of(), sources, premainClass, attributes);
    }

    /**
     * Builds the test's second agent, which needs {@code libraries} (e.g. {@link ChildJvm#asm()}) to
     * compile and to run: they come on the app's class path too.
     *
     * @see #agent(Path, String[][], String, String...)
     */
    static RetransformFixture agent(Path work, List<Path> libraries, String[][] sources, String premainClass,
            String... attributes) throws IOException {
        return new RetransformFixture(work, libraries, sources, premainClass, attributes);
    }

    /** @return the {@code -javaagent} argument for this agent */
    String javaagent() {
        return "-javaagent:" + jar;
    }

    /**
     * Compiles {@link #TARGET} and {@code main} (the source of {@code app.Main}).
     *
     * @return the app's classes folder
     */
    Path app(String main) throws IOException {
        return app(new String[][] {{"app/Target.java", TARGET}, {"app/Main.java", main}});
    }

    /**
     * Compiles the app's sources against the runtime, this agent's classes and its libraries.
     *
     * @param sources each a path below the source folder and its text
     * @return the app's classes folder, {@code work/app-classes}
     */
    Path app(String[][] sources) throws IOException {
        return ChildJvm.compile(work, "app", sources, join(List.of(runtime, classes)));
    }

    /**
     * Compiles an edited version of one class of the app alone (a hot swap's new bytes) into
     * {@code work/edited-classes}.
     *
     * @param path the class's path below the source folder, e.g. {@code app/Target.java}
     * @return its class file, as the argument the test's {@code Main} reads
     */
    String edited(String path, String source) throws IOException {
        Path edited = ChildJvm.compile(work, "edited", new String[][] {{path, source}}, join(List.of(runtime)));
        return edited.resolve(path.replace(".java", ".class")).toString();
    }

    /** @return the child's class path: {@code app}, the runtime, this agent's classes and its libraries */
    String classPath(Path app) {
        return join(List.of(app, runtime, classes));
    }

    /** @return {@code first} then the libraries, joined by the path separator */
    private String join(List<Path> first) {
        StringBuilder path = new StringBuilder();
        for (Path entry : first) {
            path.append(path.isEmpty() ? "" : File.pathSeparator).append(entry);
        }
        for (Path library : libraries) {
            path.append(File.pathSeparator).append(library);
        }
        return path.toString();
    }
}
