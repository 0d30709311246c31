package io.aioco.maven;

import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code includes}/{@code excludes} of the mojos: patterns over binary class names
 * ({@code com.example.Outer$Inner}), where {@code **} matches any characters, {@code *} any
 * characters but a dot, and {@code ?} one character but a dot. A class is woven when it matches an
 * include (or there are none) and no exclude.
 */
final class ClassNamePatterns {
    private final List<Pattern> includes;
    private final List<Pattern> excludes;

    /**
     * @param includes patterns of the classes to weave; null or empty means all
     * @param excludes patterns of the classes never to weave; null means none
     * @throws IllegalArgumentException for an empty pattern
     */
    ClassNamePatterns(List<String> includes, List<String> excludes) {
        this.includes = compile(includes);
        this.excludes = compile(excludes);
    }

    private static List<Pattern> compile(List<String> patterns) {
        return patterns == null ? List.of() : patterns.stream().map(ClassNamePatterns::toRegex).toList();
    }

    private static Pattern toRegex(String pattern) {
        String trimmed = pattern == null ? "" : pattern.trim();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("empty class name pattern (expected e.g. com.example.** or"
                    + " com.example.*Service)");
        }
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < trimmed.length(); i++) {
            char c = trimmed.charAt(i);
            if (c == '*' && i + 1 < trimmed.length() && trimmed.charAt(i + 1) == '*') {
                regex.append(".*");
                i++;
            } else if (c == '*') {
                regex.append("[^.]*");
            } else if (c == '?') {
                regex.append("[^.]");
            } else {
                regex.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(regex.toString());
    }

    /**
     * @param className a binary class name, dotted
     * @return whether the class is to be woven
     */
    boolean accepts(String className) {
        for (Pattern exclude : excludes) {
            if (exclude.matcher(className).matches()) {
                return false;
            }
        }
        if (includes.isEmpty()) {
            return true;
        }
        for (Pattern include : includes) {
            if (include.matcher(className).matches()) {
                return true;
            }
        }
        return false;
    }
}
