package io.aioco.maven;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.classfile.RuntimeNames;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * A fingerprint, per class, of everything the instrumenter's verdicts about that class rest on:
 * its supertypes, whether it is an interface, and each of its methods with its access and whether
 * it carries {@code @CoroutineFn}. Method code does not count, so a class recompiled with new
 * bodies keeps its fingerprint, and neither do the synthetic methods weaving adds (so a class has
 * the same fingerprint woven or not). A woven class must be woven again when the fingerprint of a
 * class it depends on changes. No QEMU counterpart.
 *
 * <p>Each class is read once per build and remembered. Confined to the mojo's thread.
 */
final class VerdictFingerprints {
    /** The fingerprint of a class the classpath does not have. */
    static final String MISSING = "-";

    /** The access flags a verdict may depend on (overriding, dispatch, bridges). */
    private static final int RELEVANT_ACCESS = Opcodes.ACC_PUBLIC | Opcodes.ACC_PRIVATE | Opcodes.ACC_PROTECTED
            | Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_BRIDGE;

    private record Summary(String fingerprint, List<String> supertypes) {}

    private static final Summary ABSENT = new Summary(MISSING, List.of());

    private final ClassLookup lookup;
    private final Map<String, Summary> known = new HashMap<>();

    /** @param lookup where classes not yet seen are read (the build's folder first, then its classpath) */
    VerdictFingerprints(ClassLookup lookup) {
        this.lookup = lookup;
    }

    /**
     * Notes a class from bytes at hand (a file of the folder just read), so that it is never read again.
     *
     * @param internalName the class
     * @param classBytes its class file, woven or not
     */
    void define(String internalName, byte[] classBytes) {
        known.put(internalName, summarize(classBytes));
    }

    /** @return the fingerprint of the class, {@link #MISSING} if it cannot be found or read */
    String of(String internalName) {
        return summary(internalName).fingerprint();
    }

    /**
     * @param types classes a woven class names
     * @return those classes and all their supertypes up to the JDK's, sorted: every class whose
     *     verdicts the weaving may have rested on
     */
    Set<String> withSupertypes(Set<String> types) {
        Set<String> closure = new TreeSet<>();
        Deque<String> pending = new ArrayDeque<>(types);
        while (!pending.isEmpty()) {
            String type = pending.pop();
            if (!ReferencedTypes.isJdkType(type) && closure.add(type)) {
                pending.addAll(summary(type).supertypes()); // NOTE: cycles end: each type is added once
            }
        }
        return closure;
    }

    private Summary summary(String internalName) {
        Summary summary = known.get(internalName);
        if (summary == null) {
            byte[] bytes;
            try {
                bytes = lookup.classBytes(internalName);
            } catch (RuntimeException e) {
                bytes = null;
            }
            summary = bytes == null ? ABSENT : summarize(bytes);
            known.put(internalName, summary);
        }
        return summary;
    }

    private static Summary summarize(byte[] classBytes) {
        ClassReader reader;
        try {
            reader = new ClassReader(classBytes);
        } catch (RuntimeException e) {
            return ABSENT; // NOTE: an unreadable class is reported where it is woven; here it is unknown
        }
        StringBuilder header = new StringBuilder();
        List<String> supertypes = new ArrayList<>();
        Set<String> methods = new TreeSet<>();
        try {
            reader.accept(new ClassVisitor(Opcodes.ASM9) {
                @Override
                public void visit(int version, int access, String name, String signature, String superName,
                        String[] interfaces) {
                    header.append((access & Opcodes.ACC_INTERFACE) != 0 ? "interface " : "class ").append(name)
                            .append(" extends ").append(superName);
                    if (superName != null) {
                        supertypes.add(superName);
                    }
                    if (interfaces != null) {
                        for (String itf : interfaces) {
                            header.append(' ').append(itf);
                            supertypes.add(itf);
                        }
                    }
                }

                @Override
                public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                        String[] exceptions) {
                    if ((access & Opcodes.ACC_SYNTHETIC) != 0 || name.equals("<clinit>")
                            || !Instrumenter.originalDescriptor(descriptor).equals(descriptor)) {
                        // NOTE: bridges, lambda bodies, what weaving adds (a static initializer that
                        // registers the class's frame tables included): they follow the rest
                        return null;
                    }
                    String method = name + descriptor + " " + (access & RELEVANT_ACCESS);
                    methods.add(method);
                    return new MethodVisitor(Opcodes.ASM9) {
                        @Override
                        public AnnotationVisitor visitAnnotation(String annotation, boolean visible) {
                            if (RuntimeNames.COROUTINE_FN_DESC.equals(annotation)) {
                                methods.remove(method);
                                methods.add(method + " @CoroutineFn");
                            }
                            return null;
                        }
                    };
                }
            }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        } catch (RuntimeException e) {
            return ABSENT;
        }
        header.append('\n');
        methods.forEach(method -> header.append(method).append('\n'));
        return new Summary(digest(header.toString().getBytes(StandardCharsets.UTF_8)), supertypes);
    }

    /** @return a short hex digest of {@code bytes} (SHA-256, first 16 bytes) */
    static String digest(byte[] bytes) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes);
            return HexFormat.of().formatHex(hash, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
