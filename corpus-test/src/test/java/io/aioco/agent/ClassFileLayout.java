package io.aioco.agent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where the parts of a well-formed class file are (JVMS 4): the offsets of its constant pool
 * entries and of every attribute's length, so that a fuzzer can corrupt exactly one of them.
 * Reads only what it needs to walk the structure; throws on a class file it cannot walk.
 */
final class ClassFileLayout {
    /** One constant pool entry: its index, its tag and the offset of its tag byte. */
    record Constant(int index, int tag, int offset, int length) {}

    /**
     * One attribute (of the class, a field, a method or a Code attribute).
     *
     * @param name the attribute's name
     * @param lengthOffset the offset of its u4 length
     * @param bodyOffset the offset of its first byte after the length
     * @param length its length as written
     */
    record Attribute(String name, int lengthOffset, int bodyOffset, int length) {}

    /** The offset of the constant pool count. */
    static final int CONSTANT_POOL_COUNT_OFFSET = 8;

    final List<Constant> constants = new ArrayList<>();
    final List<Attribute> attributes = new ArrayList<>();
    /** Offsets of the u4 code_length of every Code attribute. */
    final List<Integer> codeLengthOffsets = new ArrayList<>();

    private final byte[] bytes;
    private final String[] utf8;

    ClassFileLayout(byte[] bytes) {
        this.bytes = bytes;
        int count = u2(CONSTANT_POOL_COUNT_OFFSET);
        utf8 = new String[count];
        int offset = CONSTANT_POOL_COUNT_OFFSET + 2;
        for (int index = 1; index < count; index++) {
            int tag = bytes[offset] & 0xFF;
            int length = switch (tag) {
                case 1 -> 3 + u2(offset + 1);
                case 3, 4, 9, 10, 11, 12, 17, 18 -> 5;
                case 5, 6 -> 9;
                case 7, 8, 16, 19, 20 -> 3;
                case 15 -> 4;
                default -> throw new IllegalArgumentException("constant " + index + ": tag " + tag);
            };
            if (tag == 1) {
                utf8[index] = new String(bytes, offset + 3, length - 3, StandardCharsets.UTF_8);
            }
            constants.add(new Constant(index, tag, offset, length));
            offset += length;
            if (tag == 5 || tag == 6) {
                index++; // a long or a double takes two entries
            }
        }
        offset += 6; // access, this, super
        offset += 2 + 2 * u2(offset); // interfaces
        for (int members = 0; members < 2; members++) { // fields, then methods
            int memberCount = u2(offset);
            offset += 2;
            for (int member = 0; member < memberCount; member++) {
                offset = attributes(offset + 6);
            }
        }
        offset = attributes(offset);
        if (offset != bytes.length) {
            throw new IllegalArgumentException("class file ends at " + offset + ", not " + bytes.length);
        }
    }

    /** Reads the attribute table at {@code offset}; returns the offset after it. */
    private int attributes(int offset) {
        int count = u2(offset);
        offset += 2;
        for (int i = 0; i < count; i++) {
            String name = utf8[u2(offset)];
            int length = u4(offset + 2);
            Attribute attribute = new Attribute(name, offset + 2, offset + 6, length);
            attributes.add(attribute);
            if ("Code".equals(name)) {
                int code = attribute.bodyOffset();
                codeLengthOffsets.add(code + 4);
                int afterCode = code + 8 + u4(code + 4);
                int afterExceptions = afterCode + 2 + 8 * u2(afterCode);
                attributes(afterExceptions);
            }
            offset += 6 + length;
        }
        return offset;
    }

    /** @return the attributes with this name */
    List<Attribute> attributesNamed(String name) {
        return attributes.stream().filter(a -> name.equals(a.name())).toList();
    }

    private int u2(int offset) {
        return ((bytes[offset] & 0xFF) << 8) | (bytes[offset + 1] & 0xFF);
    }

    private int u4(int offset) {
        return (u2(offset) << 16) | u2(offset + 2);
    }
}
