package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The handshake phase: options served, malformed ones answered or the connection dropped. */
class HandshakeTest extends NbdServerFixture {

    @Test
    void goGivesSizeAndFlagsThenTransmissionWorks() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            assertEquals(SIZE, c.exportSize);
            int expected = Nbd.FLAG_HAS_FLAGS | Nbd.FLAG_SEND_FLUSH | Nbd.FLAG_SEND_FUA | Nbd.FLAG_SEND_TRIM
                    | Nbd.FLAG_SEND_WRITE_ZEROES | Nbd.FLAG_SEND_DF | Nbd.FLAG_CAN_MULTI_CONN;
            assertEquals(expected, c.transmissionFlags);
            assertOk(c.call(0, Nbd.CMD_FLUSH, 0, 0, null));
        }
    }

    @Test
    void exportNameEntersTransmissionWithTheZeroesUnlessDeclined() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet(Nbd.FLAG_C_FIXED_NEWSTYLE);
            c.sendOption(Nbd.OPT_EXPORT_NAME, utf8("disk"));
            c.readExportNameReply(true);
            assertEquals(SIZE, c.exportSize);
            byte[] data = pattern(4096, 7);
            assertOk(c.call(0, Nbd.CMD_WRITE, 8192, data.length, data));
            NbdTestClient.Reply read = c.call(0, Nbd.CMD_READ, 8192, data.length, null);
            assertTrue(!read.structured(), "simple replies unless structured ones were negotiated");
            assertEquals(0, read.error());
            assertEquals(java.util.Arrays.toString(data), java.util.Arrays.toString(read.data()));
        }
        try (NbdTestClient c = client()) {
            c.greet(); // declines the zeroes
            c.sendOption(Nbd.OPT_EXPORT_NAME, new byte[0]); // the empty name: the default export
            c.readExportNameReply(false);
            assertEquals(SIZE, c.exportSize);
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 512, null).error());
        }
    }

    @Test
    void exportNameOfAnUnknownExportHangsUp() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendOption(Nbd.OPT_EXPORT_NAME, utf8("nope"));
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("unknown export 'nope'"));
        }
    }

    @Test
    void listNamesTheExportAndInfoDescribesItWithoutEnteringTransmission() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendOption(Nbd.OPT_LIST, new byte[0]);
            NbdTestClient.OptionReply server = c.readOptionReply();
            assertEquals(Nbd.REP_SERVER, server.type());
            ByteBuffer data = ByteBuffer.wrap(server.data());
            byte[] name = new byte[data.getInt()];
            data.get(name);
            assertEquals("disk", new String(name, StandardCharsets.UTF_8));
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());

            c.sendOption(Nbd.OPT_INFO, NbdTestClient.infoRequest("disk", Nbd.INFO_BLOCK_SIZE, Nbd.INFO_NAME, 999));
            boolean sawExport = false;
            boolean sawBlockSize = false;
            boolean sawName = false;
            for (NbdTestClient.OptionReply r = c.readOptionReply(); r.type() != Nbd.REP_ACK; r = c.readOptionReply()) {
                assertEquals(Nbd.REP_INFO, r.type());
                ByteBuffer info = ByteBuffer.wrap(r.data());
                switch (info.getShort()) {
                    case Nbd.INFO_EXPORT -> {
                        sawExport = true;
                        assertEquals(SIZE, info.getLong());
                    }
                    case Nbd.INFO_BLOCK_SIZE -> {
                        sawBlockSize = true;
                        assertEquals(1, info.getInt());
                        assertEquals(4096, info.getInt());
                        assertEquals(Nbd.MAX_PAYLOAD, info.getInt());
                    }
                    case Nbd.INFO_NAME -> sawName = "disk".equals(new String(r.data(), 2, r.data().length - 2,
                            StandardCharsets.UTF_8));
                    default -> throw new AssertionError("unexpected info " + r);
                }
            }
            assertTrue(sawExport && sawBlockSize && sawName);
            // INFO does not enter transmission: more options are served
            c.sendOption(Nbd.OPT_GO, NbdTestClient.infoRequest(""));
            assertEquals(Nbd.REP_INFO, c.readOptionReply().type());
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 4096, null).error());
        }
    }

    @Test
    void unknownOrMalformedOptionsAreAnsweredWithErrorsAndNegotiationGoesOn() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendOption(99, utf8("whatever"));
            NbdTestClient.OptionReply unsupported = c.readOptionReply();
            assertEquals(99, unsupported.option());
            assertEquals(Nbd.REP_ERR_UNSUP, unsupported.type());
            c.sendOption(Nbd.OPT_STARTTLS, new byte[0]);
            assertEquals(Nbd.REP_ERR_UNSUP, c.readOptionReply().type());
            c.sendOption(Nbd.OPT_LIST, utf8("data"));
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptionReply().type());
            byte[] truncated = {0, 0, 0, 100, 'd'}; // a 100-byte name in 5 bytes
            c.sendOption(Nbd.OPT_GO, truncated);
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptionReply().type());
            c.sendOption(Nbd.OPT_GO, NbdTestClient.infoRequest("elsewhere"));
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.readOptionReply().type());
            c.sendOption(Nbd.OPT_SET_META_CONTEXT, NbdTestClient.metaRequest("disk", Nbd.BASE_ALLOCATION));
            NbdTestClient.OptionReply early = c.readOptionReply();
            assertEquals(Nbd.REP_ERR_INVALID, early.type(), "meta contexts need structured replies first");
            assertTrue(early.text().contains("structured"), early.text());
            c.sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());
            c.sendOption(Nbd.OPT_STRUCTURED_REPLY, new byte[0]);
            assertEquals(Nbd.REP_ERR_INVALID, c.readOptionReply().type(), "twice");
            c.sendOption(Nbd.OPT_LIST_META_CONTEXT, NbdTestClient.metaRequest("disk", "base:", "x-other:thing"));
            NbdTestClient.OptionReply listed = c.readOptionReply();
            assertEquals(Nbd.REP_META_CONTEXT, listed.type());
            assertEquals(Nbd.BASE_ALLOCATION, new String(listed.data(), 4, listed.data().length - 4,
                    StandardCharsets.UTF_8));
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());
            c.sendOption(Nbd.OPT_GO, NbdTestClient.infoRequest("disk"));
            assertEquals(Nbd.REP_INFO, c.readOptionReply().type());
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 512, null).error());
        }
    }

    @Test
    void abortIsAcknowledgedThenTheConnectionEnds() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendOption(Nbd.OPT_ABORT, new byte[0]);
            assertEquals(Nbd.REP_ACK, c.readOptionReply().type());
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("NBD_OPT_ABORT"));
        }
    }

    @Test
    void badOptionMagicDropsTheConnection() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendRaw(ByteBuffer.allocate(16).putLong(0x1122334455667788L).putInt(Nbd.OPT_LIST).putInt(0).array());
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("protocol error: bad option magic"));
        }
        assertServerStillServes();
    }

    @Test
    void unknownClientFlagsDropTheConnection() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet(0x80);
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("unknown client flags 0x80"));
        }
        assertServerStillServes();
    }

    @Test
    void anOptionTooLongToBeSeriousDropsTheConnection() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendRaw(ByteBuffer.allocate(16).putLong(Nbd.OPTION_MAGIC).putInt(Nbd.OPT_GO).putInt(-1).array());
            assertTrue(c.serverClosed());
            assertTrue(awaitClosed(c).contains("4294967295 bytes of data"));
        }
        assertServerStillServes();
    }

    @Test
    void aClientLeavingMidOptionIsCleanedUp() throws Exception {
        try (NbdTestClient c = client()) {
            c.greet();
            c.sendRaw(ByteBuffer.allocate(20).putLong(Nbd.OPTION_MAGIC).putInt(Nbd.OPT_GO).putInt(100).array());
            c.vanish(false);
            assertTrue(awaitClosed(c).contains("client vanished mid-message"));
        }
        assertEquals(0, server.activeConnections());
        assertServerStillServes();
    }

    private void assertServerStillServes() throws Exception {
        try (NbdTestClient c = client()) {
            c.connect("disk", true);
            assertEquals(0, c.call(0, Nbd.CMD_READ, 0, 512, null).error());
        }
    }
}
