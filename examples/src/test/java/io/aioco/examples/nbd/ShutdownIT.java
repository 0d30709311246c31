package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code SIGTERM} of {@code bin/aioco-nbd} (what {@link Process#destroy()} sends; Ctrl-C's SIGINT
 * runs the same shutdown hook) closes the server before the process exits: every client, idle, in the
 * handshake or with a reply it never reads, is ended by the server (one closing line each, "closed
 * by the server"), and the process exits promptly with the code of the signal. The waits are on
 * explicit signals: the end of each client's stream, the process's exit, the lines it printed.
 */
class ShutdownIT {

    @ParameterizedTest(name = "iothreads {0}")
    @ValueSource(ints = {0, 2})
    void sigtermClosesEveryClientThenTheProcessExits(int ioThreads) throws Exception {
        try (LaunchedServer server = LaunchedServer.start("--export-name", "disk", "--iothreads",
                String.valueOf(ioThreads))) {
            InetSocketAddress address = new InetSocketAddress("127.0.0.1", server.port());
            try (NbdTestClient idle = new NbdTestClient(address);
                 NbdTestClient negotiating = new NbdTestClient(address);
                 NbdTestClient stalled = new NbdTestClient(address, 4096)) {
                idle.connect("disk", true);
                assertEquals(4096, idle.read(0, 4096).length);
                negotiating.greet(); // in the handshake: the server waits for an option
                stalled.connect("disk", true);
                for (int i = 0; i < 4; i++) { // and never reads: a reply waits for room in the socket
                    stalled.queue(0, Nbd.CMD_READ, i, 0, 8 << 20, null);
                }
                stalled.flush();
                assertEquals(4096, idle.read(4096, 4096).length, "the server serves the others meanwhile");
                // SIGTERM, as Process.destroy() sends, but through the handle: destroy() would also close
                // our end of the server's output, and the lines it prints while shutting down are checked
                assertTrue(server.process().toHandle().destroy());
                assertTrue(idle.serverClosed(), "the idle client sees the end of the stream");
                assertTrue(negotiating.serverClosed(), "the negotiating client too");
                assertTrue(stalled.serverClosed(), "and the one that never read its replies");
                assertTrue(server.process().waitFor(60, TimeUnit.SECONDS), "exited:\n" + server.output());
                int exit = server.process().exitValue();
                assertTrue(exit == 143 || exit == 0, "exit code " + exit + ":\n" + server.output());
            }
            List<String> shutdown = server.awaitLines(line -> line.contains("shutting down: closing 3 connections"), 1);
            assertEquals(1, shutdown.size(), server.output());
            List<String> closed = server.awaitLines(line -> line.contains(" closed after ")
                    && line.endsWith(": " + Connection.CLOSED_BY_SERVER), 3);
            assertEquals(3, closed.size(), "one line per client, each closed by the server:\n" + server.output());
        }
    }
}
