package io.aioco.agent;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The agent's options, from {@code -javaagent:aioco-agent.jar=OPTIONS}: a comma-separated list of
 * {@code verbose}, {@code dump=DIR}, {@code include=PREFIX[:PREFIX...]} and
 * {@code exclude=PREFIX[:PREFIX...]} (package or class name prefixes, dotted; {@code include} and
 * {@code exclude} may be repeated).
 *
 * @param verbose log every class rewritten
 * @param dumpDirectory where to write every rewritten class file, or null
 * @param includes when not empty, only classes whose name starts with one of these are instrumented
 * @param excludes classes whose name starts with one of these are never instrumented
 */
record AgentOptions(boolean verbose, Path dumpDirectory, List<String> includes, List<String> excludes) {

    static AgentOptions parse(String text) {
        boolean verbose = false;
        Path dump = null;
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
                    case "" -> { }
                    default -> throw new IllegalArgumentException("unknown aioco agent option '" + key
                            + "' (expected: verbose, dump=DIR, include=PREFIX[:PREFIX...], exclude=PREFIX[:PREFIX...])");
                }
            }
        }
        return new AgentOptions(verbose, dump, List.copyOf(includes), List.copyOf(excludes));
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
