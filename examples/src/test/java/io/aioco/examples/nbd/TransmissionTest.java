package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The transmission phase: commands, their errors, pipelining, several clients, vanishing clients. */
class TransmissionTest extends NbdServerFixture {

    @Test
    void writeThenReadBackAtSeveralOffsetsWithStructuredReplies() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            long[] offsets = {0, 4096, 1 << 20, SIZE - 65536, 12345};
            for (int i = 0; i < offsets.length; i++) {
                byte[] data = pattern(i == 4 ? 777 : 65536, i);
                assertOk(c.call(0, Nbd.CMD_WRITE, offsets[i], data.length, data));
                assertDataAt(offsets[i], data, c.call(0, Nbd.CMD_READ, offsets[i], data.length, null));
                assertArrayEquals(data, fileBytes(offsets[i], data.length), "the file holds what was written");
            }
            NbdTestClient.Reply empty = c.call(0, Nbd.CMD_READ, 0, 0, null);
            assertEquals(Nbd.REPLY_TYPE_NONE, empty.chunkType(), "an empty read is one NONE chunk");
            assertOk(empty);
        }
    }

    @Test
    void pipelinedRequestsAreAllAnsweredByCookie() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            int count = 100; // more than the server serves at once: back-pressure on the reader
            Map<Long, byte[]> written = new HashMap<>();
            for (int i = 0; i < count; i++) {
                byte[] data = pattern(32768, 100 + i);
                written.put((long) i, data);
                c.send(i % 3 == 0 ? Nbd.CMD_FLAG_FUA : 0, Nbd.CMD_WRITE, i, i * 65536L, data.length, data);
            }
            Set<Long> acknowledged = new HashSet<>();
            for (int i = 0; i < count; i++) {
                NbdTestClient.Reply reply = c.readReply();
                assertOk(reply);
                assertTrue(acknowledged.add(reply.cookie()), "one reply per cookie");
            }
            assertEquals(written.keySet(), acknowledged);
            for (int i = 0; i < count; i++) {
                c.send(0, Nbd.CMD_READ, 1000 + i, i * 65536L, 32768, null);
            }
            for (int i = 0; i < count; i++) {
                NbdTestClient.Reply reply = c.readReply();
                long index = reply.cookie() - 1000;
                assertOk(reply);
                assertDataAt(index * 65536, written.get(index), reply);
            }
        }
    }

    @Test
    void requestsPastTheEndGetTheProtocolsErrorsAndTheStreamStaysInSync() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            NbdTestClient.Reply read = c.call(0, Nbd.CMD_READ, SIZE - 512, 1024, null);
            assertEquals(Nbd.EINVAL, read.error());
            assertEquals(Nbd.REPLY_TYPE_ERROR, read.chunkType());
            assertTrue(new String(read.data(), 6, read.data().length - 6).contains("past the end"));
            byte[] payload = pattern(8192, 3);
            assertEquals(Nbd.ENOSPC, c.call(0, Nbd.CMD_WRITE, SIZE - 4096, payload.length, payload).error());
            assertEquals(Nbd.ENOSPC, c.call(0, Nbd.CMD_WRITE_ZEROES, SIZE, 1, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_TRIM, SIZE - 1, 2, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_BLOCK_STATUS, SIZE, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_READ, -4096, 4096, null).error(), "offset 2^64 - 4096");
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_READ, 0, Nbd.MAX_PAYLOAD + 1, null).error());
            // the refused write's payload was consumed: the next request is read as one
            byte[] edge = pattern(4096, 4);
            assertOk(c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, SIZE - 4096, edge.length, edge));
            assertDataAt(SIZE - 4096, edge, c.call(0, Nbd.CMD_READ, SIZE - 4096, 4096, null));
            assertArrayEquals(new byte[4096], fileBytes(SIZE - 8192, 4096), "nothing of the refused write landed");
        }
        assertTrue(awaitLog(line -> line.contains("WRITE offset " + (SIZE - 4096) + " length 8192: ENOSPC")) != null);
    }

    @Test
    void simpleRepliesCarryErrorsToo() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("", false);
            NbdTestClient.Reply reply = c.call(0, Nbd.CMD_READ, SIZE, 1, null);
            assertTrue(!reply.structured());
            assertEquals(Nbd.EINVAL, reply.error());
            assertEquals(0, reply.data().length, "no payload after an error");
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_BLOCK_STATUS, 0, 4096, null).error(), "no context selected");
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 512, null).error());
        }
    }

    @Test
    void unknownCommandsAndFlagsAreEinval() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            assertEquals(Nbd.EINVAL, c.call(0, 42, 0, 0, null).error());
            assertEquals(Nbd.EINVAL, c.call(0, Nbd.CMD_CACHE, 0, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_READ, 0, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(Nbd.CMD_FLAG_FAST_ZERO, Nbd.CMD_WRITE_ZEROES, 0, 4096, null).error());
            assertEquals(Nbd.EINVAL, c.call(0x8000, Nbd.CMD_FLUSH, 0, 0, null).error());
            assertOk(c.call(Nbd.CMD_FLAG_DF, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void badRequestMagicDropsTheConnection() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            c.sendRaw(ByteBuffer.allocate(28).putInt(0xdeadbeef).array());
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("bad request magic 0xdeadbeef"));
        }
    }

    @Test
    void aClientThatStopsReadingCannotHoldTheConnectionOpenAfterBreakingTheProtocol() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            for (int i = 0; i < Connection.MAX_IN_FLIGHT; i++) { // 64 MiB of replies: more than sockets buffer
                c.queue(0, Nbd.CMD_READ, i, (i % 4) * (4L << 20), 4 << 20, null);
            }
            c.sendRaw(ByteBuffer.allocate(28).putInt(0x0badf00d).array());
            // nothing is read: replies in flight block until the server hangs up on its side
            assertTrue(awaitClosed(c).contains("bad request magic 0xbadf00d"));
        }
        assertEquals(0, server.activeConnections());
    }

    @Test
    void aWriteTooLargeToTakeInDropsTheConnection() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            c.send(0, Nbd.CMD_WRITE, 1, 0, 64 << 20, null);
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("WRITE of 67108864 bytes"));
        }
    }

    @Test
    void aClientVanishingMidWriteIsCleanedUpAndNothingOfItLands() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            c.send(0, Nbd.CMD_WRITE, 1, 0, 65536, null);
            c.sendRaw(pattern(1000, 5)); // 1000 of 65536 payload bytes, then gone
            c.vanish(false);
            assertTrue(awaitClosed(c).contains("client vanished mid-message"));
        }
        assertEquals(0, server.activeConnections());
        assertArrayEquals(new byte[1000], fileBytes(0, 1000));
    }

    @Test
    void aClientVanishingWithRepliesInFlightIsCleanedUp() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            for (int i = 0; i < 40; i++) { // 40 MiB of replies that nobody reads
                c.queue(0, Nbd.CMD_READ, i, (i % 16) * (1L << 20), 1 << 20, null);
            }
            c.flush();
            c.readReplyHeaderOnly(); // the server has taken the requests in and is replying: now leave
            c.vanish(true);
            String closed = awaitClosed(c);
            assertTrue(closed.contains("40 requests"), closed);
        }
        assertEquals(0, server.activeConnections());
        try (NbdTestClient c = client()) { // and the next client is served
            c.connect("disk", true);
            assertOk(c.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void disconnectServesTheRequestsInFlightFirst() throws Exception {
        byte[] data = pattern(1 << 20, 6);
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            c.send(0, Nbd.CMD_WRITE, 1, 2 << 20, data.length, data);
            c.send(0, Nbd.CMD_DISC, 2, 0, 0, null);
            assertOk(c.readReply());
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("NBD_CMD_DISC"));
        }
        assertArrayEquals(data, fileBytes(2 << 20, data.length));
    }

    @Test
    void flushAndFuaForceTheFileBeforeTheReply() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            byte[] data = pattern(4096, 8);
            long before = export.flushCount();
            assertOk(c.call(0, Nbd.CMD_WRITE, 0, data.length, data));
            assertEquals(before, export.flushCount(), "a plain write does not force");
            assertOk(c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, 0, data.length, data));
            assertEquals(before + 1, export.flushCount(), "FUA: forced before the reply");
            assertOk(c.call(0, Nbd.CMD_FLUSH, 0, 0, null));
            assertEquals(before + 2, export.flushCount(), "FLUSH: forced before the reply");
            assertOk(c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE_ZEROES, 0, 4096, null));
            assertEquals(before + 3, export.flushCount());
            assertOk(c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_TRIM, 0, 4096, null));
            assertEquals(before + 4, export.flushCount());
        }
    }

    @Test
    void writeZeroesReadsBackAsZeroesAndBlockStatusSeesDataAndZeroes() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            byte[] data = pattern(65536, 9);
            assertOk(c.call(0, Nbd.CMD_WRITE, 0, data.length, data));
            assertOk(c.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, 16384, 8192, null));
            byte[] expected = data.clone();
            java.util.Arrays.fill(expected, 16384, 24576, (byte) 0);
            assertDataAt(0, expected, c.call(0, Nbd.CMD_READ, 0, data.length, null));
            NbdTestClient.Reply status = c.call(0, Nbd.CMD_BLOCK_STATUS, 0, 1 << 20, null);
            assertOk(status);
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, status.chunkType());
            ByteBuffer extents = ByteBuffer.wrap(status.data());
            assertEquals(Handshake.BASE_ALLOCATION_ID, extents.getInt());
            List<String> seen = new ArrayList<>();
            while (extents.hasRemaining()) {
                seen.add(extents.getInt() + ":" + extents.getInt());
            }
            assertEquals(List.of("16384:0", "8192:" + Nbd.STATE_ZERO, "40960:0", (1048576 - 65536) + ":"
                    + Nbd.STATE_ZERO), seen);
            NbdTestClient.Reply one = c.call(Nbd.CMD_FLAG_REQ_ONE, Nbd.CMD_BLOCK_STATUS, 16384, 4096, null);
            assertEquals(4 + 8, one.data().length, "one extent");
            assertEquals(4096, ByteBuffer.wrap(one.data()).getInt(4), "no longer than asked");
        }
    }

    @Test
    void aReadOnlyExportRefusesWritesWithEperm() throws Exception {
        start(true, 0);
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            assertTrue((c.transmissionFlags & Nbd.FLAG_READ_ONLY) != 0);
            assertEquals(0, c.transmissionFlags & (Nbd.FLAG_SEND_TRIM | Nbd.FLAG_SEND_WRITE_ZEROES));
            byte[] data = pattern(4096, 10);
            assertEquals(Nbd.EPERM, c.call(0, Nbd.CMD_WRITE, 0, data.length, data).error());
            assertEquals(Nbd.EPERM, c.call(0, Nbd.CMD_WRITE_ZEROES, 0, 4096, null).error());
            assertEquals(Nbd.EPERM, c.call(0, Nbd.CMD_TRIM, 0, 4096, null).error());
            assertDataAt(0, new byte[4096], c.call(0, Nbd.CMD_READ, 0, 4096, null));
        }
    }

    @Test
    void severalClientsAtOnceOnSeveralIOThreadsSeeEachOthersWrites() throws Exception {
        start(false, 2);
        int clients = 4;
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int k = 0; k < clients; k++) {
            int id = k;
            done.add(CompletableFuture.runAsync(() -> {
                try (NbdTestClient c = client()) {
                    c.connect("disk", true);
                    for (int i = 0; i < 20; i++) {
                        byte[] data = pattern(16384, id * 100 + i);
                        long offset = (id * 20L + i) * 16384;
                        c.send(0, Nbd.CMD_WRITE, i, offset, data.length, data);
                    }
                    for (int i = 0; i < 20; i++) {
                        assertOk(c.readReply());
                    }
                    assertOk(c.call(0, Nbd.CMD_FLUSH, 0, 0, null));
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }));
        }
        for (CompletableFuture<Void> f : done) {
            f.get(TIMEOUT_S, TimeUnit.SECONDS);
        }
        try (NbdTestClient c = client()) { // a fifth connection reads what the four wrote
            c.connect("disk", true);
            for (int id = 0; id < clients; id++) {
                for (int i = 0; i < 20; i++) {
                    long offset = (id * 20L + i) * 16384;
                    assertDataAt(offset, pattern(16384, id * 100 + i), c.call(0, Nbd.CMD_READ, offset, 16384, null));
                }
            }
        }
        Set<String> threads = new HashSet<>();
        for (int i = 0; i < clients + 1; i++) {
            String line = awaitLog(l -> l.contains(" closed after "));
            threads.add(line.substring(line.indexOf(" on ") + 4, line.indexOf(" closed after ")));
        }
        assertEquals(Set.of("nbd-iothread-0", "nbd-iothread-1"), threads);
    }
}
