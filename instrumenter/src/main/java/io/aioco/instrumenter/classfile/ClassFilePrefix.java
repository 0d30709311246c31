package io.aioco.instrumenter.classfile;

import io.aioco.instrumenter.ClassLookup;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Why: most supertypes are read only to learn that they declare no coroutine function, which the
 * constant pool and the header tell; inflating the methods' code from a jar as well would cost
 * about as much again. This reads a class file's stream a chunk at a time until {@link
 * ClassFileScan} can read it, and the rest only if asked for.
 */
final class ClassFilePrefix {
    private static final int FIRST_CHUNK = 4096;

    private final InputStream in;
    private byte[] buffer = new byte[FIRST_CHUNK];
    private int length;
    private boolean ended;

    private ClassFilePrefix(InputStream in) {
        this.in = in;
    }

    /** @return the class file's reader, or null if the lookup cannot find it */
    static ClassFilePrefix open(ClassLookup lookup, String internalName) {
        try {
            InputStream in = lookup.openClassFile(internalName);
            return in == null ? null : new ClassFilePrefix(in);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** @return the lean scan of the class file, reading no more than it needs; null if malformed */
    ClassFileScan scan() {
        fill(FIRST_CHUNK);
        while (true) {
            ClassFileScan scan = ClassFileScan.read(buffer, length); // what was read, nothing past it
            if (scan != null || ended) {
                return scan;
            }
            fill(buffer.length * 2); // NOTE: the scan ran past what was read: read on, and scan again
        }
    }

    /** @return the whole class file, or null if it cannot be read */
    byte[] whole() {
        fill(Integer.MAX_VALUE);
        close();
        return length == 0 && ended ? null : bytes();
    }

    private byte[] bytes() {
        return length == buffer.length ? buffer : Arrays.copyOf(buffer, length);
    }

    private void fill(int wanted) {
        try {
            while (!ended && length < wanted) {
                if (length == buffer.length) {
                    buffer = Arrays.copyOf(buffer, buffer.length * 2);
                }
                int read = in.read(buffer, length, buffer.length - length);
                if (read < 0) {
                    ended = true;
                } else {
                    length += read;
                }
            }
        } catch (IOException | RuntimeException e) {
            ended = true; // NOTE: what was read is all there is; a truncated file scans as malformed
        }
        if (ended) {
            close();
        }
    }

    /** Closes the stream (whatever was read stays available). */
    void close() {
        try {
            in.close();
        } catch (IOException | RuntimeException e) {
            // nothing to do: the bytes are read
        }
    }
}
