package io.aioco.agent.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * Why: the startup cache is read at every start, before the first application class, while the
 * agent's code is still interpreted; so its file is the in-memory table itself, read in bulk, with
 * no per-entry parsing. This is the file's format.
 *
 * <pre>
 *   int   MAGIC ("AIOC")
 *   int   VERSION
 *   int   key length, then the key's UTF-8 bytes (the whole key, compared exactly)
 *   int   search order length, then its UTF-8 bytes ({@link SearchOrder#text()})
 *   int   the search order's CRC-32
 *   int   count
 *   long  hashes[count], strictly ascending ({@link StartupCache#hash})
 *   int   checksums[count], each class file's CRC-32C ({@link StartupCache#checksum}), in the order of the hashes
 * </pre>
 * Big-endian, as {@link ByteBuffer} writes it. A file with another magic, version or key, a
 * search order whose CRC-32 does not match, or of another size than the count says, is not used.
 * NOTE: the search order decides which jars are trusted (a damaged one could trust a jar it should
 * not), so it is checked, unlike the entries; it is a few lines, and the CRC-32 an intrinsic.
 *
 * <p>NOTE: the entries themselves are not checked (order, checksum): a loop over ten thousand
 * entries costs several ms in the interpreter, a good part of what the cache saves. Nor need they
 * be: a lookup finds a class only where the file holds its very hash ({@link Arrays#binarySearch}
 * answers a match only for an equal element, whatever the order), so a damaged entry or order can
 * only make the cache miss classes, never skip one it should not (but for the chance of a damaged
 * entry equal to another class's 64-bit hash, with its checksum). Files are written whole and moved
 * into place, so a torn file is unlikely in the first place; a truncated one has the wrong size.
 */
final class CleanClassFile {
    static final int MAGIC = 0x41494F43;
    /**
     * 4: each class with the CRC-32C of its bytes, not their length (bytes defined at run time with
     * a jar's protection domain are in no jar: only their checksum tells them apart); 3: jars known by their central directory's hash too ({@link JarFingerprint}), in the key and in
     * the search order's {@code ref} lines; 2: with the search order (1 had none, and trusted no jar
     * after a manifest's {@code Class-Path}).
     */
    static final int VERSION = 4;

    private CleanClassFile() {}

    /**
     * The clean classes of one cache file.
     *
     * @param hashes the hashes of (jar index, class name), strictly ascending
     * @param checksums each class file's CRC-32C, in the order of {@code hashes}
     */
    record Entries(long[] hashes, int[] checksums) {
        static final Entries EMPTY = new Entries(new long[0], new int[0]);

        /**
         * @return the checksum recorded for the hash, as an unsigned int (0 to 2^32 - 1), or -1 if
         *     it is not there
         */
        long checksumOf(long hash) {
            int at = Arrays.binarySearch(hashes, hash);
            return at < 0 ? -1 : Integer.toUnsignedLong(checksums[at]);
        }

        int size() {
            return hashes.length;
        }
    }

    /**
     * What a cache file holds besides its key.
     *
     * @param searchOrder the search order the entries hold for ({@link SearchOrder#text()})
     * @param entries the clean classes
     */
    record Contents(String searchOrder, Entries entries) {}

    /**
     * @param key the cache key the entries hold for
     * @param searchOrder the search order they hold for ({@link SearchOrder#text()})
     * @param entries hashes strictly ascending
     * @return the file's bytes
     */
    static byte[] encode(String key, String searchOrder, Entries entries) {
        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
        byte[] orderBytes = searchOrder.getBytes(StandardCharsets.UTF_8);
        int count = entries.size();
        ByteBuffer out = ByteBuffer.allocate(6 * 4 + keyBytes.length + orderBytes.length + count * 12);
        out.putInt(MAGIC).putInt(VERSION).putInt(keyBytes.length).put(keyBytes);
        out.putInt(orderBytes.length).put(orderBytes).putInt(crc(orderBytes, 0, orderBytes.length)).putInt(count);
        out.asLongBuffer().put(entries.hashes());
        out.position(out.position() + 8 * count);
        out.asIntBuffer().put(entries.checksums());
        return out.array();
    }

    /**
     * @param file the bytes of a cache file
     * @param key the key the caller needs
     * @return what the file holds, or null when it is not a well-formed cache file for {@code key}
     */
    static Contents decode(byte[] file, String key) {
        try {
            ByteBuffer in = ByteBuffer.wrap(file);
            if (file.length < 12 || in.getInt() != MAGIC || in.getInt() != VERSION) {
                return null;
            }
            byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
            int keyLength = in.getInt();
            if (keyLength != keyBytes.length || in.remaining() < keyLength + 4) {
                return null;
            }
            byte[] stored = new byte[keyLength];
            in.get(stored);
            if (!Arrays.equals(stored, keyBytes)) {
                return null;
            }
            int orderLength = in.getInt();
            if (orderLength < 0 || in.remaining() < orderLength + 8L) {
                return null;
            }
            int orderStart = in.position();
            in.position(orderStart + orderLength);
            if (in.getInt() != crc(file, orderStart, orderLength)) {
                return null;
            }
            String searchOrder = new String(file, orderStart, orderLength, StandardCharsets.UTF_8);
            int count = in.getInt();
            if (count < 0 || in.remaining() != 12L * count) {
                return null;
            }
            long[] hashes = new long[count];
            int[] checksums = new int[count];
            in.asLongBuffer().get(hashes); // NOTE: one bulk copy each, no per-entry work
            in.position(in.position() + 8 * count);
            in.asIntBuffer().get(checksums);
            return new Contents(searchOrder, new Entries(hashes, checksums));
        } catch (RuntimeException e) {
            return null; // NOTE: not reached by the checks above; a backstop against a bug
        }
    }

    private static int crc(byte[] bytes, int offset, int length) {
        CRC32 crc = new CRC32();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }
}
