package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.Coroutine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The coroutine dump on the showcase (issue 17, item 8): with a client connected and idle, the
 * connection's coroutine, named {@code nbd-conn /HOST:PORT}, is listed suspended in {@code
 * Connection.readHeader} at the line that waits for the next request (found in the source by its
 * comment), called from {@code transmit}. The tests run under the agent with its probes, as
 * {@code bin/aioco-nbd} does (pom.xml).
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ConnectionDumpTest extends NbdServerFixture {
    private static final Path SOURCE = Path.of("src/main/java/io/aioco/examples/nbd/Connection.java");

    /** @return the line of Connection.java that ends with {@code comment} (once) */
    private static int line(String comment) throws IOException {
        List<String> lines = Files.readAllLines(SOURCE);
        int found = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).endsWith(comment)) {
                assertEquals(-1, found, comment + " twice");
                found = i + 1;
            }
        }
        assertTrue(found > 0, "no line ending with " + comment);
        return found;
    }

    private static String dump() throws IOException {
        StringBuilder out = new StringBuilder();
        Coroutine.dump(out);
        return out.toString();
    }

    /** @return the lines of the coroutine block whose header starts with {@code header}, or null */
    private static List<String> block(String dump, String header) {
        int start = dump.indexOf("\n" + header);
        if (start < 0) {
            return null;
        }
        int end = dump.indexOf("\n\n", start + 1);
        return Arrays.asList(dump.substring(start + 1, end < 0 ? dump.length() : end).split("\n"));
    }

    @Test
    void anIdleConnectionsCoroutineIsListedWaitingForTheNextRequestInConnectionJava() throws Exception {
        start(false, 1);
        try (NbdTestClient client = client()) {
            client.connect("disk", true);
            assertEquals(512, client.read(0, 512).length); // one request served: in transmission
            String header = "\"nbd-conn /127.0.0.1:" + client.localPort() + "\" Coroutine@";
            String wait = "\tat io.aioco.examples.nbd.Connection.readHeader(Connection.java:"
                    + line("// waits here for the next request (dumps show this line)") + ")";

            // NOTE: the reply went out before the connection's coroutine suspends again: look until it has
            String dump = dump();
            List<String> lines = block(dump, header);
            while (lines == null || !lines.contains(wait)) {
                Thread.onSpinWait(); // NOTE: the class's @Timeout ends a wait that never comes
                dump = dump();
                lines = block(dump, header);
            }

            assertTrue(lines.get(0).matches(java.util.regex.Pattern.quote(header)
                    + "[0-9a-f]+ context=.* thread=\"[^\"]+\" last ran .* ago"), lines.get(0));
            assertTrue(lines.get(1).startsWith("   state: SUSPENDED, waiting for ")
                    && lines.get(1).endsWith(" to become readable"), String.join("\n", lines));
            assertEquals("\tat io.aioco.Coroutine.yieldUntilReadable(Coroutine.java)", lines.get(2));
            assertEquals("\tat io.aioco.examples.nbd.SocketIo.awaitReadable(SocketIo.java:"
                    + lineOf("src/main/java/io/aioco/examples/nbd/SocketIo.java", "Coroutine.yieldUntilReadable(channel);")
                    + ")", lines.get(3));
            int at = lines.indexOf(wait);
            assertEquals("\tat io.aioco.examples.nbd.Connection.transmit(Connection.java:"
                    + line("int header = readHeader(); // the next request") + ")", lines.get(at + 1));
            assertTrue(lines.get(at + 2).startsWith("\tat io.aioco.examples.nbd.Connection.serve(Connection.java:"),
                    String.join("\n", lines));
            client.close();
            awaitClosed(client); // NOTE: ended before the server closes (no close request crossing its end)
        }
    }

    /** @return the only line of {@code file} that contains {@code text} */
    private static int lineOf(String file, String text) throws IOException {
        List<String> lines = Files.readAllLines(Path.of(file));
        int found = -1;
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(text)) {
                assertEquals(-1, found, text + " twice in " + file);
                found = i + 1;
            }
        }
        assertTrue(found > 0, text + " not in " + file);
        return found;
    }
}
