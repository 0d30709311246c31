package io.aioco.examples.nbd;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * The image an NBD export serves: a file, its size, its name, and the blocking I/O on it.
 *
 * <p>Threads: the I/O methods block and are meant for the worker threads of an {@code AioContext}'s
 * thread pool ({@code ThreadPool.submitCo}); any number may run at once (positional reads and
 * writes of one {@link FileChannel} are safe concurrently). The accessors may be called from any
 * thread.
 */
public final class Export implements AutoCloseable {
    /** Granularity of the zero detection of {@link #blockStatus}. */
    static final int STATUS_BLOCK = 4096;
    /** Most bytes one block status query looks at. */
    static final int STATUS_SCAN_LIMIT = 4 << 20;
    private static final ByteBuffer ZEROES = ByteBuffer.allocateDirect(1 << 20).asReadOnlyBuffer();

    private final Path path;
    private final FileChannel file;
    private final long size;
    private final String name;
    private final boolean readOnly;
    /** The folder to delete on close, for a temporary image; null otherwise. */
    private final Path temporaryFolder;
    /** Completed {@link #flush()} calls (tests check that FLUSH and FUA reach the file). */
    private final LongAdder flushes = new LongAdder();
    /** Called before each I/O operation, or null: the tests' way to make the disk fail. */
    private volatile FaultInjector faults;

    /**
     * A test seam: decides, before an operation touches the file, whether it fails instead, as a
     * failing disk would. Called on the worker thread that runs the operation.
     */
    interface FaultInjector {
        /**
         * Throws to fail the operation; returns to let it run.
         *
         * @param command the NBD command the operation serves ({@code Nbd.CMD_READ}, {@code
         *     CMD_WRITE}, {@code CMD_WRITE_ZEROES}, {@code CMD_FLUSH}, {@code CMD_BLOCK_STATUS})
         * @param offset where it starts (0 for a flush)
         * @param length how many bytes it covers (0 for a flush)
         */
        void beforeIo(int command, long offset, long length) throws IOException;
    }

    private Export(Path path, FileChannel file, long size, String name, boolean readOnly, Path temporaryFolder) {
        this.path = path;
        this.file = file;
        this.size = size;
        this.name = name;
        this.readOnly = readOnly;
        this.temporaryFolder = temporaryFolder;
    }

    /**
     * Opens an existing file as an export of its current size.
     *
     * @param path the image
     * @param name the export name clients ask for
     * @param readOnly whether to refuse writes (the file is then opened for reading only)
     * @return the export, open
     * @throws IOException if the file cannot be opened
     */
    public static Export open(Path path, String name, boolean readOnly) throws IOException {
        FileChannel file = readOnly
                ? FileChannel.open(path, StandardOpenOption.READ)
                : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new Export(path, file, file.size(), name, readOnly, null);
    }

    /**
     * Creates a fresh sparse image of {@code size} bytes in a new temporary folder, deleted again by
     * {@link #close()}.
     *
     * @param size the image's size in bytes
     * @param name the export name clients ask for
     * @param readOnly whether to refuse writes
     * @return the export, open
     * @throws IOException if the file cannot be created
     */
    public static Export createTemporary(long size, String name, boolean readOnly) throws IOException {
        if (size < 0) {
            throw new IllegalArgumentException("size: " + size + " (expected: >= 0)");
        }
        Path folder = Files.createTempDirectory("aioco-nbd-");
        Path path = folder.resolve("disk.img");
        FileChannel file = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        if (size > 0) {
            file.write(ByteBuffer.allocate(1), size - 1); // sparse: only the last block is allocated
        }
        return new Export(path, file, size, name, readOnly, folder);
    }

    /** The image file. */
    public Path path() {
        return path;
    }

    /** The export's size in bytes. */
    public long size() {
        return size;
    }

    /** The export's name. */
    public String name() {
        return name;
    }

    /** Whether writes are refused. */
    public boolean readOnly() {
        return readOnly;
    }

    /** Whether the image is a temporary one that {@link #close()} deletes. */
    public boolean temporary() {
        return temporaryFolder != null;
    }

    /**
     * Whether {@code [offset, offset + length)} lies inside the export; offsets are unsigned 64-bit
     * values on the wire, so a negative {@code offset} is past any end.
     */
    boolean contains(long offset, long length) {
        return offset >= 0 && length >= 0 && offset <= size && length <= size - offset;
    }

    /**
     * Makes every later operation ask {@code injector} first (null: none). Tests only; called from
     * any thread, seen by operations that start afterwards.
     */
    void injectFaults(FaultInjector injector) {
        faults = injector;
    }

    private void beforeIo(int command, long offset, long length) throws IOException {
        FaultInjector injector = faults;
        if (injector != null) {
            injector.beforeIo(command, offset, length);
        }
    }

    /** Worker thread: fills {@code dst} from {@code offset}; bytes past the file's end read as zeroes. */
    void read(ByteBuffer dst, long offset) throws IOException {
        beforeIo(Nbd.CMD_READ, offset, dst.remaining());
        readFile(dst, offset);
    }

    private void readFile(ByteBuffer dst, long offset) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int read = file.read(dst, position);
            if (read < 0) { // the file shrank under us: what is missing reads as zeroes
                while (dst.hasRemaining()) {
                    dst.put((byte) 0);
                }
                return;
            }
            position += read;
        }
    }

    /** Worker thread: writes all of {@code src} at {@code offset}, then makes it durable if {@code fua}. */
    void write(ByteBuffer src, long offset, boolean fua) throws IOException {
        beforeIo(Nbd.CMD_WRITE, offset, src.remaining());
        long position = offset;
        while (src.hasRemaining()) {
            position += file.write(src, position);
        }
        if (fua) {
            forceFile();
        }
    }

    /** Worker thread: writes {@code length} zero bytes at {@code offset}, durable if {@code fua}. */
    void writeZeroes(long offset, long length, boolean fua) throws IOException {
        beforeIo(Nbd.CMD_WRITE_ZEROES, offset, length);
        long position = offset;
        long end = offset + length;
        while (position < end) {
            ByteBuffer zeroes = ZEROES.duplicate();
            zeroes.limit((int) Math.min(zeroes.capacity(), end - position));
            while (zeroes.hasRemaining()) {
                position += file.write(zeroes, position);
            }
        }
        if (fua) {
            forceFile();
        }
    }

    /**
     * Worker thread: makes every completed write durable ({@code fdatasync}). Writes by every
     * connection go through this one channel, so a flush on one covers all (NBD_FLAG_CAN_MULTI_CONN).
     */
    void flush() throws IOException {
        beforeIo(Nbd.CMD_FLUSH, 0, 0);
        forceFile();
    }

    private void forceFile() throws IOException {
        file.force(false);
        flushes.increment();
    }

    /** How many flushes ({@code fdatasync}) completed so far. */
    long flushCount() {
        return flushes.sum();
    }

    /**
     * Worker thread: the {@code base:allocation} extents of {@code [offset, offset + length)}, at
     * most {@link #STATUS_SCAN_LIMIT} bytes of it, as (length, flags) pairs. Java cannot ask the
     * file system for holes (no SEEK_HOLE), so blocks that read as zeroes are reported as {@link
     * Nbd#STATE_ZERO} and the rest as data (flags 0); holes are never claimed.
     *
     * @param scratch a buffer of at least {@code min(length, STATUS_SCAN_LIMIT)} bytes
     * @param onlyOne stop after the first extent (NBD_CMD_FLAG_REQ_ONE)
     */
    List<int[]> blockStatus(long offset, int length, ByteBuffer scratch, boolean onlyOne) throws IOException {
        int scanned = Math.min(length, STATUS_SCAN_LIMIT);
        scratch.clear().limit(scanned);
        beforeIo(Nbd.CMD_BLOCK_STATUS, offset, scanned);
        readFile(scratch, offset);
        List<int[]> extents = new ArrayList<>();
        int start = 0;
        while (start < scanned) {
            int end = Math.min(scanned, start + STATUS_BLOCK);
            int flags = allZero(scratch, start, end) ? Nbd.STATE_ZERO : 0;
            int last = extents.size() - 1;
            if (last >= 0 && extents.get(last)[1] == flags) {
                extents.get(last)[0] += end - start;
            } else {
                if (onlyOne && last >= 0) {
                    break;
                }
                extents.add(new int[] {end - start, flags});
            }
            start = end;
        }
        return extents;
    }

    private static boolean allZero(ByteBuffer buffer, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            if (buffer.getLong(i) != 0) {
                return false;
            }
        }
        for (; i < to; i++) {
            if (buffer.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Closes the file; deletes a temporary image and its folder. */
    @Override
    public void close() {
        try {
            file.close();
            if (temporaryFolder != null) {
                Files.deleteIfExists(path);
                Files.deleteIfExists(temporaryFolder);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("closing " + path, e);
        }
    }
}
