package io.aioco.agent;

import io.aioco.agent.cache.StartupCache;
import io.aioco.agent.check.CheckCommand;
import java.lang.instrument.Instrumentation;

/**
 * The {@code -javaagent} entry points: registers the transformer that rewrites
 * {@code @CoroutineFn} methods as classes load. Options: see {@link AgentOptions}
 * ({@code -javaagent:aioco-agent.jar=verbose,dump=/tmp/aioco,include=com.example}).
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
        install(arguments, instrumentation);
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
            DumpCommand.writeDump(java.nio.file.Path.of(arguments.substring(DumpCommand.DUMP_TO.length())),
                    instrumentation);
            return;
        }
        install(arguments, instrumentation);
    }

    /**
     * The agent jar's command line: {@code java -jar aioco-agent.jar check ...} (see {@link
     * CheckCommand}) or {@code java -jar aioco-agent.jar dump PID} (see {@link DumpCommand}).
     *
     * @param args the command and its arguments
     */
    public static void main(String[] args) {
        if (args.length == 2 && args[0].equals("dump")) {
            System.exit(DumpCommand.run(args[1], System.out, System.err));
        }
        if (args.length == 0 || !args[0].equals("check")) {
            System.out.println("usage: java -jar aioco-agent.jar check [--all-methods] [--verify] [--classpath PATHS] PATH...");
            System.out.println("       java -jar aioco-agent.jar dump PID");
            System.exit(2);
        }
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        System.exit(new CheckCommand(System.out).run(rest));
    }

    private static void install(String arguments, Instrumentation instrumentation) {
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
        instrumentation.addTransformer(new CoroutineTransformer(options, cache, ClassLoader.getSystemClassLoader()),
                false);
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
