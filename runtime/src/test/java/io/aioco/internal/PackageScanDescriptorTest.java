package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * PackageDependencyTest's scan must find a runtime class wherever a descriptor or
 * signature names it. A reference type that follows a primitive parameter in a method descriptor
 * ({@code (JLio/aioco/Coroutine;)V}: a method {@code f(long, Coroutine)}) is preceded by a letter,
 * which the scan's look-behind rejects, so a dependency expressed only there is not seen.
 */
class PackageScanDescriptorTest {
    private static Set<String> scan(String utf8) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(0xCAFEBABE);
            out.writeShort(0);
            out.writeShort(61);
            out.writeShort(2); // one constant
            out.writeByte(1); // Utf8
            out.writeUTF(utf8);
        }
        return PackageDependencyTest.runtimeNames(new DataInputStream(new java.io.ByteArrayInputStream(bytes.toByteArray())));
    }

    @Test
    void aReferenceAfterAPrimitiveParameterIsFound() throws IOException {
        for (String descriptor : new String[] {"(JLio/aioco/Coroutine;)V", "(ILio/aioco/AioContext;)V",
                "([ZLio/aioco/Coroutine;)Lio/aioco/internal/CoStack;", "(Lio/aioco/internal/CoStack;DLio/aioco/Coroutine;)V"}) {
            Set<String> found = scan(descriptor);
            assertTrue(found.contains(descriptor.contains("AioContext") ? "io/aioco/AioContext" : "io/aioco/Coroutine"),
                    descriptor + " -> " + found);
        }
    }
}
