package io.aioco.instrumenter.classfile;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.InstrumentationException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.objectweb.asm.AnnotationVisitor;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.ClassVisitor;
import org.objectweb.asm.MethodVisitor;
import org.objectweb.asm.Opcodes;

/**
 * The type hierarchy, read from class bytes through a {@link ClassLookup} and cached: supertypes,
 * interface-ness, and which methods are coroutine functions. Answers the questions that would
 * otherwise need loading classes (common superclass for stack map frames, assignability for the
 * frame analysis, "does this call resolve to a coroutine function").
 *
 * <p>Thread-safe: the agent shares one per class loader between transforming threads.
 */
public final class ClassHierarchy {
    public static final String OBJECT = "java/lang/Object";

    /**
     * What the hierarchy knows of one class; {@code wovenVersion} is the protocol version of its
     * woven marker, 0 if it has none (as {@code WovenMarker.versionOf} answers).
     */
    public record ClassInfo(String name, String superName, String[] interfaces, boolean isInterface,
            Map<String, MethodInfo> methods, int wovenVersion) {}

    /**
     * One declared method.
     *
     * @param access its access flags
     * @param annotated carries {@code @CoroutineFn}
     * @param bridgeTarget for a bridge method, the descriptor of the method it forwards to (same
     *     name), else null
     * @param accessorTarget for a synthetic accessor that only forwards its arguments to one method
     *     ({@code access$NNN}, which javac before 11 writes for a nested class's call to a private
     *     method), that method, else null
     */
    public record MethodInfo(int access, boolean annotated, String bridgeTarget, Call accessorTarget) {}

    /** A method called: owner, name and descriptor. */
    record Call(String owner, String name, String desc) {}

    private static final ClassInfo MISSING = new ClassInfo(null, null, new String[0], false, Map.of(), 0);

    /**
     * The longest chain of supertypes any walk here follows. Real hierarchies are a few dozen deep
     * at most; a deeper one (or one that goes on for ever, as a lookup that makes up classes could
     * give) is reported as an error, like a missing class, instead of exhausting the stack or the
     * CPU of a thread that holds a class-loading lock.
     */
    public static final int MAX_DEPTH = 256;
    /** The most supertypes (classes and interfaces) one walk visits, for the same reason. */
    static final int MAX_SUPERTYPES = 16 * MAX_DEPTH;

    private final ClassLookup lookup;
    private final boolean allMethods;
    private final Map<String, ClassInfo> classes = new ConcurrentHashMap<>();
    private final Map<String, Boolean> coroutineFns = new ConcurrentHashMap<>();
    /** {@link #markForwardedCall}: identity keys (an instruction node has no equals), held weakly. */
    private final Map<org.objectweb.asm.tree.MethodInsnNode, Boolean> forwardedCalls =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private final Map<String, Boolean> typesWithCoroutineFns = new ConcurrentHashMap<>();
    /**
     * Types whose own class file declares no coroutine function, by name, with their direct
     * supertypes, which were not looked at yet: whether the type has coroutine functions is
     * {@link #hasCoroutineFns} of those.
     */
    private final Map<String, String[]> declaringNone = new ConcurrentHashMap<>();
    /**
     * Types whose chain of superclasses was followed to its end (or to a type that cannot be found)
     * and has no cycle and no more than {@link #MAX_DEPTH} links: walking up by {@link #superName}
     * from any of them ends.
     */
    private final Set<String> finiteSuperclassChains = ConcurrentHashMap.newKeySet();

    public ClassHierarchy(ClassLookup lookup, boolean allMethods) {
        this.lookup = lookup;
        this.allMethods = allMethods;
    }

    /** @return whether every method is taken as a coroutine function (the check command's stress mode) */
    boolean allMethods() {
        return allMethods;
    }

    /** The packages of the JDK's types, as prefixes of internal names. */
    static final List<String> JDK_PACKAGES = List.of("java/", "javax/", "jdk/", "sun/", "com/sun/");

    /** JDK types never declare coroutine functions (nor are they instrumented in stress mode). */
    static boolean isJdkType(String internalName) {
        return internalName.startsWith("java/") || internalName.startsWith("javax/")
                || internalName.startsWith("jdk/") || internalName.startsWith("sun/")
                || internalName.startsWith("com/sun/"); // NOTE: JDK_PACKAGES, spelt out: this runs for every class
    }

    /**
     * Registers a class from bytes at hand (the class being instrumented), so that it is never
     * looked up.
     */
    public void define(byte[] classBytes) {
        ClassInfo info = parse(new ClassReader(classBytes));
        classes.put(info.name(), info);
    }

    /** @return what is known of the class, or null if the lookup cannot find it */
    public ClassInfo get(String internalName) {
        ClassInfo info = classes.get(internalName);
        if (info == null) {
            info = load(internalName);
            ClassInfo previous = classes.putIfAbsent(internalName, info);
            if (previous != null) {
                info = previous;
            }
        }
        return info == MISSING ? null : info;
    }

    private ClassInfo load(String internalName) {
        byte[] bytes;
        try {
            bytes = lookup.classBytes(internalName);
        } catch (RuntimeException e) {
            bytes = null;
        }
        return parse(bytes);
    }

    private static ClassInfo parse(byte[] bytes) {
        if (bytes == null) {
            return MISSING;
        }
        try {
            return parse(new ClassReader(bytes));
        } catch (RuntimeException e) {
            return MISSING; // NOTE: a malformed supertype is treated as unknown, never as a crash
        }
    }

    /**
     * Reads what the hierarchy needs: the header, and each method's access and marker, without
     * method code; only bridge methods' code is read (a second, selective pass), for their targets.
     */
    private static ClassInfo parse(ClassReader reader) {
        Map<String, MethodInfo> methods = new HashMap<>();
        String[] header = new String[2];
        boolean[] isInterface = new boolean[1];
        String[][] interfaces = new String[1][];
        boolean[] hasBridges = new boolean[1];
        boolean[] hasAccessors = new boolean[1];
        int[] wovenVersion = new int[1];
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public AnnotationVisitor visitAnnotation(String desc, boolean visible) {
                if (!RuntimeNames.INSTRUMENTED_DESC.equals(desc)) {
                    return null;
                }
                wovenVersion[0] = 1; // a marker without a version: the first protocol
                return new AnnotationVisitor(Opcodes.ASM9) {
                    @Override
                    public void visit(String element, Object value) {
                        if ("version".equals(element) && value instanceof Integer number) {
                            wovenVersion[0] = number;
                        }
                    }
                };
            }

            @Override
            public void visit(int version, int access, String name, String signature, String superName,
                    String[] itfs) {
                header[0] = name;
                header[1] = superName;
                interfaces[0] = itfs == null ? new String[0] : itfs;
                isInterface[0] = (access & Opcodes.ACC_INTERFACE) != 0;
            }

            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                String key = name + descriptor;
                hasBridges[0] |= (access & Opcodes.ACC_BRIDGE) != 0;
                hasAccessors[0] |= isAccessor(access, name);
                methods.put(key, new MethodInfo(access, false, null, null));
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public AnnotationVisitor visitAnnotation(String desc, boolean visible) {
                        if (RuntimeNames.COROUTINE_FN_DESC.equals(desc)) {
                            methods.put(key, new MethodInfo(access, true, null, null));
                        }
                        return null;
                    }
                };
            }
        }, ClassReader.SKIP_CODE | ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
        if (hasBridges[0]) {
            readBridgeTargets(reader, methods);
        }
        if (hasAccessors[0]) {
            readAccessorTargets(reader, methods);
        }
        return new ClassInfo(header[0], header[1], interfaces[0], isInterface[0], methods, wovenVersion[0]);
    }

    /** The method a bridge forwards to: the first call to the same name with another descriptor. */
    private static void readBridgeTargets(ClassReader reader, Map<String, MethodInfo> methods) {
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                if ((access & Opcodes.ACC_BRIDGE) == 0) {
                    return null; // NOTE: null makes ClassReader skip the method's code altogether
                }
                String key = name + descriptor;
                return new MethodVisitor(Opcodes.ASM9) {
                    @Override
                    public void visitMethodInsn(int opcode, String owner, String calledName, String calledDesc,
                            boolean isItf) {
                        MethodInfo bridge = methods.get(key);
                        if (bridge.bridgeTarget() == null && calledName.equals(name)
                                && opcode != Opcodes.INVOKESTATIC && !calledDesc.equals(descriptor)) {
                            methods.put(key, new MethodInfo(bridge.access(), bridge.annotated(), calledDesc, null));
                        }
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    }

    /** @return whether a method may be a synthetic accessor ({@code access$NNN}, static and synthetic) */
    private static boolean isAccessor(int access, String name) {
        int flags = Opcodes.ACC_STATIC | Opcodes.ACC_SYNTHETIC;
        return (access & flags) == flags && name.startsWith("access$");
    }

    /**
     * The method each synthetic accessor forwards to, if it does nothing else: loads of its
     * parameters, one call, a return (javac's accessors of private methods; those of fields, or of
     * anything else, have other instructions and are left alone).
     */
    private static void readAccessorTargets(ClassReader reader, Map<String, MethodInfo> methods) {
        reader.accept(new ClassVisitor(Opcodes.ASM9) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                if (!isAccessor(access, name)) {
                    return null; // NOTE: null makes ClassReader skip the method's code altogether
                }
                String key = name + descriptor;
                return new MethodVisitor(Opcodes.ASM9) {
                    private Call call;
                    private boolean returned;
                    private boolean forwards = true;

                    @Override
                    public void visitVarInsn(int opcode, int var) {
                        forwards &= call == null && opcode >= Opcodes.ILOAD && opcode <= Opcodes.ALOAD;
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String calledName, String calledDesc,
                            boolean isItf) {
                        forwards &= call == null;
                        call = new Call(owner, calledName, calledDesc);
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        boolean isReturn = opcode >= Opcodes.IRETURN && opcode <= Opcodes.RETURN;
                        forwards &= isReturn && call != null && !returned;
                        returned = true;
                    }

                    @Override
                    public void visitIntInsn(int opcode, int operand) {
                        forwards = false;
                    }

                    @Override
                    public void visitTypeInsn(int opcode, String type) {
                        forwards = false;
                    }

                    @Override
                    public void visitFieldInsn(int opcode, String owner, String fieldName, String fieldDesc) {
                        forwards = false;
                    }

                    @Override
                    public void visitInvokeDynamicInsn(String indyName, String indyDesc,
                            org.objectweb.asm.Handle bsm, Object... bsmArgs) {
                        forwards = false;
                    }

                    @Override
                    public void visitJumpInsn(int opcode, org.objectweb.asm.Label label) {
                        forwards = false;
                    }

                    @Override
                    public void visitLdcInsn(Object value) {
                        forwards = false;
                    }

                    @Override
                    public void visitIincInsn(int var, int increment) {
                        forwards = false;
                    }

                    @Override
                    public void visitTableSwitchInsn(int min, int max, org.objectweb.asm.Label dflt,
                            org.objectweb.asm.Label... labels) {
                        forwards = false;
                    }

                    @Override
                    public void visitLookupSwitchInsn(org.objectweb.asm.Label dflt, int[] keys,
                            org.objectweb.asm.Label[] labels) {
                        forwards = false;
                    }

                    @Override
                    public void visitMultiANewArrayInsn(String arrayDesc, int dimensions) {
                        forwards = false;
                    }

                    @Override
                    public void visitTryCatchBlock(org.objectweb.asm.Label start, org.objectweb.asm.Label end,
                            org.objectweb.asm.Label handler, String type) {
                        forwards = false;
                    }

                    @Override
                    public void visitEnd() {
                        MethodInfo accessor = methods.get(key);
                        if (forwards && returned && call != null && !call.name().startsWith("<")) {
                            methods.put(key, new MethodInfo(accessor.access(), accessor.annotated(),
                                    accessor.bridgeTarget(), call));
                        }
                    }
                };
            }
        }, ClassReader.SKIP_DEBUG | ClassReader.SKIP_FRAMES);
    }

    /** @return whether {@code owner} itself declares {@code name desc} as a private method */
    public boolean isPrivate(String owner, String name, String desc) {
        ClassInfo info = get(owner);
        MethodInfo method = info == null ? null : info.methods().get(name + desc);
        return method != null && (method.access() & Opcodes.ACC_PRIVATE) != 0;
    }

    /** @return whether the type is an interface (unknown types are taken as classes) */
    public boolean isInterface(String internalName) {
        ClassInfo info = get(internalName);
        return info != null && info.isInterface();
    }

    /**
     * @return the superclass, or null for Object and interfaces' Object
     * @throws InstrumentationException for a type that cannot be found, or whose superclasses form
     *     a cycle (stale class files) or a chain longer than {@link #MAX_DEPTH}: a loop that walks
     *     up through this method always ends
     */
    public String superName(String internalName) {
        ClassInfo info = get(internalName);
        if (info == null) {
            throw new InstrumentationException("cannot find class " + internalName.replace('/', '.')
                    + " (needed to compute stack map frames): it is not visible to the class loader");
        }
        checkSuperclassChain(internalName);
        return info.superName();
    }

    /**
     * Follows the superclasses of {@code type} once (then remembers the answer).
     *
     * @throws InstrumentationException if they form a cycle or a chain longer than {@link #MAX_DEPTH}
     */
    private void checkSuperclassChain(String type) {
        if (finiteSuperclassChains.contains(type)) {
            return; // NOTE: the common case, once per type and hierarchy
        }
        List<String> chain = new ArrayList<>();
        Set<String> onChain = new HashSet<>();
        for (String current = type; current != null && !finiteSuperclassChains.contains(current); ) {
            if (!onChain.add(current)) {
                throw cyclic(chain.subList(chain.indexOf(current), chain.size()), current);
            }
            chain.add(current);
            if (chain.size() > MAX_DEPTH) {
                throw tooDeep(type);
            }
            ClassInfo info = get(current);
            current = info == null ? null : info.superName();
        }
        finiteSuperclassChains.addAll(chain);
    }

    /** The error for supertypes that lead back to {@code backTo}: each of {@code path} names the next as its supertype. */
    static InstrumentationException cyclic(List<String> path, String backTo) {
        StringBuilder text = new StringBuilder("cyclic class hierarchy: ");
        for (String type : path) {
            text.append(type.replace('/', '.')).append(" -> ");
        }
        text.append(backTo.replace('/', '.')).append(" (each names the next as its supertype: stale class files;"
                + " recompile them together)");
        return new InstrumentationException(text.toString());
    }

    /** The error for a hierarchy above {@code type} deeper or wider than any walk here follows. */
    static InstrumentationException tooDeep(String type) {
        return new InstrumentationException("the class hierarchy above " + type.replace('/', '.')
                + " is deeper than " + MAX_DEPTH + " types or has more than " + MAX_SUPERTYPES
                + " supertypes; it is not read further");
    }

    /**
     * Counts one more type visited by a walk over the supertypes of {@code from}.
     *
     * @throws InstrumentationException past {@link #MAX_SUPERTYPES}
     */
    public static void checkWalk(int visited, String from) {
        if (visited > MAX_SUPERTYPES) {
            throw tooDeep(from);
        }
    }

    /**
     * @return whether {@code sub} is {@code sup} or one of its subtypes (classes and interfaces;
     *     types that cannot be found count as unrelated)
     */
    public boolean isSubtype(String sub, String sup) {
        if (sub.equals(sup) || sup.equals(OBJECT)) {
            return true;
        }
        Deque<String> todo = new ArrayDeque<>();
        Set<String> seen = new HashSet<>();
        todo.add(sub);
        while (!todo.isEmpty()) {
            String type = todo.poll();
            if (!seen.add(type)) {
                continue;
            }
            checkWalk(seen.size(), sub);
            if (type.equals(sup)) {
                return true;
            }
            ClassInfo info = get(type);
            if (info == null) {
                continue;
            }
            if (info.superName() != null) {
                todo.add(info.superName());
            }
            for (String itf : info.interfaces()) {
                todo.add(itf);
            }
        }
        return false;
    }

    /**
     * The common superclass of two classes, as a ClassWriter needs for stack map frames.
     *
     * @throws InstrumentationException if a class cannot be found
     */
    public String commonSuperClass(String type1, String type2) {
        if (type1.equals(type2)) {
            return type1;
        }
        if (isSubtype(type2, type1)) {
            return type1;
        }
        if (isSubtype(type1, type2)) {
            return type2;
        }
        if (isInterface(type1) || isInterface(type2)) {
            return OBJECT;
        }
        String candidate = type1;
        do {
            candidate = superName(candidate); // NOTE: ends: superName refuses a cyclic or endless chain
            if (candidate == null) {
                return OBJECT;
            }
        } while (!isSubtype(type2, candidate));
        return candidate;
    }

    /**
     * Tells whether a call to {@code owner.name desc} resolves to a coroutine function: a method
     * that carries {@code @CoroutineFn}, overrides or implements one, is the target of a bridge
     * method that is one, or is a bridge whose target is one (a bridge that overrides no
     * coroutine function is reached only through plain methods, but it calls one: taking it for
     * one keeps the build-time rule check from asking for a marker on a synthetic method).
     */
    public boolean isCoroutineFn(String owner, String name, String desc) {
        if (name.charAt(0) == '<') {
            return false;
        }
        String key = owner + '.' + name + desc;
        Boolean cached = coroutineFns.get(key);
        if (cached == null) {
            cached = allMethods ? declaredOutsideJdk(owner, name, desc)
                    : computeIsCoroutineFn(owner, name, desc, new HashSet<>());
            coroutineFns.put(key, cached);
        }
        return cached;
    }

    /**
     * Records that a call instruction that {@link CoroutineMethods} wrote (a forwarder's call to a
     * synthetic lambda body of its class, which carries no marker but is a coroutine function: its
     * lambda's interface method is one) is a suspension point. Kept per instruction, not per
     * method name, so that no other class, nor another version of this class (a redefinition), is
     * answered from it; the instructions are held weakly.
     */
    void markForwardedCall(org.objectweb.asm.tree.MethodInsnNode call) {
        forwardedCalls.put(call, Boolean.TRUE);
    }

    /** @return whether {@link #markForwardedCall} recorded this very instruction */
    public boolean isForwardedCall(org.objectweb.asm.tree.MethodInsnNode call) {
        return forwardedCalls.containsKey(call);
    }

    /**
     * Stress mode: a call is a suspension point when it resolves to a method declared by a class
     * that is not the JDK's and is not a bridge (those are the methods the stress mode rewrites).
     */
    private boolean declaredOutsideJdk(String owner, String name, String desc) {
        Deque<String> todo = new ArrayDeque<>();
        Set<String> seen = new HashSet<>();
        todo.add(owner);
        while (!todo.isEmpty()) {
            String type = todo.poll();
            if (!seen.add(type) || isJdkType(type)) {
                continue;
            }
            checkWalk(seen.size(), owner);
            ClassInfo info = get(type);
            if (info == null) {
                continue;
            }
            MethodInfo method = info.methods().get(name + desc);
            if (method != null) {
                return (method.access() & (Opcodes.ACC_BRIDGE | Opcodes.ACC_NATIVE)) == 0;
            }
            if (info.superName() != null) {
                todo.add(info.superName());
            }
            todo.addAll(List.of(info.interfaces()));
        }
        return false;
    }

    /**
     * Walks up from {@code owner} as the JVM resolves and overrides: the first declaration met is
     * the method a reference resolves to; the supertypes' declarations above it count only if it
     * overrides them (JVMS 5.4.5). A private or static method overrides nothing and is overridden by
     * nothing, so the marker does not pass through it: as the resolved method, it is a coroutine
     * function only if marked itself; above one, it is passed over. A package-private method is
     * overridden only from its own package, directly or through a method in between that overrides
     * it ({@link #overrides}): a method of another package with the same name and descriptor is a
     * different method, and taking it for a coroutine function would make its plain callers fail.
     * Interface methods are public: any instance method of a class implements them.
     */
    private boolean computeIsCoroutineFn(String owner, String name, String desc, Set<String> seen) {
        String key = name + desc;
        Deque<String> todo = new ArrayDeque<>();
        Deque<Boolean> resolved = new ArrayDeque<>(); // NOTE: whether a declaration was met below, on this path
        ClassInfo start = get(owner);
        if (start != null && !start.isInterface()) {
            // the superclass chain first, where package access decides what overrides what
            List<String> overriders = new ArrayList<>(); // NOTE: classes declaring the resolved method and what it overrides
            boolean passedOver = false;
            int depth = 0;
            for (String type = owner; type != null && !passedOver; ) {
                if (!seen.add(type + '.' + key + (overriders.isEmpty() ? "" : "^"))) {
                    break;
                }
                checkWalk(++depth, owner);
                ClassInfo info = get(type);
                if (info == null) {
                    break;
                }
                MethodInfo method = info.methods().get(key);
                boolean hidden = method != null && (method.access() & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC)) != 0;
                if (method != null && overriders.isEmpty()) {
                    if (method.annotated()) {
                        return true;
                    }
                    if (method.bridgeTarget() != null && !hidden
                            && computeIsCoroutineFn(type, name, method.bridgeTarget(), seen)) {
                        return true; // NOTE: a bridge only forwards to its target: one when the target is
                    }
                    if (method.accessorTarget() != null) {
                        // a synthetic accessor that only forwards: what it forwards to decides (it is static)
                        Call target = method.accessorTarget();
                        return computeIsCoroutineFn(target.owner(), target.name(), target.desc(), seen);
                    }
                    if (hidden) {
                        passedOver = true; // NOTE: the resolved method is private or static, and not marked: nothing above counts
                        continue;
                    }
                    overriders.add(type);
                } else if (method != null && !hidden && overrides(overriders, type, method.access())) {
                    if (method.annotated()) {
                        return true;
                    }
                    overriders.add(type);
                }
                if (bridgesToCoroutineFn(info, type, name, desc, seen)) {
                    return true;
                }
                for (String itf : info.interfaces()) {
                    todo.add(itf);
                    resolved.add(!overriders.isEmpty());
                }
                type = info.superName();
            }
            if (passedOver) {
                return false;
            }
        } else {
            todo.add(owner);
            resolved.add(false);
        }
        // interfaces (and, from an interface, Object): all their methods are public
        while (!todo.isEmpty()) {
            String type = todo.poll();
            boolean below = resolved.poll();
            if (!seen.add(type + '.' + key + (below ? "^" : ""))) {
                continue;
            }
            checkWalk(seen.size(), owner);
            ClassInfo info = get(type);
            if (info == null) {
                continue;
            }
            MethodInfo method = info.methods().get(key);
            boolean passedOver = method != null && (method.access() & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC)) != 0;
            if (method != null && method.annotated() && !(below && passedOver)) {
                return true;
            }
            if (passedOver && !below) {
                continue; // NOTE: the resolved method is private or static, and not marked: nothing above counts
            }
            if (method != null && !below && method.bridgeTarget() != null
                    && computeIsCoroutineFn(type, name, method.bridgeTarget(), seen)) {
                return true; // NOTE: a default bridge of an interface, as for a class above
            }
            if (bridgesToCoroutineFn(info, type, name, desc, seen)) {
                return true;
            }
            boolean declared = below || method != null;
            if (info.superName() != null) {
                todo.add(info.superName());
                resolved.add(declared);
            }
            for (String itf : info.interfaces()) {
                todo.add(itf);
                resolved.add(declared);
            }
        }
        return false;
    }

    /** @return whether a bridge method of {@code type} that forwards to {@code name desc} is a coroutine function */
    private boolean bridgesToCoroutineFn(ClassInfo info, String type, String name, String desc, Set<String> seen) {
        for (Map.Entry<String, MethodInfo> entry : info.methods().entrySet()) {
            MethodInfo bridge = entry.getValue();
            if (desc.equals(bridge.bridgeTarget()) && entry.getKey().startsWith(name + "(")
                    && computeIsCoroutineFn(type, name, entry.getKey().substring(name.length()), seen)) {
                return true;
            }
        }
        return false;
    }

    /**
     * JVMS 5.4.5 for a method declared in class {@code above} with {@code access}, and a method of
     * the same name and descriptor declared in subclasses {@code overriders} (the first of which
     * overrides each of the others): the first overrides it if it is public or protected, or if it
     * is package-private and one of them (directly or through the others: the transitive case) is
     * in its package. Packages are compared by name: the instrumenter sees one class loader's view.
     */
    static boolean overrides(List<String> overriders, String above, int access) {
        if ((access & (Opcodes.ACC_PUBLIC | Opcodes.ACC_PROTECTED)) != 0) {
            return true;
        }
        String pkg = packageOf(above);
        for (String below : overriders) {
            if (packageOf(below).equals(pkg)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Tells whether the method {@code name desc} declared in {@code owner} overrides the one
     * declared in its supertype {@code above} (JVMS 5.4.5, with the transitive case through the
     * classes in between); an interface's method is overridden by any instance method.
     */
    public boolean overridesDeclaration(String owner, String name, String desc, String above) {
        String key = name + desc;
        ClassInfo target = get(above);
        MethodInfo method = target == null ? null : target.methods().get(key);
        if (method == null || (method.access() & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC)) != 0) {
            return false;
        }
        if (target.isInterface()) {
            return true;
        }
        List<String> overriders = new ArrayList<>(List.of(owner));
        int depth = 0;
        ClassInfo start = get(owner);
        for (String type = start == null ? null : start.superName(); type != null; ) {
            checkWalk(++depth, owner);
            if (type.equals(above)) {
                return overrides(overriders, above, method.access());
            }
            ClassInfo info = get(type);
            if (info == null) {
                break;
            }
            type = info.superName();
            MethodInfo between = info == null ? null : info.methods().get(key);
            if (between != null && (between.access() & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC)) == 0
                    && overrides(overriders, info.name(), between.access())) {
                overriders.add(info.name());
            }
        }
        return true; // NOTE: not on the superclass chain (reached through an interface): as before
    }

    /**
     * Tells whether the instance method {@code name desc} declared in class {@code owner} may hide,
     * without overriding, a method of a superclass (JVMS 5.4.5): some superclass declares a
     * package-private instance method of that name and descriptor in another package than
     * {@code owner}'s. A call resolved to that method, on a receiver of class {@code owner}, then
     * selects it, not {@code owner}'s: the wrapper must take the exact check
     * ({@code CoStack.admitExact}). Conservative: true as well when a superclass cannot be read,
     * and when a method in between overrides the package-private one (no cost but the check's);
     * a superclass of the same package name in another class loader (a split package) is taken as
     * the same package, as everywhere in the instrumenter.
     *
     * @throws InstrumentationException for a cyclic or too deep chain of superclasses
     */
    public boolean mayHidePackagePrivate(String owner, String name, String desc) {
        String key = name + desc;
        String pkg = packageOf(owner);
        ClassInfo start = get(owner);
        if (start == null) {
            return true;
        }
        checkSuperclassChain(owner); // NOTE: the walk below ends
        int depth = 0;
        for (String type = start.superName(); type != null; ) {
            checkWalk(++depth, owner);
            ClassInfo info = get(type);
            if (info == null) {
                return true; // NOTE: cannot tell what it declares: be exact
            }
            MethodInfo method = info.methods().get(key);
            if (method != null && (method.access() & (Opcodes.ACC_PRIVATE | Opcodes.ACC_STATIC | Opcodes.ACC_PUBLIC
                    | Opcodes.ACC_PROTECTED)) == 0 && !packageOf(type).equals(pkg)) {
                return true;
            }
            type = info.superName();
        }
        return false;
    }

    /** @return the package part of an internal class name ("" for the unnamed package) */
    static String packageOf(String internalName) {
        int slash = internalName.lastIndexOf('/');
        return slash < 0 ? "" : internalName.substring(0, slash);
    }

    /**
     * Tells whether a method declared in {@code owner} is a coroutine function because a
     * supertype's method with the same name and descriptor is one (the marker is inherited).
     */
    public boolean overridesCoroutineFn(String owner, String name, String desc) {
        ClassInfo info = get(owner);
        if (info == null) {
            return false;
        }
        if (info.superName() != null && isCoroutineFn(info.superName(), name, desc)) {
            return true;
        }
        for (String itf : info.interfaces()) {
            if (isCoroutineFn(itf, name, desc)) {
                return true;
            }
        }
        return false;
    }

    /** Notes a type found to have no coroutine function (the quick scan of its own class file). */
    public void recordWithoutCoroutineFns(String type) {
        typesWithCoroutineFns.put(type, false);
    }

    /**
     * Notes a type whose own class file declares no coroutine function (it does not name the
     * runtime), without saying anything of its supertypes, which were not looked at: a subclass
     * checked later reads them instead of this type's class file.
     */
    void recordDeclaresNone(ClassFileScan scan) {
        String[] supertypes = new String[1 + scan.interfaces.length];
        supertypes[0] = scan.superName;
        System.arraycopy(scan.interfaces, 0, supertypes, 1, scan.interfaces.length);
        declaringNone.put(scan.className, supertypes);
    }

    /**
     * @return true if the type and its supertypes are known to declare no coroutine function;
     *     false if they have some, or if that is not known without reading class files
     */
    boolean isKnownWithoutCoroutineFns(String type) {
        return Boolean.FALSE.equals(typesWithCoroutineFns.get(type));
    }

    /**
     * @return whether the type or one of its supertypes declares a coroutine function
     * @throws InstrumentationException if the supertypes form a cycle (stale class files) or a
     *     chain longer than {@link #MAX_DEPTH}
     */
    public boolean hasCoroutineFns(String type) {
        return hasCoroutineFns(type, new ArrayList<>());
    }

    /** @param path the types whose question waits for this one's answer, the first asked first */
    private boolean hasCoroutineFns(String type, List<String> path) {
        if (isJdkType(type)) {
            return false;
        }
        Boolean cached = typesWithCoroutineFns.get(type);
        if (cached != null) {
            return cached;
        }
        int at = path.indexOf(type); // NOTE: at most MAX_DEPTH long, and only while answers are unknown
        if (at >= 0) {
            throw cyclic(path.subList(at, path.size()), type);
        }
        if (path.size() >= MAX_DEPTH) {
            throw tooDeep(path.get(0));
        }
        path.add(type);
        try {
            return hasCoroutineFnsUncached(type, path);
        } finally {
            path.remove(path.size() - 1);
        }
    }

    private boolean hasCoroutineFnsUncached(String type, List<String> path) {
        boolean result = false;
        String[] supertypes = declaringNone.get(type);
        if (supertypes != null) {
            for (int i = 0; !result && i < supertypes.length; i++) {
                result = supertypes[i] != null && hasCoroutineFns(supertypes[i], path);
            }
            typesWithCoroutineFns.put(type, result);
            declaringNone.remove(type); // NOTE: the answer above is complete: no need to keep both
            return result;
        }
        ClassInfo info = classes.get(type);
        if (info == null) {
            // not parsed yet: a class file that does not name the runtime declares no coroutine
            // function, so only its supertypes matter, and the lean scan gives them
            ClassFilePrefix prefix = ClassFilePrefix.open(lookup, type);
            ClassFileScan scan = null;
            byte[] whole = null;
            if (prefix != null) {
                try {
                    scan = prefix.scan();
                    if (scan == null || scan.mentionsRuntime) {
                        whole = prefix.whole();
                    }
                } finally {
                    prefix.close();
                }
            }
            if (scan != null && !scan.mentionsRuntime) {
                result = scan.superName != null && hasCoroutineFns(scan.superName, path);
                for (int i = 0; !result && i < scan.interfaces.length; i++) {
                    result = hasCoroutineFns(scan.interfaces[i], path);
                }
                typesWithCoroutineFns.put(type, result);
                return result;
            }
            ClassInfo parsed = parse(whole);
            ClassInfo previous = classes.putIfAbsent(type, parsed);
            info = previous != null ? previous : parsed;
            info = info == MISSING ? null : info;
        } else if (info == MISSING) {
            info = null;
        }
        if (info != null) {
            for (MethodInfo method : info.methods().values()) {
                result |= method.annotated();
            }
            if (!result && info.superName() != null) {
                result = hasCoroutineFns(info.superName(), path);
            }
            for (int i = 0; !result && i < info.interfaces().length; i++) {
                result = hasCoroutineFns(info.interfaces()[i], path);
            }
        }
        typesWithCoroutineFns.put(type, result);
        return result;
    }
}
