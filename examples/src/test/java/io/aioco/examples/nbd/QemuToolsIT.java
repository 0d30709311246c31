package io.aioco.examples.nbd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * QEMU's and libnbd's own clients ({@code qemu-io}, {@code qemu-img}, {@code nbdinfo}, {@code
 * nbdcopy}) against the server started by {@code bin/aioco-nbd}, as a user starts it. Where those
 * tools are not installed the tests fail, naming them ({@code .ci/run} installs them): a green build
 * has always run them.
 */
class QemuToolsIT {
    private static final long SIZE = 64L << 20;
    private static final List<String> TOOLS = List.of("qemu-img", "qemu-io", "nbdinfo", "nbdcopy");

    /** On the main loop, the default image (64 MiB, temporary), export "disk". */
    private static LaunchedServer server;

    @TempDir
    Path temp;

    @BeforeAll
    static void startServer() throws Exception {
        List<String> missing = TOOLS.stream().filter(tool -> !LaunchedServer.onPath(tool)).toList();
        if (!missing.isEmpty()) {
            // A missing tool fails the build rather than skipping: a green run must have run these.
            throw new AssertionError("NBD integration tests cannot run: " + missing + " not installed"
                    + " (Debian: apt-get install -y qemu-utils libnbd-bin; .ci/run does it)");
        }
        server = LaunchedServer.start("--export-name", "disk");
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    private static Path randomImage(Path dir, String name, long size, int seed) throws IOException {
        byte[] bytes = new byte[(int) size];
        new Random(seed).nextBytes(bytes);
        return Files.write(dir.resolve(name), bytes);
    }

    private static void assertSucceeded(LaunchedServer.Run run) {
        assertEquals(0, run.exitCode(), run.toString());
    }

    @Test
    void launcherPrintsWhereItListensAndHowToTryIt() {
        String banner = server.output();
        assertTrue(banner.contains("listening on 127.0.0.1:" + server.port()), banner);
        assertTrue(banner.contains("nbdinfo " + server.uri("disk")), banner);
        assertTrue(banner.contains("qemu-io -f raw -c 'write -P 0xab 0 64k' -c 'read -P 0xab 0 64k' "
                + server.uri("disk")), banner);
    }

    @Test
    void nbdinfoListsTheExportWithItsSize() throws Exception {
        LaunchedServer.Run list = LaunchedServer.run("nbdinfo", "--list", server.uri(""));
        assertSucceeded(list);
        assertTrue(list.output().contains("export=\"disk\""), list.output());
        assertTrue(list.output().contains("export-size: " + SIZE), list.output());
        LaunchedServer.Run size = LaunchedServer.run("nbdinfo", "--size", server.uri("disk"));
        assertSucceeded(size);
        assertEquals(String.valueOf(SIZE), size.output().trim());
    }

    @Test
    void qemuIoWritesPatternsAtSeveralOffsetsAndReadsThemBack() throws Exception {
        LaunchedServer.Run run = LaunchedServer.run("qemu-io", "-f", "raw",
                "-c", "write -P 0xab 0 64k", "-c", "read -P 0xab 0 64k",
                "-c", "write -P 0x5a 1M 128k", "-c", "read -P 0x5a 1M 128k",
                "-c", "write -P 0x17 " + (SIZE - 65536) + " 64k", "-c", "read -P 0x17 " + (SIZE - 65536) + " 64k",
                "-c", "write -P 0xc3 3000 1000", "-c", "read -P 0xc3 3000 1000", "-c", "read -P 0xab 0 3000",
                "-c", "aio_write -P 0x21 8M 64k", "-c", "aio_write -P 0x22 9M 64k", "-c", "aio_flush",
                "-c", "read -P 0x21 8M 64k", "-c", "read -P 0x22 9M 64k",
                "-c", "write -z 1M 64k", "-c", "read -P 0 1M 64k", "-c", "read -P 0x5a 1088k 64k",
                "-c", "flush", server.uri("disk"));
        assertSucceeded(run);
        assertFalse(run.output().contains("failed"), run.output());
        assertTrue(run.output().contains("read 131072/131072 bytes at offset 1048576"), run.output());
        assertTrue(run.output().contains("read 1000/1000 bytes at offset 3000"), run.output());
        // the check is real: a wrong pattern is noticed
        LaunchedServer.Run wrong = LaunchedServer.run("qemu-io", "-f", "raw", "-c", "read -P 0xcd 0 64k",
                server.uri("disk"));
        assertTrue(wrong.output().contains("Pattern verification failed"), wrong.output());
    }

    @Test
    void qemuImgConvertCopiesARandomImageThatQemuImgCompareFindsIdentical() throws Exception {
        Path source = randomImage(temp, "convert.img", SIZE, 1);
        assertSucceeded(LaunchedServer.run("qemu-img", "convert", "-n", "-f", "raw", "-O", "raw",
                source.toString(), server.uri("disk")));
        LaunchedServer.Run compare = LaunchedServer.run("qemu-img", "compare", "-f", "raw", "-F", "raw",
                source.toString(), server.uri("disk"));
        assertSucceeded(compare);
        assertTrue(compare.output().contains("Images are identical"), compare.output());
        // and a difference would be found
        assertSucceeded(LaunchedServer.run("qemu-io", "-f", "raw", "-c", "write -P 0x01 5M 512",
                server.uri("disk")));
        LaunchedServer.Run differ = LaunchedServer.run("qemu-img", "compare", "-f", "raw", "-F", "raw",
                source.toString(), server.uri("disk"));
        assertEquals(1, differ.exitCode(), differ.toString());
        assertTrue(differ.output().contains("Content mismatch at offset 5242880"), differ.output());
    }

    /**
     * nbdcopy splits an image into 128 MiB pieces, one per thread, each thread with its own
     * connection: 256 MiB and two threads make two connections carry data each way.
     */
    @Test
    void nbdcopyWithSeveralConnectionsOverIOThreadsCopiesBothWays() throws Exception {
        long size = 256L << 20;
        try (LaunchedServer spread = LaunchedServer.start("--iothreads", "2", "--size", "256M")) {
            Path source = temp.resolve("nbdcopy.img");
            try (OutputStream out = Files.newOutputStream(source)) {
                Random random = new Random(2);
                byte[] chunk = new byte[1 << 20];
                for (long written = 0; written < size; written += chunk.length) {
                    random.nextBytes(chunk);
                    out.write(chunk);
                }
            }
            assertSucceeded(LaunchedServer.run("nbdcopy", "--connections=2", "--threads=2", "--requests=16",
                    source.toString(), spread.uri("")));
            Path back = temp.resolve("back.img");
            assertSucceeded(LaunchedServer.run("nbdcopy", "--connections=2", "--threads=2", spread.uri(""),
                    back.toString()));
            assertEquals(-1, Files.mismatch(source, back), "copied there and back unchanged");
            LaunchedServer.Run compare = LaunchedServer.run("qemu-img", "compare", "-f", "raw", "-F", "raw",
                    source.toString(), spread.uri(""));
            assertSucceeded(compare);
            assertTrue(compare.output().contains("Images are identical"), compare.output());
            List<String> writers = spread.awaitLines(line -> line.contains(" closed after ")
                    && !line.contains(" 0 written"), 2);
            assertTrue(writers.size() >= 2, "writes over 2 connections:\n" + spread.output());
            List<String> readers = spread.awaitLines(line -> line.contains(" closed after ")
                    && !line.contains(" 0 bytes read"), 3); // qemu-img compare's, and nbdcopy's two
            assertTrue(readers.size() >= 3, "reads over 2 connections:\n" + spread.output());
            assertTrue(Stream.of("nbd-iothread-0", "nbd-iothread-1").allMatch(t -> writers.stream().anyMatch(
                    line -> line.contains(" on " + t + " closed after "))), spread.output());
        }
    }

    @Test
    void aReadOnlyExportRefusesWrites() throws Exception {
        Path image = randomImage(temp, "readonly.img", 1 << 20, 3);
        byte[] before = Files.readAllBytes(image);
        try (LaunchedServer readOnly = LaunchedServer.start("--read-only", image.toString())) {
            LaunchedServer.Run info = LaunchedServer.run("nbdinfo", readOnly.uri(""));
            assertSucceeded(info);
            assertTrue(info.output().contains("is_read_only: true"), info.output());
            LaunchedServer.Run write = LaunchedServer.run("qemu-io", "-f", "raw", "-c", "write -P 0xab 0 4k",
                    readOnly.uri(""));
            assertNotEquals(0, write.exitCode(), write.toString());
            LaunchedServer.Run copy = LaunchedServer.run("nbdcopy", temp.resolve("readonly.img").toString(),
                    readOnly.uri(""));
            assertNotEquals(0, copy.exitCode(), copy.toString());
            LaunchedServer.Run read = LaunchedServer.run("qemu-io", "-r", "-f", "raw", "-c",
                    "read -v 0 16", readOnly.uri(""));
            assertSucceeded(read);
        }
        assertArrayEquals(before, Files.readAllBytes(image), "the image is untouched");
    }
}
