package io.aioco.instrumenter;

import io.aioco.instrumenter.classfile.RuntimeNames;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AnnotationNode;
import org.objectweb.asm.tree.ClassNode;

/**
 * Whether a class file was woven by aioco, and by which version of the coroutine protocol: the
 * class-level marker {@code @io.aioco.internal.Instrumented(version = N)} (invisible at run time)
 * that the instrumenter puts on every class it rewrote. Classes woven by one protocol version
 * cannot call or be called by classes woven by another, so a class woven by another version is
 * never taken as done (see {@link Instrumenter#instrument(byte[])}). The one place that reads the
 * marker: the Maven plugin and the agent's check command ask here. No QEMU counterpart. Stateless;
 * any thread.
 */
public final class WovenMarker {
    private WovenMarker() {}

    /**
     * The version of the protocol between woven classes (frame storage, signals, bodies) that this
     * instrumenter weaves. Version 1 is the marker without a version (aioco before the marker had
     * one).
     */
    public static final int CURRENT_VERSION = RuntimeNames.PROTOCOL_VERSION;
    /** What {@link #versionOf} answers for a class that is not woven. */
    public static final int NOT_WOVEN = 0;
    /** The version of a marker that has none: the first protocol. */
    static final int UNVERSIONED = 1;
    /** The marker's element that holds the version. */
    static final String VERSION = "version";

    private static final byte[] MARKER = RuntimeNames.INSTRUMENTED_DESC.getBytes(StandardCharsets.US_ASCII);

    /**
     * @param classBytes a class file
     * @return the protocol version the class was woven with, or {@link #NOT_WOVEN}
     * @throws IllegalArgumentException if the class file names the marker but cannot be read
     */
    public static int versionOf(byte[] classBytes) {
        if (!contains(classBytes, MARKER)) {
            return NOT_WOVEN; // NOTE: the common case, without parsing: the marker is in the constant pool
        }
        int[] version = {NOT_WOVEN};
        try {
            new ClassReader(classBytes).accept(new ClassVisitor(Opcodes.ASM9) {
                @Override
                public AnnotationVisitor visitAnnotation(String descriptor, boolean visible) {
                    if (!descriptor.equals(RuntimeNames.INSTRUMENTED_DESC)) {
                        return null;
                    }
                    version[0] = UNVERSIONED;
                    return new AnnotationVisitor(Opcodes.ASM9) {
                        @Override
                        public void visit(String name, Object value) {
                            if (VERSION.equals(name) && value instanceof Integer number) {
                                version[0] = number;
                            }
                        }
                    };
                }
            }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot read class file: " + e, e);
        }
        return version[0];
    }

    /** @return the version of the marker on {@code owner}, or {@link #NOT_WOVEN} */
    static int versionOf(ClassNode owner) {
        if (owner.invisibleAnnotations != null) {
            for (AnnotationNode annotation : owner.invisibleAnnotations) {
                if (annotation.desc.equals(RuntimeNames.INSTRUMENTED_DESC)) {
                    List<Object> values = annotation.values == null ? List.of() : annotation.values;
                    for (int i = 0; i + 1 < values.size(); i += 2) {
                        if (VERSION.equals(values.get(i)) && values.get(i + 1) instanceof Integer number) {
                            return number;
                        }
                    }
                    return UNVERSIONED;
                }
            }
        }
        return NOT_WOVEN;
    }

    /** Puts the marker of this version on {@code owner}. */
    static void mark(ClassNode owner) {
        if (owner.invisibleAnnotations == null) {
            owner.invisibleAnnotations = new ArrayList<>();
        }
        AnnotationNode marker = new AnnotationNode(RuntimeNames.INSTRUMENTED_DESC);
        marker.values = new ArrayList<>(List.of(VERSION, CURRENT_VERSION));
        owner.invisibleAnnotations.add(marker);
    }

    /**
     * @return whether {@code haystack} holds {@code needle} as a run of bytes (a class file's UTF-8
     *     constants, for the agent's checks). Any thread.
     */
    public static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
