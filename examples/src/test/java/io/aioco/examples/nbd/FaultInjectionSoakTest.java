package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.AioContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/**
 * Issue 14's soak: several clients doing random reads, writes, zeroes, trims and flushes, some
 * pipelined, with random disconnects (clean, abrupt, and a client killed in the middle of a
 * write's payload), against an export that fails operations with EIO or ENOSPC at random. Checked
 * afterwards: every acknowledged write is in the file (a model of each client's region), every
 * injected error reached its client as QEMU's NBD error for it, and the server holds no more
 * sockets, buffer budget or threads than before.
 *
 * <p>Whether an operation fails is a pure function of the seed and the operation (command, offset,
 * length), so each client knows the exact reply to expect; flushes, which carry no offset, fail by
 * a counter and are reconciled by count. The short run is {@link #soakForAFewSeconds}; the long one
 * is the property {@link #soak}, its tries set by {@code -Djqwik.tries.default=N} (2 by default, in
 * {@code junit-platform.properties}).
 */
class FaultInjectionSoakTest extends NbdServerFixture {
    static final int BLOCK = 4096;
    static final int CLIENTS = 4;
    /** Each client owns one region of the export; regions never overlap, so each has its own model. */
    static final int REGION_BLOCKS = 256;
    static final int OPS_PER_CLIENT = 250;

    @Test
    void soakForAFewSeconds() throws Exception {
        runSoak(14L);
    }

    @Property
    void soak(@ForAll long seed) throws Exception {
        runSoak(seed);
    }

    /** What the injector decided, for the count checks at the end. */
    static final class Injected {
        final AtomicInteger total = new AtomicInteger();
        final AtomicInteger flushEio = new AtomicInteger();
        final AtomicInteger flushEnospc = new AtomicInteger();
        final AtomicInteger flushes = new AtomicInteger();
    }

    /** The error the export injects for an operation: 0, {@link Nbd#EIO} or {@link Nbd#ENOSPC}. */
    static int faultFor(long seed, int command, long offset, long length) {
        long h = seed * 0x9E3779B97F4A7C15L + command * 0xBF58476D1CE4E5B9L + offset * 0x94D049BB133111EBL + length;
        h ^= h >>> 31;
        h *= 0xD6E8FEB86659FD93L;
        h ^= h >>> 29;
        int roll = (int) Long.remainderUnsigned(h, 100);
        return roll < 6 ? Nbd.EIO : roll < 10 ? Nbd.ENOSPC : 0;
    }

    private void runSoak(long seed) throws Exception {
        Set<Thread> threadsBefore = Thread.getAllStackTraces().keySet();
        logLines.clear();
        start(false, 2);
        try {
            long socketsAtStart = openSockets();
            Injected injected = new Injected();
            export.injectFaults((command, offset, length) -> {
                int error;
                if (command == Nbd.CMD_FLUSH) {
                    int n = injected.flushes.incrementAndGet();
                    error = n % 7 == 0 ? Nbd.EIO : n % 11 == 0 ? Nbd.ENOSPC : 0;
                    if (error == Nbd.EIO) {
                        injected.flushEio.incrementAndGet();
                    } else if (error == Nbd.ENOSPC) {
                        injected.flushEnospc.incrementAndGet();
                    }
                } else {
                    error = faultFor(seed, command, offset, length);
                }
                if (error != 0) {
                    injected.total.incrementAndGet();
                    throw new IOException(error == Nbd.EIO ? "Input/output error" : "No space left on device");
                }
            });
            List<SoakClient> clients = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            for (int k = 0; k < CLIENTS; k++) {
                SoakClient client = new SoakClient(k, seed);
                clients.add(client);
                Thread thread = new Thread(() -> {
                    try {
                        client.run();
                    } catch (Throwable e) {
                        failures.add(new AssertionError("client " + client.index + " (seed " + seed + ")", e));
                    }
                }, "soak-client-" + k);
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(4 * TIMEOUT_S));
                assertFalse(thread.isAlive(), thread.getName() + " finished");
            }
            if (!failures.isEmpty()) {
                AssertionError error = new AssertionError(failures.size() + " clients failed");
                failures.forEach(error::addSuppressed);
                throw error;
            }
            int connections = clients.stream().mapToInt(c -> c.connections).sum();
            for (int i = 0; i < connections; i++) { // every connection logs one closing line when it has ended
                awaitLog(line -> line.contains(" closed after "));
            }
            assertEquals(0, server.activeConnections(), "no connection left");
            awaitBudgetReleased(); // a request cancelled on a worker gives its share back when the worker is done
            assertEquals(0, server.budget().reserved(), "every buffer given back");
            assertTrue(server.budget().peak() <= server.budget().ceiling(), "bounded: " + server.budget().peak());
            for (AioContext ctx : server.servingContexts()) {
                // NOTE: the JDK closes a socket that a selector watched at that selector's next select
                // (the key is deregistered then): one pass through each loop settles it
                CountDownLatch passed = new CountDownLatch(1);
                ctx.scheduleOneshot(passed::countDown);
                assertTrue(passed.await(TIMEOUT_S, TimeUnit.SECONDS));
            }
            assertEquals(socketsAtStart, openSockets(), "no socket left open but the listener");

            int flushErrorsEio = 0;
            int flushErrorsEnospc = 0;
            int abandonedFlushes = 0;
            for (SoakClient c : clients) {
                for (int block = 0; block < REGION_BLOCKS; block++) { // acknowledged writes are in the file
                    if (c.known[block]) {
                        assertArrayEquals(c.block(block), fileBytes(c.offsetOf(block), BLOCK),
                                "client " + c.index + " block " + block + " (seed " + seed + ")");
                    }
                }
                flushErrorsEio += c.flushErrorsEio;
                flushErrorsEnospc += c.flushErrorsEnospc;
                abandonedFlushes += c.abandonedFlushes;
            }
            // every injected flush error reached a client, unless that client had left without the reply
            assertTrue(flushErrorsEio <= injected.flushEio.get() && flushErrorsEnospc <= injected.flushEnospc.get());
            assertTrue(injected.flushEio.get() + injected.flushEnospc.get()
                    <= flushErrorsEio + flushErrorsEnospc + abandonedFlushes);
            int expectedErrors = clients.stream().mapToInt(c -> c.expectedErrorsSeen).sum();
            assertTrue(expectedErrors > 0, "faults were injected and seen");
        } finally {
            stop();
            server = null;
            acceptor = null;
            export = null;
        }
        Set<Thread> extra = new HashSet<>(Thread.getAllStackTraces().keySet());
        extra.removeAll(threadsBefore);
        for (Thread thread : extra) { // pool workers and IOThreads end once closed
            // NOTE: not the stall detector's watcher: one per process, started with its first context
            if ((thread.getName().startsWith("nbd-") || thread.getName().startsWith("aioco-"))
                    && !thread.getName().equals("aioco-stall-watcher")) {
                thread.join(TimeUnit.SECONDS.toMillis(TIMEOUT_S));
                assertFalse(thread.isAlive(), "thread " + thread.getName() + " outlived the server");
            }
        }
    }

    /** Sockets this process has open (Linux: /proc/self/fd). */
    static long openSockets() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("socket:");
                } catch (IOException e) {
                    return false; // closed while listing
                }
            }).count();
        }
    }

    /** One client: its region, its model of it, its random walk. Runs on its own thread. */
    final class SoakClient {
        final int index;
        final long seed;
        final Random random;
        /** The model: what each block of the region must hold, where known. */
        final byte[] model = new byte[REGION_BLOCKS * BLOCK];
        final boolean[] known = new boolean[REGION_BLOCKS];
        /**
         * Blocks an abandoned write or zeroing may still land on at any later time (the server may
         * read it only after the client reconnected): never known again.
         */
        final boolean[] poisoned = new boolean[REGION_BLOCKS];
        int connections;
        int flushErrorsEio;
        int flushErrorsEnospc;
        int abandonedFlushes;
        int expectedErrorsSeen;
        private long nextCookie = 1;

        SoakClient(int index, long seed) {
            this.index = index;
            this.seed = seed;
            this.random = new Random(seed * 1000 + index);
            Arrays.fill(known, true); // a fresh image reads as zeroes
        }

        long offsetOf(int block) {
            return ((long) index * REGION_BLOCKS + block) * BLOCK;
        }

        byte[] block(int block) {
            return Arrays.copyOfRange(model, block * BLOCK, (block + 1) * BLOCK);
        }

        /** One operation of a batch: what was sent and what its reply must be. */
        final class Op {
            final int type;
            final int firstBlock;
            final int blocks;
            final byte[] payload;
            final long cookie = nextCookie++;

            Op(int type, int firstBlock, int blocks, byte[] payload) {
                this.type = type;
                this.firstBlock = firstBlock;
                this.blocks = blocks;
                this.payload = payload;
            }

            long offset() {
                return offsetOf(firstBlock);
            }

            int length() {
                return type == Nbd.CMD_FLUSH ? 0 : blocks * BLOCK;
            }
        }

        void run() throws Exception {
            int done = 0;
            NbdTestClient c = connect();
            while (done < OPS_PER_CLIENT) {
                List<Op> batch = batch();
                for (Op op : batch) {
                    c.queue(0, op.type, op.cookie, op.offset(), op.length(), op.payload);
                }
                int ending = random.nextInt(100);
                if (ending < 3) { // killed in the middle of a write's payload: nothing of it may land
                    c.flush();
                    byte[] payload = new byte[2 * BLOCK];
                    random.nextBytes(payload);
                    c.queue(0, Nbd.CMD_WRITE, nextCookie++, offsetOf(random.nextInt(REGION_BLOCKS - 1)),
                            payload.length, null);
                    c.sendRaw(Arrays.copyOf(payload, 1 + random.nextInt(payload.length - 1)));
                    abandon(batch);
                    c.vanish(true);
                    c = connect();
                } else if (ending < 7) { // gone without reading the replies
                    c.flush();
                    abandon(batch);
                    c.vanish(random.nextBoolean());
                    c = connect();
                } else {
                    c.flush();
                    check(c, batch);
                    if (ending < 12) { // a clean goodbye: NBD_CMD_DISC, then the end of the stream
                        c.send(0, Nbd.CMD_DISC, nextCookie++, 0, 0, null);
                        assertTrue(c.serverClosed());
                        c.close();
                        c = connect();
                    }
                }
                done += batch.size();
            }
            c.send(0, Nbd.CMD_DISC, nextCookie++, 0, 0, null);
            assertTrue(c.serverClosed());
            c.close();
        }

        NbdTestClient connect() throws IOException {
            NbdTestClient c = new NbdTestClient(server.address());
            connections++;
            c.connect("disk", random.nextBoolean());
            return c;
        }

        /** Up to four operations on disjoint blocks, so that their order does not matter. */
        List<Op> batch() {
            List<Op> batch = new ArrayList<>();
            boolean[] taken = new boolean[REGION_BLOCKS];
            int size = 1 + random.nextInt(4);
            for (int i = 0; i < size; i++) {
                int blocks = 1 + random.nextInt(4);
                int first = random.nextInt(REGION_BLOCKS - blocks + 1);
                boolean free = true;
                for (int b = first; b < first + blocks; b++) {
                    free &= !taken[b];
                }
                if (!free) {
                    continue;
                }
                for (int b = first; b < first + blocks; b++) {
                    taken[b] = true;
                }
                int roll = random.nextInt(100);
                if (roll < 35) {
                    byte[] payload = new byte[blocks * BLOCK];
                    random.nextBytes(payload);
                    batch.add(new Op(Nbd.CMD_WRITE, first, blocks, payload));
                } else if (roll < 70) {
                    batch.add(new Op(Nbd.CMD_READ, first, blocks, null));
                } else if (roll < 80) {
                    batch.add(new Op(Nbd.CMD_WRITE_ZEROES, first, blocks, null));
                } else if (roll < 88) {
                    batch.add(new Op(Nbd.CMD_TRIM, first, blocks, null));
                } else {
                    batch.add(new Op(Nbd.CMD_FLUSH, 0, 0, null));
                }
            }
            return batch;
        }

        /** The replies of a batch were never read: its writes may or may not have landed. */
        void abandon(List<Op> batch) {
            for (Op op : batch) {
                if (op.type == Nbd.CMD_FLUSH) {
                    abandonedFlushes++;
                } else if (op.type != Nbd.CMD_READ) {
                    Arrays.fill(known, op.firstBlock, op.firstBlock + op.blocks, false);
                    Arrays.fill(poisoned, op.firstBlock, op.firstBlock + op.blocks, true);
                }
            }
        }

        /** Reads the batch's replies and checks each against the expected error and the model. */
        void check(NbdTestClient c, List<Op> batch) throws IOException {
            List<Op> waiting = new ArrayList<>(batch);
            while (!waiting.isEmpty()) {
                NbdTestClient.Reply reply = c.readReply();
                assertTrue(reply.done(), "one chunk per reply");
                Op op = waiting.stream().filter(o -> o.cookie == reply.cookie()).findFirst()
                        .orElseThrow(() -> new AssertionError("reply to unknown cookie " + reply.cookie()));
                waiting.remove(op);
                apply(op, reply);
            }
        }

        /** An acknowledged write or zeroing: its blocks are known, unless poisoned. */
        private void learn(Op op) {
            for (int b = op.firstBlock; b < op.firstBlock + op.blocks; b++) {
                known[b] = !poisoned[b];
            }
        }

        private void apply(Op op, NbdTestClient.Reply reply) {
            if (op.type == Nbd.CMD_FLUSH) {
                assertTrue(reply.error() == 0 || reply.error() == Nbd.EIO || reply.error() == Nbd.ENOSPC,
                        "flush error " + reply.error());
                flushErrorsEio += reply.error() == Nbd.EIO ? 1 : 0;
                flushErrorsEnospc += reply.error() == Nbd.ENOSPC ? 1 : 0;
                return;
            }
            int expected = op.type == Nbd.CMD_TRIM ? 0 : faultFor(seed, op.type, op.offset(), op.length());
            assertEquals(expected, reply.error(), Nbd.commandName(op.type) + " block " + op.firstBlock + " x"
                    + op.blocks + ": QEMU's NBD error for the injected fault");
            if (expected != 0) {
                expectedErrorsSeen++;
                return; // the fault struck before the file was touched: the model stands
            }
            int from = op.firstBlock * BLOCK;
            int to = (op.firstBlock + op.blocks) * BLOCK;
            switch (op.type) {
                case Nbd.CMD_WRITE -> {
                    System.arraycopy(op.payload, 0, model, from, op.payload.length);
                    learn(op);
                }
                case Nbd.CMD_WRITE_ZEROES -> {
                    Arrays.fill(model, from, to, (byte) 0);
                    learn(op);
                }
                case Nbd.CMD_TRIM -> // the protocol leaves trimmed blocks unspecified
                        Arrays.fill(known, op.firstBlock, op.firstBlock + op.blocks, false);
                case Nbd.CMD_READ -> {
                    byte[] data = NbdTestClient.dataOf(reply);
                    assertEquals(op.length(), data.length);
                    for (int b = 0; b < op.blocks; b++) {
                        if (known[op.firstBlock + b]) {
                            assertArrayEquals(block(op.firstBlock + b), Arrays.copyOfRange(data, b * BLOCK,
                                    (b + 1) * BLOCK), "read of block " + (op.firstBlock + b));
                        }
                    }
                }
                default -> throw new AssertionError(op.type);
            }
        }
    }

    static {
        // the shared fixture's export is 16 MiB: room for every client's region
        if ((long) CLIENTS * REGION_BLOCKS * BLOCK > SIZE) {
            throw new UncheckedIOException(new IOException("regions do not fit the export"));
        }
    }
}
