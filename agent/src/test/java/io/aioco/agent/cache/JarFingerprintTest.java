package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarFile;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The central directory hash the startup cache keys jars on: found in every shape of zip the JDK
 * opens (a comment, bytes before the zip, padding after it, ZIP64), the same for the same entries,
 * and another when one entry has other bytes of the same length, with the same size and time.
 */
class JarFingerprintTest {
    @TempDir
    Path dir;

    /** A zip of stored entries with pinned times: its size depends on the entries' lengths only. */
    private static byte[] zip(String comment, int extraEntries, String... contents) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            if (comment != null) {
                zip.setComment(comment);
            }
            for (int i = 0; i < contents.length; i++) {
                byte[] content = contents[i].getBytes(StandardCharsets.UTF_8);
                ZipEntry entry = new ZipEntry("p/C" + i + ".class");
                CRC32 crc = new CRC32();
                crc.update(content);
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(content.length);
                entry.setCompressedSize(content.length);
                entry.setCrc(crc.getValue());
                entry.setTime(1_600_000_000_000L);
                zip.putNextEntry(entry);
                zip.write(content);
                zip.closeEntry();
            }
            for (int i = 0; i < extraEntries; i++) {
                ZipEntry entry = new ZipEntry("e/" + i);
                entry.setTime(1_600_000_000_000L);
                zip.putNextEntry(entry);
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }

    /** Writes the file, checks the JDK opens it as a jar, and returns its fingerprint. */
    private String fingerprintOfAJarTheJdkOpens(String name, byte[] bytes) throws IOException {
        Path file = Files.write(dir.resolve(name), bytes);
        try (JarFile jar = new JarFile(file.toFile())) {
            assertNotNull(jar.getEntry("p/C0.class"), name);
        }
        String fingerprint = JarFingerprint.of(file.toFile());
        assertEquals(16, fingerprint.length());
        return fingerprint;
    }

    private static byte[] concat(byte[] first, byte[] second) {
        byte[] out = new byte[first.length + second.length];
        System.arraycopy(first, 0, out, 0, first.length);
        System.arraycopy(second, 0, out, first.length, second.length);
        return out;
    }

    @Test
    void aClassOfTheSameLengthWithOtherBytesGivesAnotherFingerprintInEveryShapeOfZip() throws IOException {
        byte[] prefix = "#!/bin/sh\nexec java -jar \"$0\"\n".getBytes(StandardCharsets.UTF_8);
        byte[] padding = new byte[7];
        for (String comment : new String[] {null, "built by a reproducible build"}) {
            byte[] before = zip(comment, 0, "class one", "same");
            byte[] after = zip(comment, 0, "class two", "same");
            assertEquals(before.length, after.length);
            String[] shapes = {"plain", "prefixed", "padded"};
            for (String shape : shapes) {
                byte[] oldJar = shape.equals("prefixed") ? concat(prefix, before)
                        : shape.equals("padded") ? concat(before, padding) : before;
                byte[] newJar = shape.equals("prefixed") ? concat(prefix, after)
                        : shape.equals("padded") ? concat(after, padding) : after;
                String label = shape + ", comment " + comment;
                String first = fingerprintOfAJarTheJdkOpens("old.jar", oldJar);
                assertEquals(first, fingerprintOfAJarTheJdkOpens("copy.jar", oldJar), label);
                assertNotEquals(first, fingerprintOfAJarTheJdkOpens("new.jar", newJar), label);
            }
        }
    }

    @Test
    void aZip64JarIsReadThroughItsZip64EndRecord() throws IOException {
        // NOTE: more than 65535 entries: the end record's count says 0xFFFF, the ZIP64 record the rest
        byte[] before = zip(null, 70_000, "class one");
        byte[] after = zip(null, 70_000, "class two");
        assertNotEquals(fingerprintOfAJarTheJdkOpens("old.jar", before), fingerprintOfAJarTheJdkOpens("new.jar", after));
    }

    @Test
    void aFileThatIsNoZipHasNoFingerprint() throws IOException {
        Path text = Files.writeString(dir.resolve("text.jar"), "not a zip at all, and long enough to hold a record");
        assertThrows(IOException.class, () -> JarFingerprint.of(text.toFile()));
        Path tiny = Files.writeString(dir.resolve("tiny.jar"), "PK");
        assertThrows(IOException.class, () -> JarFingerprint.of(tiny.toFile()));
        byte[] zip = zip(null, 0, "class one");
        Path cut = Files.write(dir.resolve("cut.jar"), java.util.Arrays.copyOf(zip, zip.length - 30));
        assertThrows(IOException.class, () -> JarFingerprint.of(cut.toFile()));
    }
}
