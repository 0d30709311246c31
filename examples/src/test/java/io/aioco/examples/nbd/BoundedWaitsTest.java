package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import io.aioco.ClockType;
import io.aioco.ThreadPool;
import java.io.IOException;
import java.nio.channels.ServerSocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Bounded waits in the showcase (issue 16, item 6; issue 14's leftovers): a client that leaves has
 * its requests cancelled, the handshake and idle connections time out, a reply the client does not
 * read ends the connection, and the buffers a connection keeps for reuse count against the budget.
 * Timeouts run on the VIRTUAL clock, paused, and move only when the test advances it, after an
 * explicit signal that the deadline is armed; disk operations are held on a gate, never timed.
 */
class BoundedWaitsTest extends NbdServerFixture {
    private static final long SECOND = 1_000_000_000L;
    private boolean virtualPaused;

    /** An export gate for one command: its operations wait until it opens; counts them. */
    static final class Gate implements Export.FaultInjector {
        final int command;
        final CountDownLatch open = new CountDownLatch(1);
        final Semaphore entered = new Semaphore(0);
        final AtomicInteger enteredCount = new AtomicInteger();

        Gate(int command) {
            this.command = command;
        }

        @Override
        public void beforeIo(int cmd, long offset, long length) throws IOException {
            if (cmd != command) {
                return;
            }
            enteredCount.incrementAndGet();
            entered.release();
            try {
                if (!open.await(TIMEOUT_S, TimeUnit.SECONDS)) {
                    throw new IOException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            }
        }
    }

    /** A server on the paused VIRTUAL clock: its timeouts expire only when the test advances it. */
    private NbdServer startVirtual(int ioThreads, String... options) throws IOException {
        ClockType.pauseVirtual();
        virtualPaused = true;
        return start(ServerSocketChannel::accept, ClockType.VIRTUAL, false, ioThreads, options);
    }

    @AfterEach
    void resumeVirtual() {
        if (virtualPaused) {
            ClockType.resumeVirtual();
        }
    }

    /** Runs one callback on each serving context and waits for it: whatever ran before there is done. */
    private void settle() throws Exception {
        for (AioContext ctx : server.servingContexts()) {
            CompletableFuture<Void> passed = new CompletableFuture<>();
            ctx.scheduleOneshot(() -> passed.complete(null));
            passed.get(TIMEOUT_S, TimeUnit.SECONDS);
        }
    }

    /** Waits until the work submitted to {@code pool} so far has run (the pool has one worker). */
    private static void drain(ThreadPool pool) throws Exception {
        CompletableFuture<Void> ran = new CompletableFuture<>();
        pool.submit(() -> ran.complete(null));
        ran.get(TIMEOUT_S, TimeUnit.SECONDS);
    }

    @Test
    void aClientThatLeavesHasItsRequestsCancelledAndEveryBufferComesBack() throws Exception {
        start(false, 0);
        ThreadPool pool = server.servingContexts().get(0).threadPool();
        pool.setMaxWorkers(1); // one read runs, the others wait in the pool's queue
        Gate gate = new Gate(Nbd.CMD_READ);
        export.injectFaults(gate);
        NbdTestClient c = client();
        c.connect("disk", true);
        for (int i = 0; i < 8; i++) {
            c.queue(0, Nbd.CMD_READ, i, i * (1L << 20), 1 << 20, null);
        }
        c.flush();
        assertTrue(gate.entered.tryAcquire(1, TIMEOUT_S, TimeUnit.SECONDS));
        c.vanish(false); // gone, with 8 requests in flight: one reading, seven queued
        String closed = awaitClosed(c); // while the running read still waits on the gate
        assertTrue(closed.endsWith("client closed the connection without NBD_CMD_DISC"), closed);
        settle();
        assertEquals(0, server.activeConnections());
        assertEquals(0, server.openConnections(), "no coroutine of the connection is left");
        assertEquals(1L << 20, server.budget().reserved(),
                "only the read still running holds its buffer (a worker writes into it)");
        gate.open.countDown();
        drain(pool);
        assertEquals(1, gate.enteredCount.get(), "the seven queued reads were dropped, not run");
        assertEquals(0, server.budget().reserved(), "the running read's buffer came back when it was done");
        try (NbdTestClient next = client()) { // the pool and the loop go on serving
            next.connect("disk", true);
            assertOk(next.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void aDisconnectRequestStillServesTheRequestsInFlight() throws Exception {
        start(false, 0);
        Gate gate = new Gate(Nbd.CMD_WRITE);
        export.injectFaults(gate);
        byte[] data = pattern(65536, 7);
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            c.send(0, Nbd.CMD_WRITE, 1, 8192, data.length, data);
            assertTrue(gate.entered.tryAcquire(1, TIMEOUT_S, TimeUnit.SECONDS));
            c.send(0, Nbd.CMD_DISC, 2, 0, 0, null);
            awaitLog(line -> line.contains("NBD_CMD_DISC with 1 requests in flight: serving them first"));
            gate.open.countDown();
            NbdTestClient.Reply reply = c.readReply(); // served and answered, not cancelled
            assertOk(reply);
            assertEquals(1, reply.cookie());
            String closed = awaitClosed(c);
            assertTrue(closed.contains("1 requests (0 failed)") && closed.endsWith("(NBD_CMD_DISC)"), closed);
        }
        assertArrayEquals(data, fileBytes(8192, data.length), "the write in flight was done, as the protocol says");
    }

    @Test
    void aClientThatDoesNotFinishTheHandshakeInTimeIsDropped() throws Exception {
        startVirtual(0); // the default --handshake-timeout: 10 s, as QEMU's
        try (NbdTestClient slow = client(); NbdTestClient silent = client()) {
            slow.readGreeting(); // the greeting goes out after the deadline is armed
            silent.readGreeting();
            ClockType.advanceVirtualNs(10 * SECOND - 1);
            slow.finishConnect("disk", true); // just in time: its deadline is gone with the handshake
            ClockType.advanceVirtualNs(1);
            assertTrue(silent.serverClosed(), "the silent client sees the end of the stream");
            String closed = awaitClosed(silent);
            assertTrue(closed.endsWith("dropped: handshake not finished within 10 s (--handshake-timeout)"), closed);
            ClockType.advanceVirtualNs(60 * SECOND);
            assertOk(slow.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void anIdleConnectionIsClosedAndABusyOrActiveOneIsNot() throws Exception {
        startVirtual(2, "--idle-timeout", "30");
        Gate gate = new Gate(Nbd.CMD_READ);
        export.injectFaults(gate);
        NbdTestClient busyClient;
        try (NbdTestClient idle = client(); NbdTestClient busy = client(); NbdTestClient active = client()) {
            busyClient = busy;
            idle.connect("disk", true);
            busy.connect("disk", true);
            active.connect("disk", true);
            busy.send(0, Nbd.CMD_READ, 1, 0, 4096, null);
            assertTrue(gate.entered.tryAcquire(1, TIMEOUT_S, TimeUnit.SECONDS)); // in flight from now on
            assertOk(active.call(0, Nbd.CMD_FLUSH, 0, 0, null));
            ClockType.advanceVirtualNs(29 * SECOND);
            assertOk(active.call(0, Nbd.CMD_FLUSH, 0, 0, null)); // its idle time starts again
            ClockType.advanceVirtualNs(SECOND);
            assertTrue(idle.serverClosed(), "30 s with nothing in flight and nothing arriving");
            String closed = awaitClosed(idle);
            assertTrue(closed.endsWith(": idle for 30 s (--idle-timeout)"), closed);
            ClockType.advanceVirtualNs(60 * SECOND); // the busy one has had a read in flight all along
            gate.open.countDown();
            NbdTestClient.Reply reply = busy.readReply();
            assertOk(reply);
            assertEquals(1, reply.cookie());
            assertOk(busy.call(0, Nbd.CMD_FLUSH, 0, 0, null));
            assertTrue(active.serverClosed(), "idle for 60 s since its last request: closed too");
        }
        awaitClosed(busyClient);
        settle();
        assertEquals(0, server.budget().reserved());
    }

    @Test
    void aClientThatNeverReadsItsReplyIsDroppedAtTheWriteDeadlineAndItsBudgetComesBack() throws Exception {
        startVirtual(0, "--write-timeout", "30");
        NbdTestClient stalled = new NbdTestClient(server.address(), 4096);
        try (stalled) {
            stalled.connect("disk", true);
            for (int i = 0; i < 4; i++) { // and never reads: the first reply fills the socket
                stalled.queue(0, Nbd.CMD_READ, i, 0, (int) SIZE, null);
            }
            stalled.flush();
            awaitLog(line -> line.contains("a reply waits for the client to read (write deadline armed)"));
            assertTrue(server.budget().reserved() >= SIZE, "the stalled reply holds its buffer");
            ClockType.advanceVirtualNs(30 * SECOND);
            String closed = awaitClosed(stalled);
            assertTrue(closed.contains(": dropped: the client took in no whole reply within 30 s (--write-timeout)"),
                    closed);
            assertTrue(stalled.serverClosed());
        }
        settle();
        assertEquals(0, server.activeConnections());
        assertEquals(0, server.budget().reserved(), "every buffer of the stalled client came back");
    }

    @Test
    void aWritePayloadThatStallsIsBoundedByTheWriteTimeoutAndFreesTheBudgetForOthers() throws Exception {
        startVirtual(0, "--write-timeout", "30", "--buffer-budget", "32M"); // no --idle-timeout: nothing else bounds it
        List<NbdTestClient> stallers = new ArrayList<>();
        try (NbdTestClient reader = client()) {
            for (int i = 0; i < 2; i++) { // each announces a maximal WRITE, sends one byte of it and stops
                NbdTestClient staller = client();
                stallers.add(staller);
                staller.connect("disk", true);
                staller.send(0, Nbd.CMD_WRITE, i, 0, Nbd.MAX_PAYLOAD, new byte[1]);
            }
            reader.connect("disk", true);
            reader.send(0, Nbd.CMD_READ, 7, 0, 4096, null);
            awaitLog(line -> line.contains("buffer budget spent (" + (2L * Nbd.MAX_PAYLOAD) + " of "));
            ClockType.advanceVirtualNs(30 * SECOND);
            for (NbdTestClient staller : stallers) {
                String closed = awaitClosed(staller);
                assertTrue(closed.contains(": dropped: a WRITE payload of 33554432 bytes not received within 30 s "
                        + "(--write-timeout)"), closed);
                assertTrue(staller.serverClosed());
            }
            NbdTestClient.Reply reply = reader.readReply(); // the stallers held the budget back until then only
            assertEquals(7, reply.cookie());
            assertOk(reply);
        } finally {
            for (NbdTestClient staller : stallers) {
                staller.close();
            }
        }
        settle();
        assertEquals(0, server.budget().reserved() - server.budget().keptBytes(), "no request holds a buffer");
    }

    @Test
    void theTimeoutOptionsHaveQemusDefaultsAndAreDocumentedInTheHelp() {
        ServerOptions defaults = ServerOptions.parse();
        assertEquals(10, defaults.handshakeTimeoutSeconds, "QEMU's NBD_DEFAULT_HANDSHAKE_MAX_SECS");
        assertEquals(0, defaults.idleTimeoutSeconds, "off unless asked for");
        assertEquals(60, defaults.writeTimeoutSeconds);
        ServerOptions set = ServerOptions.parse("--handshake-timeout", "0", "--idle-timeout=300", "--write-timeout", "5");
        assertEquals(0, set.handshakeTimeoutSeconds);
        assertEquals(300, set.idleTimeoutSeconds);
        assertEquals(5, set.writeTimeoutSeconds);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerOptions.parse("--idle-timeout", "-1"));
        assertEquals("--idle-timeout: -1 (expected: an integer in 0..31622400)", e.getMessage());
        for (String option : new String[] {"--handshake-timeout SECONDS", "--idle-timeout SECONDS",
                "--write-timeout SECONDS"}) {
            assertTrue(ServerOptions.USAGE.contains(option), option);
        }
    }

    @Test
    void buffersKeptForReuseCountAgainstTheBudgetAndGoBackWhenTheConnectionEnds() throws Exception {
        start(false, 0);
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            assertOk(c.call(0, Nbd.CMD_READ, 0, 1 << 20, null));
            settle(); // the request gave its buffer to the connection's pool after the reply
            assertEquals(1L << 20, server.budget().reserved(), "the kept 1 MiB buffer is counted");
        }
        awaitLog(line -> line.contains(" closed after "));
        settle();
        assertEquals(0, server.budget().reserved(), "and given back when the connection ended");
    }

    @Test
    void buffersKeptByAnIdleConnectionAreGivenBackWhenAnotherNeedsTheBudget() throws Exception {
        start(false, 2, "--buffer-budget", "32M");
        Gate gate = new Gate(Nbd.CMD_READ);
        try (NbdTestClient keeper = client(); NbdTestClient reader = client()) {
            keeper.connect("disk", true);
            reader.connect("disk", true);
            assertOk(keeper.call(0, Nbd.CMD_READ, 0, 16 << 20, null));
            settle();
            assertEquals(16L << 20, server.budget().reserved(), "the keeper's pool holds 16 MiB of the 32");
            export.injectFaults(gate);
            reader.queue(0, Nbd.CMD_READ, 1, 0, 16 << 20, null); // its first: beyond the limit if need be
            reader.queue(0, Nbd.CMD_READ, 2, 0, 16 << 20, null); // its second: needs the keeper's 16 MiB
            reader.flush();
            assertTrue(gate.entered.tryAcquire(2, TIMEOUT_S, TimeUnit.SECONDS),
                    "both reads run: the idle keeper gave its kept buffer back");
            assertEquals(32L << 20, server.budget().reserved());
            gate.open.countDown();
            assertOk(reader.readReply());
            assertOk(reader.readReply());
            assertOk(keeper.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
        assertFalse(server.budget().peak() > server.budget().ceiling(), "bounded: " + server.budget().peak());
    }
}
