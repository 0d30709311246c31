package io.aioco.agent;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassWriter;
import org.objectweb.asm.Opcodes;
import org.objectweb.asm.tree.AbstractInsnNode;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.FrameNode;
import org.objectweb.asm.tree.MethodNode;

/**
 * Ways to damage a well-formed class file, each driven by a {@link Random} so that a fuzzer's
 * input is its seed class, its mutation and one number. A mutation that does not apply to a class
 * (no stack map table, say) falls back to flipping bytes.
 */
enum ClassFileMutation {
    /** The file cut short anywhere. */
    TRUNCATE {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            return Arrays.copyOf(bytes, random.nextInt(bytes.length));
        }
    },
    /** One to eight bytes anywhere set to random values. */
    FLIP_BYTES {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            return flip(bytes, 0, bytes.length, 1 + random.nextInt(8), random);
        }
    },
    /** The major version set to an old, a new or an absurd one. */
    VERSION {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            int[] versions = {45, 46, 49, 50, 51, 52, 61, 65, 69, 70, 0, 0xFFFF};
            return putU2(bytes.clone(), 6, versions[random.nextInt(versions.length)]);
        }
    },
    /** The constant pool count set to a random value. */
    CONSTANT_POOL_COUNT {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            return putU2(bytes.clone(), ClassFileLayout.CONSTANT_POOL_COUNT_OFFSET, oddU2(random, layout.constants.size()));
        }
    },
    /** A constant's tag replaced by another tag, valid or not. */
    CONSTANT_TAG {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            ClassFileLayout.Constant constant = pick(layout.constants, random);
            byte[] mutant = bytes.clone();
            int[] tags = {0, 1, 2, 3, 5, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19, 20, 21, 127, 255};
            mutant[constant.offset()] = (byte) tags[random.nextInt(tags.length)];
            return mutant;
        }
    },
    /** An index inside a constant (to a class, a name, a descriptor...) pointed elsewhere. */
    CONSTANT_INDEX {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            // tags 7 to 20 hold indices of other constants (and a reference kind, for 15)
            List<ClassFileLayout.Constant> withIndices = layout.constants.stream().filter(c -> c.tag() >= 7).toList();
            if (withIndices.isEmpty()) {
                return FLIP_BYTES.mutate(bytes, layout, random);
            }
            ClassFileLayout.Constant constant = pick(withIndices, random);
            if (constant.tag() == 15 && random.nextBoolean()) {
                byte[] mutant = bytes.clone();
                mutant[constant.offset() + 1] = (byte) random.nextInt(12); // reference kinds are 1 to 9
                return mutant;
            }
            int fieldOffset = constant.tag() == 15 ? constant.offset() + 2
                    : constant.offset() + 1 + (constant.length() == 5 && random.nextBoolean() ? 2 : 0);
            return putU2(bytes.clone(), fieldOffset, oddU2(random, layout.constants.size()));
        }
    },
    /** A UTF-8 constant (a name, a descriptor, a signature) with a byte or its length changed. */
    CONSTANT_UTF8 {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            List<ClassFileLayout.Constant> strings = layout.constants.stream()
                    .filter(c -> c.tag() == 1 && c.length() > 3).toList();
            ClassFileLayout.Constant constant = pick(strings, random);
            byte[] mutant = bytes.clone();
            if (random.nextInt(4) == 0) {
                int length = constant.length() - 3;
                int[] lengths = {0, length - 1, length + 1, length + 2 + random.nextInt(64), 0xFFFF};
                return putU2(mutant, constant.offset() + 1, lengths[random.nextInt(lengths.length)] & 0xFFFF);
            }
            // a character that breaks descriptors and names, or bytes that are not modified UTF-8
            byte[] replacements = "()[;LIJDV/<>.$ ".getBytes(StandardCharsets.US_ASCII);
            int position = constant.offset() + 3 + random.nextInt(constant.length() - 3);
            mutant[position] = random.nextBoolean() ? replacements[random.nextInt(replacements.length)]
                    : (byte) new int[] {0x00, 0x80, 0xC0, 0xE0, 0xED, 0xF0, 0xFF}[random.nextInt(7)];
            return mutant;
        }
    },
    /** An attribute's length (of the class, a field, a method or a Code attribute) made wrong. */
    ATTRIBUTE_LENGTH {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            if (layout.attributes.isEmpty()) {
                return FLIP_BYTES.mutate(bytes, layout, random);
            }
            ClassFileLayout.Attribute attribute = pick(layout.attributes, random);
            return putU4(bytes.clone(), attribute.lengthOffset(), bogusLength(attribute.length(), random));
        }
    },
    /** A Code attribute's code_length made wrong (its attribute length left as it was). */
    CODE_LENGTH {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            if (layout.codeLengthOffsets.isEmpty()) {
                return ATTRIBUTE_LENGTH.mutate(bytes, layout, random);
            }
            int offset = pick(layout.codeLengthOffsets, random);
            int length = ((bytes[offset] & 0xFF) << 24) | ((bytes[offset + 1] & 0xFF) << 16)
                    | ((bytes[offset + 2] & 0xFF) << 8) | (bytes[offset + 3] & 0xFF);
            return putU4(bytes.clone(), offset, bogusLength(length, random));
        }
    },
    /** Bytes of a StackMapTable attribute (frame kinds, offsets, verification types) flipped. */
    STACK_MAP_BYTES {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            List<ClassFileLayout.Attribute> tables = layout.attributesNamed("StackMapTable");
            if (tables.isEmpty()) {
                return FLIP_BYTES.mutate(bytes, layout, random);
            }
            ClassFileLayout.Attribute table = pick(tables, random);
            return flip(bytes, table.bodyOffset(), table.length(), 1 + random.nextInt(4), random);
        }
    },
    /**
     * A well-formed but wrong stack map frame: a frame removed, a type in a frame replaced by
     * another, or a value pushed on a frame's stack (rewritten with ASM, frames kept as given).
     */
    STACK_MAP_FRAMES {
        @Override
        byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random) {
            try {
                ClassNode node = new ClassNode();
                new ClassReader(bytes).accept(node, 0);
                List<FrameNode> frames = node.methods.stream().flatMap(m -> framesOf(m).stream()).toList();
                if (frames.isEmpty()) {
                    return STACK_MAP_BYTES.mutate(bytes, layout, random);
                }
                FrameNode frame = pick(frames, random);
                Object[] types = {Opcodes.INTEGER, Opcodes.FLOAT, Opcodes.LONG, Opcodes.TOP, Opcodes.NULL,
                        Opcodes.UNINITIALIZED_THIS, "java/lang/Object", "java/lang/String", "[I"};
                Object type = types[random.nextInt(types.length)];
                switch (random.nextInt(3)) {
                    case 0 -> {
                        for (MethodNode method : node.methods) {
                            method.instructions.remove(frame); // only the method that has it changes
                        }
                    }
                    case 1 -> {
                        List<Object> list = frame.local != null && !frame.local.isEmpty() ? frame.local : frame.stack;
                        if (list == null || list.isEmpty()) {
                            return pushOnStack(node, frame, type);
                        }
                        list.set(random.nextInt(list.size()), type);
                    }
                    default -> {
                        return pushOnStack(node, frame, type);
                    }
                }
                return write(node);
            } catch (RuntimeException e) {
                return STACK_MAP_BYTES.mutate(bytes, layout, random); // ASM refused to write it
            }
        }

        private byte[] pushOnStack(ClassNode node, FrameNode frame, Object type) {
            if (frame.type == Opcodes.F_SAME) {
                frame.type = Opcodes.F_SAME1;
                frame.stack = new ArrayList<>(List.of(type));
            } else if (frame.type == Opcodes.F_FULL || frame.type == Opcodes.F_NEW) {
                frame.stack = new ArrayList<>(frame.stack == null ? List.of() : frame.stack);
                frame.stack.add(type);
            } else {
                frame.type = Opcodes.F_SAME;
                frame.stack = null;
            }
            return write(node);
        }
    };

    /**
     * Damages a class file.
     *
     * @param bytes a well-formed class file (not changed)
     * @param layout where its parts are
     * @param random the source of every choice
     * @return the damaged copy
     */
    abstract byte[] mutate(byte[] bytes, ClassFileLayout layout, Random random);

    private static List<FrameNode> framesOf(MethodNode method) {
        List<FrameNode> frames = new ArrayList<>();
        for (AbstractInsnNode insn = method.instructions.getFirst(); insn != null; insn = insn.getNext()) {
            if (insn instanceof FrameNode frame) {
                frames.add(frame);
            }
        }
        return frames;
    }

    private static byte[] write(ClassNode node) {
        ClassWriter writer = new ClassWriter(0); // frames and maxima as they are
        node.accept(writer);
        return writer.toByteArray();
    }

    private static <T> T pick(List<T> list, Random random) {
        return list.get(random.nextInt(list.size()));
    }

    private static byte[] flip(byte[] bytes, int from, int length, int count, Random random) {
        byte[] mutant = bytes.clone();
        if (length <= 0) {
            return mutant;
        }
        for (int i = 0; i < count; i++) {
            int position = from + random.nextInt(length);
            mutant[position] = (byte) (mutant[position] ^ (1 + random.nextInt(255)));
        }
        return mutant;
    }

    /** An index that is out of range, zero, or some valid index (of the wrong kind, most often). */
    private static int oddU2(Random random, int constants) {
        return switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> constants + 1 + random.nextInt(3);
            case 2 -> random.nextInt(0x10000);
            default -> 1 + random.nextInt(Math.max(1, constants));
        };
    }

    private static int bogusLength(int length, Random random) {
        int[] lengths = {0, length - 1, length + 1, length + 1 + random.nextInt(1000), random.nextInt(),
                Integer.MAX_VALUE, -1, Integer.MIN_VALUE};
        return lengths[random.nextInt(lengths.length)];
    }

    private static byte[] putU2(byte[] bytes, int offset, int value) {
        bytes[offset] = (byte) (value >>> 8);
        bytes[offset + 1] = (byte) value;
        return bytes;
    }

    private static byte[] putU4(byte[] bytes, int offset, int value) {
        putU2(bytes, offset, value >>> 16);
        return putU2(bytes, offset + 2, value);
    }
}
