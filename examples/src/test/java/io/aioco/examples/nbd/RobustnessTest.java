package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.ClockType;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A client cannot wedge the server (issue 14, items 4 to 6): requests in flight are bounded per
 * client and by a server-wide buffer budget, with back-pressure; anything thrown while serving ends
 * only that connection, cleanly; {@code close()} ends every client; a failing {@code accept} pauses
 * instead of spinning. Disk operations are held on a gate in the export, never timed.
 */
class RobustnessTest extends NbdServerFixture {

    /** An export gate: reads wait until it opens; counts how many entered and the most at once. */
    static final class ReadGate implements Export.FaultInjector {
        final CountDownLatch open = new CountDownLatch(1);
        final Semaphore entered = new Semaphore(0);
        final AtomicInteger enteredCount = new AtomicInteger();
        final AtomicInteger now = new AtomicInteger();
        final AtomicInteger most = new AtomicInteger();

        @Override
        public void beforeIo(int command, long offset, long length) throws IOException {
            if (command != Nbd.CMD_READ) {
                return;
            }
            enteredCount.incrementAndGet();
            most.accumulateAndGet(now.incrementAndGet(), Math::max);
            entered.release();
            try {
                if (!open.await(TIMEOUT_S, TimeUnit.SECONDS)) {
                    throw new IOException("the test never opened the gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            } finally {
                now.decrementAndGet();
            }
        }
    }

    @Test
    void anErrorThrownWhileServingARequestEndsOnlyThatConnectionCleanly() throws Exception {
        start(false, 0);
        export.injectFaults((command, offset, length) -> {
            if (command == Nbd.CMD_READ && offset == 1 << 20) {
                throw new OutOfMemoryError("Direct buffer memory");
            }
        });
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            byte[] data = pattern(65536, 1);
            assertOk(c.call(0, Nbd.CMD_WRITE, 0, data.length, data));
            for (int i = 0; i < 8; i++) { // requests beside the failing one are in flight too
                c.queue(0, Nbd.CMD_READ, 100 + i, 0, 65536, null);
            }
            c.send(0, Nbd.CMD_READ, 1, 1 << 20, 1 << 20, null);
            assertTrue(c.serverClosed(), "the client sees the end of the stream");
            String closed = awaitClosed(c);
            assertTrue(closed.contains("internal error in READ offset 1048576 length 1048576: "
                    + "java.lang.OutOfMemoryError: Direct buffer memory at "), closed);
        }
        assertEquals(0, server.activeConnections());
        awaitBudgetReleased(); // the reads beside the failing one may end on their workers after the connection
        assertEquals(0, server.budget().reserved(), "every buffer went back");
        try (NbdTestClient c = client()) { // the loop survived: the next client is served
            c.connect("disk", true);
            assertOk(c.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void aClientHasAtMostSixteenRequestsInFlightAndTheReaderWaitsForTheRest() throws Exception {
        start(false, 0);
        ReadGate gate = new ReadGate();
        export.injectFaults(gate);
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            int count = 40;
            for (int i = 0; i < count; i++) {
                c.queue(0, Nbd.CMD_READ, i, i * 4096L, 4096, null);
            }
            c.flush();
            assertTrue(gate.entered.tryAcquire(16, TIMEOUT_S, TimeUnit.SECONDS));
            awaitLog(line -> line.contains("16 requests in flight, reading paused"));
            assertEquals(16, gate.enteredCount.get(), "QEMU's MAX_NBD_REQUESTS: no 17th while 16 are in flight");
            gate.open.countDown();
            Set<Long> cookies = new HashSet<>();
            for (int i = 0; i < count; i++) {
                NbdTestClient.Reply reply = c.readReply();
                assertOk(reply);
                cookies.add(reply.cookie());
            }
            assertEquals(count, cookies.size());
            c.close();
            awaitClosed(c); // its pool's kept buffers count against the budget until it ends
        }
        assertEquals(16, gate.most.get());
        assertEquals(0, server.budget().reserved());
    }

    @Test
    void theBufferBudgetHoldsEveryClientsRequestsBackInsteadOfFailingThem() throws Exception {
        start(false, 2, "--buffer-budget", "64M"); // a share of 32M per connection
        ReadGate gate = new ReadGate();
        export.injectFaults(gate);
        try (NbdTestClient a = client(); NbdTestClient b = client(); NbdTestClient c = client()) {
            a.connect("disk", true);
            b.connect("disk", true);
            c.connect("disk", true);
            for (int i = 0; i < 6; i++) { // 48 MiB asked, a share of 32 MiB: four in, the fifth waits
                a.queue(0, Nbd.CMD_READ, i, 0, 8 << 20, null);
            }
            a.flush();
            assertTrue(gate.entered.tryAcquire(4, TIMEOUT_S, TimeUnit.SECONDS));
            awaitLog(line -> line.contains("its share of the buffer budget spent (33554432 of 33554432"));
            for (int i = 0; i < 6; i++) { // the other half of the budget: four in, the fifth waits
                b.queue(0, Nbd.CMD_READ, 10 + i, 0, 8 << 20, null);
            }
            b.flush();
            assertTrue(gate.entered.tryAcquire(4, TIMEOUT_S, TimeUnit.SECONDS));
            awaitLog(line -> line.contains("its share of the buffer budget spent (33554432 of 33554432"));
            c.send(0, Nbd.CMD_READ, 98, 0, 4096, null); // holds nothing: its first request gets in anyway
            assertTrue(gate.entered.tryAcquire(1, TIMEOUT_S, TimeUnit.SECONDS));
            c.send(0, Nbd.CMD_READ, 99, 0, 4096, null); // holds something: waits for the budget
            awaitLog(line -> line.contains("buffer budget spent (" + ((64 << 20) + 4096) + " of " + (64 << 20)));
            assertEquals(9, gate.enteredCount.get(), "nothing beyond the shares and c's first request was served");
            gate.open.countDown();
            for (NbdTestClient client : List.of(a, b)) {
                for (int i = 0; i < 6; i++) {
                    NbdTestClient.Reply reply = client.readReply();
                    assertOk(reply);
                    assertEquals((8 << 20) + 8, reply.data().length);
                }
            }
            assertOk(c.readReply());
            assertOk(c.readReply());
            Set<String> ends = new HashSet<>(); // kept buffers count against the budget until their connections end
            for (NbdTestClient client : List.of(a, b, c)) {
                client.close();
                ends.add(":" + client.localPort() + " on ");
            }
            for (int i = 0; i < 3; i++) {
                awaitLog(line -> line.contains(" closed after ") && ends.stream().anyMatch(line::contains));
            }
        }
        assertEquals((64L << 20) + 4096, server.budget().peak(), "the budget plus c's first request, never more");
        assertEquals(0, server.budget().reserved(), "and all of it came back");
    }

    @Test
    void aClientThatNeverReadsItsRepliesStallsOnlyItself() throws Exception {
        start(false, 2, "--buffer-budget", "32M"); // the least: two replies of the whole disk spend it
        NbdTestClient a = new NbdTestClient(server.address(), 4096);
        Set<String> ends = new HashSet<>();
        try (a) {
            a.connect("disk", true);
            for (int i = 0; i < 16; i++) { // and never reads a reply: the first blocks in the socket
                a.queue(0, Nbd.CMD_READ, i, 0, (int) SIZE, null);
            }
            a.flush();
            awaitLog(line -> line.contains("reading paused")); // its second READ waits for room
            try (NbdTestClient b = client(); NbdTestClient c = client()) {
                b.connect("disk", true);
                c.connect("disk", true);
                b.send(0, Nbd.CMD_READ, 99, 0, 4096, null);
                NbdTestClient.Reply reply = b.readReply(); // the client's timeout fails a wedged server
                assertOk(reply);
                assertEquals(99, reply.cookie());
                assertOk(c.call(0, Nbd.CMD_FLUSH, 0, 0, null));
                assertOk(c.call(0, Nbd.CMD_READ, 0, 1 << 20, null));
                ends.add(":" + b.localPort() + " on ");
                ends.add(":" + c.localPort() + " on ");
            }
            assertTrue(server.budget().peak() <= server.budget().ceiling(), "bounded: " + server.budget().peak());
        }
        ends.add(":" + a.localPort() + " on ");
        for (int i = 0; i < 3; i++) { // every closing line is logged once its requests are done
            awaitLog(line -> line.contains(" closed after ") && ends.stream().anyMatch(line::contains));
        }
        awaitBudgetReleased(); // NOTE: a READ cancelled on a worker gives its share back when the worker is done
        assertEquals(0, server.budget().reserved(), "the stalled client's share came back when it left");
    }

    @ParameterizedTest(name = "iothreads {0}")
    @ValueSource(ints = {0, 2})
    void closeEndsEveryClientWhoSeesTheEndOfTheStreamAndWaitsForTheirCoroutines(int ioThreads) throws Exception {
        start(false, ioThreads);
        try (NbdTestClient idle = client(); NbdTestClient negotiating = client(); NbdTestClient busy = client()) {
            idle.connect("disk", true);
            negotiating.greet(); // in the handshake: the server waits for an option
            busy.connect("disk", false);
            byte[] data = pattern(4096, 2);
            assertOk(busy.call(0, Nbd.CMD_WRITE, 0, data.length, data));
            server.close();
            assertEquals(0, server.activeConnections(), "close() returned after every connection ended");
            assertTrue(idle.serverClosed());
            assertTrue(negotiating.serverClosed());
            assertTrue(busy.serverClosed());
            List<String> lines = new ArrayList<>(logLines); // every closing line was logged before close() returned
            for (NbdTestClient c : new NbdTestClient[] {idle, negotiating, busy}) {
                String from = ":" + c.localPort() + " on ";
                List<String> closed = lines.stream().filter(l -> l.contains(from) && l.contains(" closed after "))
                        .toList();
                assertEquals(1, closed.size(), lines.toString());
                assertTrue(closed.get(0).endsWith(": " + Connection.CLOSED_BY_SERVER), closed.get(0));
            }
        }
        assertEquals(0, server.budget().reserved());
        server.close(); // idempotent
    }

    @Test
    void connectionsAreSpreadRoundRobinOverTheIOThreadGroup() throws Exception { // issue 21 item 5
        start(false, 2);
        List<NbdTestClient> clients = new ArrayList<>();
        try {
            for (int i = 0; i < 4; i++) {
                NbdTestClient c = client();
                clients.add(c);
                c.connect("disk", true); // once negotiated, its coroutine is running on its IOThread
            }
            List<io.aioco.AioContext> serving = server.servingContexts();
            assertEquals(2, serving.size());
            List<io.aioco.AioContext> used = server.connectionContexts();
            assertEquals(4, used.size());
            for (io.aioco.AioContext ctx : serving) {
                assertEquals(2, used.stream().filter(c -> c == ctx).count(), "two of four connections on " + ctx);
            }
        } finally {
            for (NbdTestClient c : clients) {
                c.close();
            }
        }
    }

    @Test
    void aFailingAcceptPausesForASecondWithOneLogLineInsteadOfSpinning() throws Exception {
        AtomicBoolean failing = new AtomicBoolean(true);
        BlockingQueue<String> attempts = new LinkedBlockingQueue<>();
        NbdServer.Acceptor accept = listener -> {
            if (failing.get()) {
                attempts.add("failed");
                throw new IOException("Too many open files");
            }
            SocketChannel channel = listener.accept();
            if (channel != null) {
                attempts.add("accepted");
            }
            return channel;
        };
        ClockType.pauseVirtual();
        try {
            start(accept, ClockType.VIRTUAL, false, 0);
            try (NbdTestClient c = client()) { // waits in the listen backlog: the listener stays readable
                assertEquals("failed", attempts.poll(TIMEOUT_S, TimeUnit.SECONDS));
                for (int i = 0; i < 20; i++) { // twenty more passes of the accept loop
                    CountDownLatch polled = new CountDownLatch(1);
                    acceptor.context().scheduleOneshot(polled::countDown);
                    assertTrue(polled.await(TIMEOUT_S, TimeUnit.SECONDS));
                }
                assertEquals(0, attempts.size(), "no retry before the pause is over");
                assertEquals(1, acceptFailureLines());
                ClockType.advanceVirtualNs(NbdServer.ACCEPT_PAUSE_NS); // a second later: one retry, one line
                assertEquals("failed", attempts.poll(TIMEOUT_S, TimeUnit.SECONDS));
                // its own line, logged once the next pause is armed: only then may the clock move on
                awaitLog(line -> line.contains(ACCEPT_FAILED));
                failing.set(false);
                ClockType.advanceVirtualNs(NbdServer.ACCEPT_PAUSE_NS);
                assertEquals("accepted", attempts.poll(TIMEOUT_S, TimeUnit.SECONDS));
                c.connect("disk", true);
                assertOk(c.call(0, Nbd.CMD_READ, 0, 4096, null));
                assertEquals(0, acceptFailureLines(), "no line more");
            }
        } finally {
            ClockType.resumeVirtual();
        }
    }

    @Test
    void aBufferBudgetBelowOneMaximalRequestIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerOptions.parse("--buffer-budget", "16M"));
        assertEquals("--buffer-budget: 16M (expected: at least 32M, one maximal request)", e.getMessage());
        assertEquals(64L << 20, ServerOptions.parse("--buffer-budget=64M").bufferBudget);
        assertEquals(256L << 20, ServerOptions.parse().bufferBudget);
    }

    @Test
    void closeWithinKeepsItsBoundWhenTheAcceptLoopIsStuck() throws Exception { // re-review: SIGTERM never exited
        start(false, 0);
        NbdTestClient c = client(); // served on the stuck loop: its end cannot come in time
        c.connect("disk", true);
        CountDownLatch gate = new CountDownLatch(1);
        CountDownLatch stuck = new CountDownLatch(1);
        acceptor.context().scheduleOneshot(() -> { // a callback that does not return until the test says so
            stuck.countDown();
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(stuck.await(TIMEOUT_S, TimeUnit.SECONDS));
        BlockingQueue<Boolean> result = new LinkedBlockingQueue<>();
        Thread closer = new Thread(() -> result.add(server.closeWithin(TimeUnit.MILLISECONDS.toNanos(1))), "closer");
        closer.start();
        try {
            Boolean ended = result.poll(TIMEOUT_S, TimeUnit.SECONDS);
            assertEquals(Boolean.FALSE, ended, "returned (null: still waiting for the stuck loop), the client not ended");
            awaitLog(line -> line.contains("the accept loop did not stop listening in time"));
        } finally {
            gate.countDown();
            closer.join();
        }
        assertTrue(c.serverClosed(), "once the loop runs again, the client is ended all the same");
        c.close();
    }

    @Test
    void anUnknownBindHostIsAnIoExceptionNamingTheOption() { // re-review: was an unchecked stack trace in main
        ServerOptions options = ServerOptions.parse("--bind", "nosuchhost.invalid"); // RFC 6761: never resolves
        IOException e = assertThrows(IOException.class,
                () -> NbdServer.start(options, null, null, new ServerLog(line -> { }, false)));
        assertEquals("nosuchhost.invalid (--bind): no such host", e.getMessage());
    }

    @Test
    void aBufferBudgetWhoseCeilingWouldOverflowIsRefusedByName() { // re-review: 2^62 made every request wait for ever
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ServerOptions.parse("--buffer-budget", "4194304T"));
        assertEquals("--buffer-budget: 4194304T (expected: at most 1048576T)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ServerOptions.parse("--buffer-budget", "1048577T"));
        assertEquals(1L << 60, ServerOptions.parse("--buffer-budget", "1048576T").bufferBudget);
        BufferBudget largest = new BufferBudget(1L << 60);
        assertTrue(largest.ceiling() > largest.limit(), "no overflow at the largest limit");
        assertTrue(largest.tryReserveFirst(Nbd.MAX_PAYLOAD), "a first request is served");
    }

    private static final String ACCEPT_FAILED =
            "accept failed: java.io.IOException: Too many open files; accepting again in 1 s";

    /** Takes the log lines so far and counts the accept failures among them. */
    private int acceptFailureLines() {
        int count = 0;
        String line;
        while ((line = logLines.poll()) != null) {
            if (line.contains(ACCEPT_FAILED)) {
                count++;
            }
        }
        return count;
    }
}
