package io.aioco.agent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's options, from {@code -javaagent:aioco-agent.jar=OPTIONS}: a comma-separated list of
 * {@code verbose}, {@code dump=DIR}, {@code include=PREFIX[:PREFIX...]},
 * {@code exclude=PREFIX[:PREFIX...]} (package or class name prefixes, dotted; {@code include} and
 * {@code exclude} may be repeated) and {@code cache=DIR} or {@code cache=off} (the startup cache,
 * {@link io.aioco.agent.cache.StartupCache}; on by default, in {@code $XDG_CACHE_HOME/aioco/agent}, or
 * {@code ~/.cache/aioco/agent} when {@code XDG_CACHE_HOME} is not set), and {@code probes} (the full
 * coroutine dump: every live coroutine is registered, see {@code io.aioco.Coroutine.dump}), and
 * {@code retransform=auto|on|off} (whether the transformer is registered retransformation-capable,
 * see {@link AiocoAgent}; {@code auto} by default).
 *
 * <p>No QEMU counterpart. Immutable: parsed once by the thread that installs the agent, then read
 * by any transforming thread.
 *
 * @param verbose log every class rewritten, and what the startup cache does; an internal failure of
 *     the instrumenter is reported with the method's code as text and the stack trace
 * @param dumpDirectory where to write every rewritten class file, or null
 * @param includes when not empty, only classes whose name starts with one of these are instrumented
 * @param excludes classes whose name starts with one of these are never instrumented
 * @param cacheDirectory where the startup cache keeps its files, or null for no cache
 * @param probes the full coroutine dump: sets the system property {@code aioco.probes} before the
 *     runtime loads, so that every live coroutine is registered and its last run timed
 * @param retransform {@code retransform=on} ({@code TRUE}): register the transformer
 *     retransformation-capable, so that every incapable agent (JaCoCo's) runs before it whatever the
 *     order of the {@code -javaagent} options; {@code off} ({@code FALSE}): never; {@code auto}
 *     ({@code null}, the default): capable only when the JVM's command line lists another agent
 *     after aioco's (see {@link AiocoAgent#premain}). A late attach (agentmain) is never capable.
 */
public record AgentOptions(boolean verbose, Path dumpDirectory, List<String> includes, List<String> excludes,
        Path cacheDirectory, boolean probes, Boolean retransform) {

    /**
     * One line per option, for the agent jar's {@code --help}: every option {@link #parse} accepts,
     * with its value and its default.
     */
    static final String HELP = ""
            + "  verbose                   log every class rewritten and what the startup cache does\n"
            + "  dump=DIR                  write every rewritten class file under DIR\n"
            + "  include=PREFIX[:PREFIX]   instrument only classes whose name starts with a prefix (dotted;"
            + " repeatable)\n"
            + "  exclude=PREFIX[:PREFIX]   never instrument classes whose name starts with a prefix (repeatable)\n"
            + "  cache=DIR|off             the startup cache's folder (default $XDG_CACHE_HOME/aioco/agent, or"
            + " ~/.cache/aioco/agent), or off\n"
            + "  probes                    the full coroutine dump: every live coroutine registered, its last run timed\n"
            + "  retransform=auto|on|off   weave after every other agent (on), in command-line order (off), or on when\n"
            + "                            an agent follows aioco's on the command line (auto, the default)\n";

    /**
     * Called by the thread that installs the agent (premain or agentmain), or by a test.
     *
     * @param text the text after {@code =} in {@code -javaagent:aioco-agent.jar=...}, or null
     * @return the options
     * @throws IllegalArgumentException naming an unknown option, or one without its value
     */
    public static AgentOptions parse(String text) {
        boolean verbose = false;
        boolean probes = false;
        Boolean retransform = null;
        Path dump = null;
        Path cache = defaultCacheDirectory(System.getenv("XDG_CACHE_HOME"), System.getProperty("user.home"));
        List<String> includes = new ArrayList<>();
        List<String> excludes = new ArrayList<>();
        if (text != null && !text.isBlank()) {
            for (String option : text.split(",")) {
                String trimmed = option.trim();
                int equals = trimmed.indexOf('=');
                String key = equals < 0 ? trimmed : trimmed.substring(0, equals);
                String value = equals < 0 ? null : trimmed.substring(equals + 1);
                switch (key) {
                    case "verbose" -> verbose = value == null || Boolean.parseBoolean(value);
                    case "dump" -> dump = Path.of(require(key, value));
                    case "include" -> includes.addAll(prefixes(require(key, value)));
                    case "exclude" -> excludes.addAll(prefixes(require(key, value)));
                    case "cache" -> cache = require(key, value).equals("off") ? null : Path.of(value);
                    case "probes" -> probes = value == null || Boolean.parseBoolean(value);
                    case "retransform" -> retransform = switch (require(key, value)) {
                        case "auto" -> null;
                        case "on" -> Boolean.TRUE;
                        case "off" -> Boolean.FALSE;
                        default -> throw new IllegalArgumentException("aioco agent option 'retransform=" + value
                                + "': expected retransform=auto, retransform=on or retransform=off");
                    };
                    case "" -> { }
                    default -> throw new IllegalArgumentException("unknown aioco agent option '" + key
                            + "' (expected: verbose, dump=DIR, include=PREFIX[:PREFIX...], exclude=PREFIX[:PREFIX...],"
                            + " cache=DIR|off, probes, retransform=auto|on|off; java -jar aioco-agent.jar --help describes them)");
                }
            }
        }
        return new AgentOptions(verbose, dump, List.copyOf(includes), List.copyOf(excludes), cache, probes, retransform);
    }

    /**
     * @param xdgCacheHome the environment's {@code XDG_CACHE_HOME}, or null
     * @param userHome the {@code user.home} property, or null
     * @return the startup cache's folder when no {@code cache=} option says otherwise; null (no
     *     cache) when neither is set
     */
    static Path defaultCacheDirectory(String xdgCacheHome, String userHome) {
        try {
            if (xdgCacheHome != null && !xdgCacheHome.isEmpty()) {
                return Path.of(xdgCacheHome, "aioco", "agent");
            }
            return userHome == null || userHome.isEmpty() ? null : Path.of(userHome, ".cache", "aioco", "agent");
        } catch (RuntimeException e) {
            return null; // NOTE: a path the file system cannot take: no cache rather than no agent
        }
    }

    private static String require(String key, String value) {
        if (value == null || value.isEmpty()) {
            throw new IllegalArgumentException("aioco agent option '" + key + "' needs a value (" + key + "=...)");
        }
        return value;
    }

    private static List<String> prefixes(String value) {
        List<String> out = new ArrayList<>();
        for (String prefix : value.split(":")) {
            if (!prefix.isEmpty()) {
                out.add(prefix.replace('.', '/'));
            }
        }
        return out;
    }

    /** @param internalName a class name in internal form */
    boolean accepts(String internalName) {
        for (String exclude : excludes) {
            if (internalName.startsWith(exclude)) {
                return false;
            }
        }
        if (includes.isEmpty()) {
            return true;
        }
        for (String include : includes) {
            if (internalName.startsWith(include)) {
                return true;
            }
        }
        return false;
    }
}
