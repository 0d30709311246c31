package io.aioco.agent;

import io.aioco.agent.cache.StartupCache;
import io.aioco.agent.check.CheckCommand;
import java.io.PrintStream;
import java.lang.instrument.Instrumentation;
import java.util.Arrays;
import java.util.List;

/**
 * The {@code -javaagent} entry points: registers the transformer that rewrites
 * {@code @CoroutineFn} methods as classes load. Options: see {@link AgentOptions}
 * ({@code -javaagent:aioco-agent.jar=verbose,dump=/tmp/aioco,include=com.example}).
 *
 * <p>Order with other agents. The JVM calls the class file transformers that are not
 * retransformation-capable first, in the order of the {@code -javaagent} options, then the capable
 * ones. An agent that must see a class as javac wrote it (JaCoCo's, for an exact coverage report)
 * and is listed after aioco's would see the woven class; registered capable, aioco's transformer
 * runs after it whatever the order. Registered capable, it is also called on every
 * retransformation, by any agent, with the bytes the JVM cached at load, and that costs: a capable
 * agent listed before aioco's that changes a coroutine function on a retransformation makes aioco
 * weave a different class (a coroutine suspended in it can no longer resume: corrupt frame), and
 * on JDK 17 a retransformation after a hot swap ({@code redefineClasses}) replays the pre-swap
 * bytes (the hot swap is lost). So {@link #premain} registers it capable only when needed: when
 * the JVM's command line lists another agent ({@code -javaagent:}, {@code -agentpath:}, {@code
 * -agentlib:} other than {@code jdwp}) after aioco's; the option {@code retransform=on|off}
 * forces either way. {@link #agentmain} (late attach) never registers it capable: the classes
 * loaded before the attach are not woven, and a retransformation would try to weave them (the JVM
 * refuses a retransformation that adds methods).
 *
 * <p>No QEMU counterpart: C coroutines need no rewriting.
 */
public final class AiocoAgent {
    private AiocoAgent() {}

    /**
     * Called by the JVM before {@code main} when started with {@code -javaagent}.
     *
     * @param arguments the agent options
     * @param instrumentation the JVM's instrumentation service
     */
    public static void premain(String arguments, Instrumentation instrumentation) {
        install(arguments, instrumentation, true);
    }

    /**
     * Called when the agent is attached to a running JVM. Only classes loaded after this are
     * instrumented.
     *
     * @param arguments the agent options
     * @param instrumentation the JVM's instrumentation service
     */
    public static void agentmain(String arguments, Instrumentation instrumentation) {
        if (arguments != null && arguments.startsWith(DumpCommand.DUMP_TO)) {
            // java -jar aioco-agent.jar dump PID: a dump, not an installation
            DumpCommand.dumpInTarget(java.nio.file.Path.of(arguments.substring(DumpCommand.DUMP_TO.length())),
                    instrumentation);
            return;
        }
        install(arguments, instrumentation, false);
    }

    /**
     * The commands of the agent jar's command line, in the order {@code --help} lists them. A new
     * command plugs in here: one more {@link AgentCommand} (name, one-line summary, runner); {@link
     * #run(String[], PrintStream)} dispatches on the name, and the jar's {@code --help} lists it.
     *
     * @return the commands
     */
    static List<AgentCommand> commands() {
        // NOTE: a method, not a static field: the lambdas must not be bootstrapped when premain
        // loads this class (each costs some ms at the application's start)
        return List.of(
                new AgentCommand("check", "check jars and folders: what the agent would rewrite, refuse or fail on",
                        (out, args) -> new CheckCommand(out).run(args)),
                new AgentCommand("dump", "print the coroutine dump of a running JVM (its coroutines, stacks, deadlocks)",
                        (out, args) -> DumpCommand.command(out, args)));
    }

    /**
     * The agent jar's command line: {@code java -jar aioco-agent.jar COMMAND ARGS...} (see {@link
     * #commands()}); without a command, or with {@code --help}, the list of commands and of the
     * {@code -javaagent} options. Called by the JVM on the main thread.
     *
     * @param args the command and its arguments
     */
    public static void main(String[] args) {
        System.exit(run(args, System.out));
    }

    /**
     * Runs the command line {@code args} (what {@link #main} does, without exiting).
     *
     * @param args the command and its arguments
     * @param out where the command prints
     * @return the process exit code: 0 success (and {@code --help}), 1 findings, 2 bad usage
     */
    static int run(String[] args, PrintStream out) {
        if (args.length == 0) {
            out.print(help());
            return 2;
        }
        String first = args[0];
        if (first.equals("--help") || first.equals("-h") || first.equals("help")) {
            if (args.length > 1 && command(args[1]) != null) {
                return command(args[1]).runner().run(out, new String[] {"--help"});
            }
            out.print(help());
            return 0;
        }
        AgentCommand command = command(first);
        if (command == null) {
            out.println("aioco: unknown command '" + first + "'; the commands are: " + String.join(", ",
                    commands().stream().map(AgentCommand::name).toList())
                    + " (java -jar aioco-agent.jar --help lists them with the -javaagent options)");
            return 2;
        }
        return command.runner().run(out, Arrays.copyOfRange(args, 1, args.length));
    }

    private static AgentCommand command(String name) {
        for (AgentCommand command : commands()) {
            if (command.name().equals(name)) {
                return command;
            }
        }
        return null;
    }

    /** @return the jar's {@code --help}: how to use it as an agent, its options, its commands */
    static String help() {
        StringBuilder text = new StringBuilder();
        text.append("aioco agent: rewrites @CoroutineFn methods into resumable state machines as classes load.\n\n");
        text.append("As an agent:\n");
        text.append("  java -javaagent:aioco-agent.jar[=OPTION,OPTION...] -cp ... Main\n\n");
        text.append("Agent options (comma-separated, all optional):\n");
        text.append(AgentOptions.HELP);
        text.append("  example: java -javaagent:aioco-agent.jar=verbose,include=com.example,cache=off -cp app.jar"
                + " com.example.Main\n\n");
        text.append("As a command: java -jar aioco-agent.jar COMMAND [ARGS...]\n");
        text.append("Commands:\n");
        for (AgentCommand command : commands()) {
            text.append(String.format("  %-8s %s%n", command.name(), command.summary()));
        }
        text.append("Run java -jar aioco-agent.jar COMMAND --help for a command's options and an example.\n");
        return text.toString();
    }

    private static void install(String arguments, Instrumentation instrumentation, boolean atStart) {
        AgentOptions options;
        try {
            options = AgentOptions.parse(arguments);
        } catch (IllegalArgumentException e) {
            System.err.println("aioco agent: " + e.getMessage() + "; the agent is not installed");
            return;
        }
        if (options.probes()) {
            System.setProperty("aioco.probes", "true"); // NOTE: before the runtime loads (premain)
        }
        StartupCache cache = options.cacheDirectory() == null ? null : startupCache(options);
        // NOTE: retransformation-capable only when an agent follows aioco's (see the class comment):
        // then the JVM runs every incapable transformer (JaCoCo's agent, most agents) before this
        // one, they see the class as javac wrote it, and this one weaves their output
        boolean capable = atStart && (options.retransform() != null ? options.retransform()
                : AgentOrder.anotherAgentAfterAioco());
        if (options.verbose()) {
            System.getLogger("io.aioco.agent").log(System.Logger.Level.INFO, "aioco: transformer registered "
                    + (capable ? "retransformation-capable (runs after every incapable agent)"
                            : "not retransformation-capable (runs in command-line order)"));
        }
        instrumentation.addTransformer(new CoroutineTransformer(options, cache, ClassLoader.getSystemClassLoader()),
                capable);
        // NOTE: always capable, and changes no class: sees another agent retransform a woven class
        // (Mockito's inline mock maker), whose virtual calls then go through its wrapper
        if (instrumentation.isRetransformClassesSupported()) {
            instrumentation.addTransformer(new RetransformWatch(capable), true);
            System.setProperty(io.aioco.instrumenter.classfile.RuntimeNames.RETRANSFORM_WATCH_PROPERTY, "true");
        }
    }

    /** The startup cache, with a shutdown hook that saves it; null when it does not apply. Never throws. */
    private static StartupCache startupCache(AgentOptions options) {
        try {
            long start = System.nanoTime();
            StartupCache cache = StartupCache.forApplication(options.cacheDirectory(), options.verbose());
            if (cache == null) {
                return null;
            }
            long micros = (System.nanoTime() - start) / 1000;
            if (options.verbose()) {
                System.getLogger("io.aioco.agent").log(System.Logger.Level.INFO, "aioco: startup cache "
                        + cache.file() + ": " + cache.loadedCount() + " clean classes, read in " + micros + " us");
            }
            Thread saver = new Thread("aioco-startup-cache") {
                @Override
                public void run() {
                    cache.saveAtExit(); // NOTE: no lambda here: bootstrapping one costs some ms in premain
                }
            };
            Runtime.getRuntime().addShutdownHook(saver);
            return cache;
        } catch (RuntimeException | LinkageError | OutOfMemoryError e) {
            // NOTE: no cache is never a reason not to instrument, nor to fail the JVM's start (a
            // shutdown in progress, a security manager, a heap too small for the file)
            return null;
        }
    }
}
