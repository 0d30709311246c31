package io.aioco.agent;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * Whether the JVM's command line lists another agent after aioco's: what decides, in {@link
 * AiocoAgent#premain}, whether the transformer is registered retransformation-capable (see {@link
 * AiocoAgent}). Cheap in the usual case: the process's command line ({@code /proc/self/cmdline})
 * and the variables the JVM and the launcher read options from ({@code JAVA_TOOL_OPTIONS}, {@code
 * JDK_JAVA_OPTIONS}, {@code _JAVA_OPTIONS}) are searched for agents; only when one other than
 * aioco's may be there (or the command line cannot be read, or names an argument file) is the
 * JVM's exact list of arguments read, in order, from the runtime MXBean (some ms at start).
 *
 * <p>No QEMU counterpart. Called once, by the thread that runs premain.
 */
final class AgentOrder {
    private AgentOrder() {}

    /** @return whether the JVM's arguments list an agent after aioco's; false when that cannot be told */
    static boolean anotherAgentAfterAioco() {
        try {
            Path self = Path.of(AiocoAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            if (!mayHaveOtherAgents()) {
                return false;
            }
            List<String> arguments = java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments();
            // NOTE: no lambda: bootstrapping one in premain costs some ms at the application's start
            return agentAfter(arguments, new Predicate<String>() {
                @Override
                public boolean test(String path) {
                    return sameFile(path, self);
                }
            });
        } catch (RuntimeException | LinkageError | URISyntaxException e) {
            return false; // NOTE: no java.management, no code source: command-line order, as before
        }
    }

    /**
     * @return false when the command line and the option variables certainly hold one agent (aioco's)
     *     and nothing else; true when there may be others
     */
    private static boolean mayHaveOtherAgents() {
        List<String> tokens = new ArrayList<>();
        try {
            String line = new String(Files.readAllBytes(Path.of("/proc/self/cmdline")), StandardCharsets.UTF_8);
            tokens.addAll(List.of(line.split("\0")));
        } catch (IOException | RuntimeException e) {
            return true; // not Linux: the MXBean tells
        }
        for (String variable : new String[] {"JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS"}) {
            String value = System.getenv(variable);
            if (value != null) {
                tokens.addAll(List.of(value.trim().split("\\s+")));
            }
        }
        int agents = 0;
        for (String token : tokens) {
            if (token.startsWith("@") || token.startsWith("-XX:VMOptionsFile") || token.startsWith("-XX:Flags")) {
                return true; // options read from a file: the MXBean tells
            }
            if (isAgent(token)) {
                agents++;
            }
        }
        return agents != 1;
    }

    /**
     * @param arguments the JVM's arguments, in order (JAVA_TOOL_OPTIONS first, as the JVM reads them)
     * @param isAioco whether a {@code -javaagent:} jar path names aioco's agent jar
     * @return whether an agent other than {@code jdwp} comes after the last {@code -javaagent:} of aioco
     */
    static boolean agentAfter(List<String> arguments, Predicate<String> isAioco) {
        int self = -1;
        for (int i = 0; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            if (argument.startsWith("-javaagent:") && isAioco.test(jarOf(argument))) {
                self = i;
            }
        }
        if (self < 0) {
            return false;
        }
        for (int i = self + 1; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            if (isAgent(argument) && !(argument.startsWith("-javaagent:") && isAioco.test(jarOf(argument)))) {
                return true;
            }
        }
        return false;
    }

    /** @return whether the JVM argument loads an agent that may transform classes (a debugger's does not) */
    static boolean isAgent(String argument) {
        if (argument.startsWith("-javaagent:") || argument.startsWith("-agentpath:")) {
            return true;
        }
        String library = argument.startsWith("-agentlib:") ? argument.substring("-agentlib:".length())
                : argument.startsWith("-Xrun") ? argument.substring("-Xrun".length()) : null;
        if (library == null) {
            return false;
        }
        int end = library.indexOf(argument.startsWith("-Xrun") ? ':' : '=');
        String name = end < 0 ? library : library.substring(0, end);
        return !name.equals("jdwp");
    }

    private static String jarOf(String javaagent) {
        String rest = javaagent.substring("-javaagent:".length());
        int equals = rest.indexOf('=');
        return equals < 0 ? rest : rest.substring(0, equals);
    }

    private static boolean sameFile(String path, Path self) {
        try {
            Path given = Path.of(path).toAbsolutePath().normalize();
            return given.equals(self.toAbsolutePath().normalize()) || Files.isSameFile(given, self);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }
}
