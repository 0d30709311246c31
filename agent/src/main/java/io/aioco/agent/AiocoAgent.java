package io.aioco.agent;

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
        install(arguments, instrumentation);
    }

    private static void install(String arguments, Instrumentation instrumentation) {
        AgentOptions options;
        try {
            options = AgentOptions.parse(arguments);
        } catch (IllegalArgumentException e) {
            System.err.println("aioco agent: " + e.getMessage() + "; the agent is not installed");
            return;
        }
        instrumentation.addTransformer(new CoroutineTransformer(options), false);
    }
}
