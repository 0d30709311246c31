package io.aioco.instrumenter.classfile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aioco.instrumenter.ClassLookup;
import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.Type;
import org.objectweb.asm.tree.ClassNode;

/** The lean scan reads what ASM's reader reads, and the quick scan answers alike either way. */
class ClassFileScanTest {
    private static List<byte[]> classFilesOf(Class<?>... inJars) throws IOException, URISyntaxException {
        List<byte[]> files = new ArrayList<>();
        for (Class<?> type : inJars) {
            Path jar = Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
            try (ZipFile zip = new ZipFile(jar.toFile())) {
                Enumeration<? extends ZipEntry> entries = zip.entries();
                while (entries.hasMoreElements()) {
                    ZipEntry entry = entries.nextElement();
                    if (entry.getName().endsWith(".class") && !entry.getName().startsWith("META-INF/")) {
                        try (InputStream in = zip.getInputStream(entry)) {
                            files.add(in.readAllBytes());
                        }
                    }
                }
            }
        }
        return files;
    }

    @Test
    void readsWhatAsmReadsOnRealJars() throws Exception {
        List<byte[]> files = classFilesOf(ClassReader.class, Test.class, net.jqwik.api.Property.class);
        assertTrue(files.size() > 500, "classes: " + files.size());
        ClassHierarchy hierarchy = new ClassHierarchy(ClassLookup.ofClassLoader(getClass().getClassLoader()), false);
        int withIndy = 0;
        for (byte[] bytes : files) {
            ClassFileScan scan = ClassFileScan.read(bytes);
            ClassReader reader = new ClassReader(bytes);
            assertNotNull(scan, reader.getClassName());
            assertEquals(reader.getClassName(), scan.className);
            assertEquals(reader.getSuperName(), scan.superName);
            assertArrayEquals(reader.getInterfaces(), scan.interfaces);
            List<String> indy = new ArrayList<>();
            char[] buffer = new char[reader.getMaxStringLength()];
            for (int item = 1; item < reader.getItemCount(); item++) {
                int offset = reader.getItem(item);
                if (offset != 0 && bytes[offset - 1] == 18) {
                    Type returned = Type.getReturnType(
                            reader.readUTF8(reader.getItem(reader.readUnsignedShort(offset + 2)) + 2, buffer));
                    withIndy++;
                    if (returned.getSort() == Type.OBJECT && !ClassHierarchy.isJdkType(returned.getInternalName())) {
                        indy.add(returned.getInternalName());
                    }
                }
            }
            assertEquals(indy, List.of(scan.indyReturnTypes), reader.getClassName());
            assertEquals(QuickScan.mayNeedInstrumentation(bytes, reader, hierarchy),
                    QuickScan.mayNeedInstrumentation(scan, hierarchy), reader.getClassName());
        }
        assertTrue(withIndy > 0);
    }

    @Test
    void tellsWhichClassesDeclareAMethodThatCouldOverrideAsAsmReadsThem() throws Exception {
        int cannot = 0;
        for (byte[] bytes : classFilesOf(ClassReader.class, Test.class)) {
            ClassNode node = new ClassNode();
            new ClassReader(bytes).accept(node, ClassReader.SKIP_CODE);
            boolean expected = node.methods.stream().anyMatch(m -> !m.name.startsWith("<")
                    && (m.access & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_ABSTRACT | Opcodes.ACC_NATIVE)) == 0);
            assertEquals(expected, ClassFileScan.read(bytes).mayOverride(), node.name);
            cannot += expected ? 0 : 1;
        }
        assertTrue(cannot > 50, "classes that cannot override: " + cannot);
    }

    @Test
    void aScanOfTheHeaderAloneAssumesAMethodCouldOverride() throws Exception {
        for (byte[] bytes : classFilesOf(ClassReader.class)) {
            int length = 10;
            while (ClassFileScan.read(bytes, length) == null) {
                length++;
            }
            assertTrue(ClassFileScan.read(bytes, length).mayOverride(), new ClassReader(bytes).getClassName());
        }
    }

    @Test
    void aClassWithOnlyAConstructorStaticAndPrivateMethodsCannotOverride() throws IOException {
        ClassLookup lookup = ClassLookup.ofClassLoader(getClass().getClassLoader());
        assertEquals(false, ClassFileScan.read(lookup.classBytes("io/aioco/instrumenter/classfile/ClassFileScanTest$OnlyHelpers")).mayOverride());
        assertEquals(true, ClassFileScan.read(lookup.classBytes("io/aioco/instrumenter/classfile/ClassFileScanTest$OneOverride")).mayOverride());
    }

    /** Declares nothing that could override a supertype's method. */
    @SuppressWarnings("unused")
    private static class OnlyHelpers extends Thread {
        OnlyHelpers() {}

        static int twice(int x) {
            return 2 * x;
        }

        private int three() {
            return 3;
        }
    }

    /** Declares one method that could. */
    private static class OneOverride extends Thread {
        @Override
        public void run() {}
    }

    @Test
    void seesTheRuntimeNamedInTheConstantPoolAndNothingElse() throws IOException {
        ClassLookup lookup = ClassLookup.ofClassLoader(getClass().getClassLoader());
        // its own name, a field type, a descriptor: each a UTF-8 constant starting with (L)io/aioco/
        for (String name : List.of("io/aioco/Coroutine", "io/aioco/instrumenter/Fixtures")) {
            assertTrue(ClassFileScan.read(lookup.classBytes(name)).mentionsRuntime, name);
        }
        for (String name : List.of("java/util/ArrayList", "org/objectweb/asm/ClassReader")) {
            assertEquals(false, ClassFileScan.read(lookup.classBytes(name)).mentionsRuntime, name);
        }
    }

    @Test
    void aPrefixIsEnoughForTheScanAndTheWholeFileComesOnRequest() throws Exception {
        byte[] big = ClassLookup.ofClassLoader(getClass().getClassLoader()).classBytes("org/objectweb/asm/ClassReader");
        assertTrue(big.length > 3 * 4096);
        int[] served = new int[1];
        ClassLookup counting = new ClassLookup() {
            @Override
            public byte[] classBytes(String internalName) {
                return big.clone();
            }

            @Override
            public InputStream openClassFile(String internalName) {
                return new java.io.ByteArrayInputStream(big) {
                    @Override
                    public synchronized int read(byte[] b, int off, int len) {
                        int n = super.read(b, off, Math.min(len, 1024));
                        served[0] += Math.max(n, 0);
                        return n;
                    }
                };
            }
        };
        ClassFilePrefix prefix = ClassFilePrefix.open(counting, "org/objectweb/asm/ClassReader");
        ClassFileScan scan = prefix.scan();
        assertEquals("org/objectweb/asm/ClassReader", scan.className);
        assertTrue(served[0] < big.length, "read " + served[0] + " of " + big.length);
        assertArrayEquals(big, prefix.whole());
        prefix.close();
    }

    @Test
    void damagedFilesGiveNullOrAScanNeverAnException() throws Exception {
        List<byte[]> files = classFilesOf(ClassReader.class);
        Random random = new Random(7);
        for (int i = 0; i < 20_000; i++) {
            byte[] bytes = files.get(random.nextInt(files.size())).clone();
            if (random.nextBoolean()) {
                bytes = java.util.Arrays.copyOf(bytes, random.nextInt(bytes.length));
            } else {
                for (int flips = 1 + random.nextInt(4); flips > 0; flips--) {
                    bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
                }
            }
            ClassFileScan.read(bytes); // null or a scan; nothing thrown
        }
    }
}
