package io.aioco.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code docs/diagnostics.md}, the index of every message the instrumenter, the agent, the Maven
 * plugin, the runtime and the test kit can print, covers every message in their code: each place that builds one
 * (an exception, a refusal, a diagnostic, a log line of level WARNING or ERROR, an error the
 * plugin or the check command prints) is found in the sources, and every literal piece of its text
 * (12 characters or more once trimmed) must appear in the index, so that a user who searches the
 * index for the words of a message finds its cause and its fix. A message added to the code
 * without an entry fails this test, naming the file, the line and the text to add.
 *
 * <p>Also: {@code docs/qemu-to-aioco.md} names every QEMU function and type that {@code
 * docs/API.md} maps, and the README links both documents.
 */
class DiagnosticsIndexTest {
    private static final Path ROOT = findRoot();
    private static final List<String> MODULES = List.of("runtime", "instrumenter", "agent", "maven-plugin", "test-kit");

    /** Where a message starts being built: the call's arguments hold its text. */
    private static final Pattern SINK = Pattern.compile(
            "new\\s+(?:[\\w.]+\\.)?\\w*(?:Exception|Error|Refusal)\\s*\\("
            + "|new\\s+Diagnostic\\s*\\("
            + "|\\b(?:error|warning|diagnostic)\\s*\\(\\s*owner\\b"
            + "|getLog\\(\\)\\.(?:warn|error)\\s*\\("
            + "|\\b(?:errors|warnings|failures|refusals)\\.add\\s*\\("
            + "|\\bout\\.println\\s*\\("
            + "|System\\.err\\.println\\s*\\("
            + "|\\blog\\s*\\(\\s*System\\.Logger\\.Level\\.(?:WARNING|ERROR)\\s*,"
            + "|\\blog\\s*\\(\\s*\"");

    /** A literal piece of a message shorter than this (trimmed) is not looked for: ": ", " in ". */
    static final int SIGNIFICANT = 12;

    private static Path findRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docs/API.md"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("docs/API.md not found above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    /** One message found in the code: where, and its text with each expression as {@code …}. */
    record Message(Path file, int line, String template, List<String> pieces) {
        @Override
        public String toString() {
            return (file.isAbsolute() ? ROOT.relativize(file) : file) + ":" + line + ": " + template;
        }
    }

    static List<Message> messages() throws IOException {
        List<Message> found = new ArrayList<>();
        for (String module : MODULES) {
            Path sources = ROOT.resolve(module).resolve("src/main/java");
            try (Stream<Path> files = Files.walk(sources)) {
                for (Path file : files.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                    found.addAll(messagesIn(file, Files.readString(file, StandardCharsets.UTF_8)));
                }
            }
        }
        return found;
    }

    static List<Message> messagesIn(Path file, String source) {
        String code = withoutComments(source);
        List<Message> found = new ArrayList<>();
        Matcher sink = SINK.matcher(code);
        while (sink.find()) {
            int open = sink.start() + sink.group().lastIndexOf('('); // NOTE: getLog().warn( has two
            int close = closing(code, open);
            String arguments = code.substring(open + 1, close);
            StringBuilder template = new StringBuilder();
            List<String> pieces = new ArrayList<>();
            StringBuilder piece = null;
            int i = 0;
            boolean afterLiteral = false;
            while (i < arguments.length()) {
                char c = arguments.charAt(i);
                if (c == '"') {
                    int end = endOfString(arguments, i);
                    String text = unescape(arguments.substring(i + 1, end));
                    if (piece == null) {
                        piece = new StringBuilder();
                    }
                    piece.append(text);
                    template.append(text);
                    i = end + 1;
                    afterLiteral = true;
                    continue;
                }
                if (Character.isWhitespace(c) || (c == '+' && afterLiteral && nextIsLiteral(arguments, i + 1))) {
                    i++;
                    continue;
                }
                if (piece != null) {
                    pieces.add(piece.toString());
                    piece = null;
                    if (!template.toString().endsWith("…")) {
                        template.append('…');
                    }
                } else if (template.length() > 0 && !template.toString().endsWith("…") && c != ',' && c != '+') {
                    template.append('…');
                }
                afterLiteral = false;
                i++;
            }
            if (piece != null) {
                pieces.add(piece.toString());
            }
            List<String> significant = pieces.stream().map(DiagnosticsIndexTest::trim)
                    .filter(p -> p.length() >= SIGNIFICANT).toList();
            if (!significant.isEmpty()) {
                int line = (int) code.substring(0, sink.start()).chars().filter(ch -> ch == '\n').count() + 1;
                found.add(new Message(file, line, template.toString().replaceAll("…+", "…").strip(), significant));
            }
        }
        return found;
    }

    private static boolean nextIsLiteral(String text, int from) {
        int i = from;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i < text.length() && text.charAt(i) == '"';
    }

    /** @return the piece without the spaces and punctuation at its ends, white space runs as one space */
    static String trim(String piece) {
        return normalize(piece).replaceAll("^[\\s:;,.(){}\\[\\]'\"=+-]+|[\\s:;,.(\\[{'\"=+-]+$", "");
    }

    static String normalize(String text) {
        return text.replaceAll("\\s+", " ");
    }

    private static int closing(String code, int open) {
        int depth = 0;
        for (int i = open; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '"') {
                i = endOfString(code, i);
            } else if (c == '\'') {
                i = code.indexOf('\'', i + (code.charAt(i + 1) == '\\' ? 3 : 2));
            } else if (c == '(') {
                depth++;
            } else if (c == ')' && --depth == 0) {
                return i;
            }
        }
        throw new IllegalStateException("unbalanced parentheses after offset " + open);
    }

    private static int endOfString(String code, int quote) {
        for (int i = quote + 1; i < code.length(); i++) {
            char c = code.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '"') {
                return i;
            }
        }
        throw new IllegalStateException("unterminated string at offset " + quote);
    }

    private static String unescape(String literal) {
        return literal.replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"").replace("\\'", "'")
                .replace("\\\\", "\\");
    }

    /** The code with its comments blanked out (line breaks kept, so that line numbers stay). */
    static String withoutComments(String source) {
        StringBuilder out = new StringBuilder(source.length());
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            if (source.startsWith("\"\"\"", i)) {
                int end = source.indexOf("\"\"\"", i + 3);
                out.append(source, i, end + 3);
                i = end + 3;
            } else if (c == '"') {
                int end = endOfString(source, i);
                out.append(source, i, end + 1);
                i = end + 1;
            } else if (c == '\'') {
                int end = source.indexOf('\'', i + (source.charAt(i + 1) == '\\' ? 3 : 2));
                out.append(source, i, end + 1);
                i = end + 1;
            } else if (source.startsWith("//", i)) {
                while (i < source.length() && source.charAt(i) != '\n') {
                    i++;
                }
            } else if (source.startsWith("/*", i)) {
                int end = source.indexOf("*/", i + 2);
                for (int j = i; j < end + 2; j++) {
                    out.append(source.charAt(j) == '\n' ? '\n' : ' ');
                }
                i = end + 2;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static String read(String path) throws IOException {
        return Files.readString(ROOT.resolve(path), StandardCharsets.UTF_8);
    }

    @Test
    void everyMessageInTheCodeHasAnEntryInTheIndex() throws IOException {
        String index = normalize(read("docs/diagnostics.md"));
        List<Message> messages = messages();
        Set<String> missing = new LinkedHashSet<>();
        for (Message message : messages) {
            for (String piece : message.pieces()) {
                if (!index.contains(piece)) {
                    missing.add(message + "\n    missing: \"" + piece + "\"");
                }
            }
        }
        if (!missing.isEmpty()) {
            fail(missing.size() + " message(s) have no entry in docs/diagnostics.md: add each to the entry of its"
                    + " cause (or a new entry, with its cause and its fix):\n" + String.join("\n", missing));
        }
    }

    /** The scanner itself finds what it must: messages of each kind, in each module. */
    @Test
    void theScannerFindsTheMessagesOfEveryKind() throws IOException {
        List<Message> messages = messages();
        assertTrue(messages.size() > 100, messages.size() + " messages: " + messages);
        for (String module : MODULES) {
            assertTrue(messages.stream().anyMatch(m -> m.file().startsWith(ROOT.resolve(module))), module);
        }
        for (String expected : List.of("call to coroutine function", "scheduled after delete()",
                "cleared an interrupt status left by a callback", "carry aioco's marker",
                "needs aioco-runtime", "cannot be a coroutine function; remove @CoroutineFn",
                "ignoring the startup cache", "returned with work left on its context")) {
            assertTrue(messages.stream().anyMatch(m -> m.template().contains(expected)), expected);
        }
        List<Message> sample = messagesIn(Path.of("X.java"), "class X { void f() { // new IllegalStateException(\"in a comment\")\n"
                + " throw new IllegalStateException(\"cannot enter \" + this + \": it has\" \n + \" terminated, see\" + x); } }");
        assertEquals(1, sample.size(), sample.toString());
        assertEquals("cannot enter …: it has terminated, see…", sample.get(0).template());
        assertEquals(List.of("cannot enter", "it has terminated, see"), sample.get(0).pieces());
        assertEquals(2, sample.get(0).line());
    }

    /** Every QEMU name API.md maps (in its comments) is in the QEMU-to-aioco table. */
    @Test
    void theQemuTableNamesEveryQemuNameOfTheApi() throws IOException {
        Pattern qemuName = Pattern.compile("\\b(?:qemu_[a-z0-9_]+|aio_[a-z0-9_]+|timer_[a-z0-9_]+"
                + "|event_notifier_[a-z0-9_]+|thread_pool_[a-z0-9_]+|main_loop_wait|qio_channel_yield"
                + "|QEMU[A-Z][A-Za-z]*|Qemu[A-Z][A-Za-z]*|Co(?:Mutex|Queue|Rwlock)|coroutine_fn)\\b");
        Set<String> names = new TreeSet<>();
        for (String line : read("docs/API.md").split("\n")) {
            int comment = line.indexOf("//");
            if (comment >= 0) {
                Matcher name = qemuName.matcher(line.substring(comment));
                while (name.find()) {
                    names.add(name.group());
                }
            }
        }
        assertTrue(names.size() > 60, names.toString());
        String table = read("docs/qemu-to-aioco.md");
        List<String> missing = names.stream().filter(name -> !table.contains("`" + name)).toList();
        assertEquals(List.of(), missing, "QEMU names of docs/API.md missing from docs/qemu-to-aioco.md");
    }

    @Test
    void theReadmeLinksTheIndexAndTheTableAndNothingOutsideTheRepository() throws IOException {
        String readme = read("README.md");
        assertTrue(readme.contains("(docs/diagnostics.md)"), "README links docs/diagnostics.md");
        assertTrue(readme.contains("(docs/qemu-to-aioco.md)"), "README links docs/qemu-to-aioco.md");
        for (String doc : List.of("README.md", "docs/diagnostics.md", "docs/qemu-to-aioco.md")) {
            assertTrue(!read(doc).contains("/work/"), doc + " names a path outside the repository");
            Matcher link = Pattern.compile("\\]\\(([^)]+)\\)").matcher(read(doc));
            while (link.find()) {
                String target = link.group(1);
                assertTrue(!target.contains("://") && !target.startsWith("/"), doc + " links outside: " + target);
                String file = target.replaceAll("#.*", "");
                if (!file.isEmpty()) {
                    Path base = ROOT.resolve(doc).getParent();
                    assertTrue(Files.exists(base.resolve(file)), doc + " links a missing file: " + target);
                }
            }
        }
    }
}
