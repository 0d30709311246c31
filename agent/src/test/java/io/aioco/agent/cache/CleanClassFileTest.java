package io.aioco.agent.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

/** The cache file's format: what is written is read back, and anything else is refused. */
class CleanClassFileTest {
    private static CleanClassFile.Entries entries(Set<Long> hashes, int length) {
        long[] sorted = new TreeSet<>(hashes).stream().mapToLong(Long::longValue).toArray();
        int[] lengths = new int[sorted.length];
        for (int i = 0; i < lengths.length; i++) {
            lengths[i] = length + i;
        }
        return new CleanClassFile.Entries(sorted, lengths);
    }

    @Property(tries = 200)
    void whatIsWrittenIsReadBackAndFoundByHash(@ForAll @Size(max = 300) Set<Long> hashes,
            @ForAll @IntRange(min = 0, max = 1 << 20) int length, @ForAll String key, @ForAll String searchOrder) {
        CleanClassFile.Entries written = entries(hashes, length);
        CleanClassFile.Contents contents = CleanClassFile.decode(CleanClassFile.encode(key, searchOrder, written), key);
        assertNotNull(contents);
        assertEquals(searchOrder, contents.searchOrder());
        CleanClassFile.Entries read = contents.entries();
        assertArrayEquals(written.hashes(), read.hashes());
        assertArrayEquals(written.checksums(), read.checksums());
        for (int i = 0; i < written.size(); i++) {
            assertEquals(written.checksums()[i], read.checksumOf(written.hashes()[i]));
        }
    }

    @Property(tries = 200)
    void aFileCutShortOrForAnotherKeyIsRefused(@ForAll @Size(min = 1, max = 50) Set<Long> hashes,
            @ForAll @IntRange(min = 0, max = 10_000) int cut) {
        byte[] file = CleanClassFile.encode("key", "jar 0\n", entries(hashes, 100));
        assertNull(CleanClassFile.decode(file, "key2"));
        assertNull(CleanClassFile.decode(file, "ke"));
        int shorter = Math.min(cut, file.length - 1);
        assertNull(CleanClassFile.decode(Arrays.copyOf(file, shorter), "key"));
        assertNull(CleanClassFile.decode(Arrays.copyOf(file, file.length + 1 + cut % 12), "key"));
    }

    @Test
    void anotherMagicOrVersionIsRefused() {
        byte[] file = CleanClassFile.encode("key", "", entries(Set.of(1L, 2L), 10));
        for (int at : new int[] {0, 3, 7}) {
            byte[] damaged = file.clone();
            damaged[at] ^= 1;
            assertNull(CleanClassFile.decode(damaged, "key"), "byte " + at);
        }
        assertNotNull(CleanClassFile.decode(file, "key"));
    }

    @Test
    void aDamagedSearchOrderIsRefused() {
        String searchOrder = "jar 0\nref 10 20 /lib/a.jar\n";
        byte[] file = CleanClassFile.encode("key", searchOrder, entries(Set.of(1L, 2L), 10));
        int orderStart = 4 * 3 + "key".length() + 4;
        for (int at = orderStart; at < orderStart + searchOrder.length() + 4; at++) {
            byte[] damaged = file.clone();
            damaged[at] ^= 0x10;
            assertNull(CleanClassFile.decode(damaged, "key"), "byte " + at);
        }
        assertEquals(searchOrder, CleanClassFile.decode(file, "key").searchOrder());
    }

    @Test
    void aMissingHashIsNotFound() {
        CleanClassFile.Entries read = CleanClassFile.decode(CleanClassFile.encode("k", "", entries(Set.of(5L, 9L), 3)),
                "k").entries();
        assertEquals(-1, read.checksumOf(6L));
        assertEquals(3, read.checksumOf(5L));
        assertEquals(4, read.checksumOf(9L));
    }

    @Test
    void aChecksumWithTheHighBitSetIsFoundUnsignedNotTakenForMissing() {
        CleanClassFile.Entries written = new CleanClassFile.Entries(new long[] {5L, 9L}, new int[] {-1, Integer.MIN_VALUE});
        CleanClassFile.Entries read = CleanClassFile.decode(CleanClassFile.encode("k", "", written), "k").entries();
        assertEquals(0xFFFFFFFFL, read.checksumOf(5L));
        assertEquals(0x80000000L, read.checksumOf(9L));
    }
}
