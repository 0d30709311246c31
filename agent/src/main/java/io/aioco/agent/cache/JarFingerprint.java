package io.aioco.agent.cache;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.util.zip.CRC32;
import java.util.zip.CRC32C;

/**
 * Why: a jar's size and modification time do not tell that its classes changed: a reproducible
 * build pins every time ({@code SOURCE_DATE_EPOCH}, Nix), and a class edited to one of the same
 * length leaves the size as it was. The startup cache keys a jar on its content instead, cheaply:
 * a zip's central directory lists every entry with its name, sizes and the CRC-32 of its bytes, so
 * a hash of the central directory changes whenever an entry's content does. Reading it costs the
 * end record (22 bytes at the end of the file, unless the zip has a comment) and the directory
 * itself (about 80 bytes an entry), none of the entries; the JDK's {@code ZipFile} reads the same
 * bytes when the class loader opens the jar.
 *
 * <p>NOTE: runs in premain, in the interpreter, before the application: plain {@code java.io}
 * (the first use of NIO's file channels costs some ms), no lambda, no string concatenation. The
 * hashes are CRC-32 and CRC-32C (each a native loop or an intrinsic, so cheap even here) of the
 * same bytes, 64 bits together: the key guards against a rebuild, not against an adversary.
 *
 * <p>Stateless; called by any thread (in practice the premain thread).
 */
final class JarFingerprint {
    /** The end of central directory record: signature, then fixed fields, then a comment. */
    private static final int END_SIGNATURE = 0x06054b50;
    private static final int END_LENGTH = 22;
    /** A central directory header's signature, and a local (entry) header's. */
    private static final int DIRECTORY_SIGNATURE = 0x02014b50;
    private static final int LOCAL_SIGNATURE = 0x04034b50;
    /** The largest comment a zip may have (a 16-bit length). */
    private static final int MAX_COMMENT = 0xFFFF;
    /** ZIP64: the locator right before the end record, and the record it points to. */
    private static final int ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
    private static final int ZIP64_LOCATOR_LENGTH = 20;
    private static final int ZIP64_END_SIGNATURE = 0x06064b50;
    /** The ZIP64 end record without its extensible data, which no jar tool writes. */
    private static final int ZIP64_END_LENGTH = 56;
    /** The buffer the directory is hashed through: the directory of a jar of 800 classes at once. */
    private static final int CHUNK = 64 * 1024;

    private JarFingerprint() {}

    /**
     * The hash of a jar's central directory, as 16 hex digits.
     *
     * @param jar a file
     * @return the hash
     * @throws IOException if it cannot be read, or no central directory is where a zip has it (the
     *     caller trusts nothing of such a jar)
     */
    static String of(File jar) throws IOException {
        try (RandomAccessFile in = new RandomAccessFile(jar, "r")) {
            long length = in.length();
            long end = findEnd(in, length);
            byte[] record = new byte[END_LENGTH];
            in.seek(end);
            in.readFully(record);
            long directorySize = uint32(record, 12);
            long directoryEnd = end;
            if (directorySize == 0xFFFFFFFFL || uint32(record, 16) == 0xFFFFFFFFL || uint16(record, 10) == 0xFFFF) {
                // NOTE: ZIP64 (over 65535 entries or 4 GiB): the sizes are in the ZIP64 end record
                long zip64End = end - ZIP64_LOCATOR_LENGTH - ZIP64_END_LENGTH;
                byte[] zip64 = new byte[ZIP64_END_LENGTH + ZIP64_LOCATOR_LENGTH];
                if (zip64End < 0) {
                    throw new IOException("no ZIP64 end record in " + jar);
                }
                in.seek(zip64End);
                in.readFully(zip64);
                if ((int) uint32(zip64, 0) != ZIP64_END_SIGNATURE
                        || (int) uint32(zip64, ZIP64_END_LENGTH) != ZIP64_LOCATOR_SIGNATURE) {
                    throw new IOException("no ZIP64 end record in " + jar);
                }
                directorySize = uint32(zip64, 40) | (uint32(zip64, 44) << 32);
                directoryEnd = zip64End;
            }
            long directoryStart = directoryEnd - directorySize;
            if (directorySize < 0 || directoryStart < 0) {
                throw new IOException("a central directory larger than " + jar);
            }
            // NOTE: where the directory ends, not the offset the record gives: a jar with bytes
            // before it (a launcher script) has every offset shifted, as the JDK's ZipFile allows
            CRC32 crc = new CRC32();
            CRC32C crcC = new CRC32C();
            byte[] buffer = new byte[(int) Math.min(CHUNK, Math.max(1, directorySize))];
            in.seek(directoryStart);
            long left = directorySize;
            while (left > 0) {
                int read = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (read < 0) {
                    throw new IOException("cut short: " + jar);
                }
                crc.update(buffer, 0, read);
                crcC.update(buffer, 0, read);
                left -= read;
            }
            return hex((crc.getValue() << 32) | crcC.getValue());
        }
    }

    /** @return the position of the end of central directory record */
    private static long findEnd(RandomAccessFile in, long length) throws IOException {
        if (length < END_LENGTH) {
            throw new IOException("too short for a zip: " + length + " bytes");
        }
        // NOTE: the common case, a zip without a comment: one read of 22 bytes
        byte[] last = new byte[END_LENGTH];
        in.seek(length - END_LENGTH);
        in.readFully(last);
        if ((int) uint32(last, 0) == END_SIGNATURE && uint16(last, 20) == 0) {
            return length - END_LENGTH;
        }
        int tailLength = (int) Math.min(length, END_LENGTH + MAX_COMMENT);
        byte[] tail = new byte[tailLength];
        in.seek(length - tailLength);
        in.readFully(tail);
        for (int at = tailLength - END_LENGTH; at >= 0; at--) {
            if ((int) uint32(tail, at) != END_SIGNATURE) {
                continue;
            }
            long end = length - tailLength + at;
            // NOTE: the last record whose comment reaches the end of the file; or, as the JDK's
            // ZipFile also takes it, one followed by padding whose central directory and first
            // entry are where it says
            if (at + END_LENGTH + uint16(tail, at + 20) == tailLength || directoryIsWhereItSays(in, end,
                    uint32(tail, at + 12), uint32(tail, at + 16))) {
                return end;
            }
        }
        throw new IOException("no end of central directory record");
    }

    /** @return whether a central directory header, and a local header, are where an end record puts them */
    private static boolean directoryIsWhereItSays(RandomAccessFile in, long end, long directorySize,
            long directoryOffset) throws IOException {
        long directoryStart = end - directorySize;
        long firstEntry = directoryStart - directoryOffset;
        if (directoryStart < 0 || firstEntry < 0) {
            return false;
        }
        byte[] signature = new byte[4];
        in.seek(directoryStart);
        in.readFully(signature);
        if ((int) uint32(signature, 0) != DIRECTORY_SIGNATURE) {
            return false;
        }
        in.seek(firstEntry);
        in.readFully(signature);
        return (int) uint32(signature, 0) == LOCAL_SIGNATURE;
    }

    private static int uint16(byte[] bytes, int at) {
        return (bytes[at] & 0xFF) | (bytes[at + 1] & 0xFF) << 8;
    }

    private static long uint32(byte[] bytes, int at) {
        return (uint16(bytes, at) | (long) uint16(bytes, at + 2) << 16) & 0xFFFFFFFFL;
    }

    /** @return 16 hex digits; NOTE: no Long.toHexString padding via String.format (which loads a formatter) */
    private static String hex(long value) {
        char[] digits = new char[16];
        for (int i = 15; i >= 0; i--) {
            digits[i] = Character.forDigit((int) (value & 0xF), 16);
            value >>>= 4;
        }
        return new String(digits);
    }
}
