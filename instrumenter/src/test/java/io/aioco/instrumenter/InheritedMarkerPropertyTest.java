package io.aioco.instrumenter;

import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.testing.TriesFromProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.statistics.Statistics;
import org.junit.jupiter.api.Assertions;

/**
 * Which methods are coroutine functions, over random class hierarchies: the instrumenter reads the
 * hierarchy from class bytes ({@link ClassHierarchy}); a model of the Java language's rules, built
 * from the same random hierarchy and knowing nothing of the instrumenter, says what it must find.
 * A method is a coroutine function when it is marked, or when it overrides one (JLS 8.4.8.1 and
 * JVMS 5.4.5: an instance method that is not private, from a supertype's instance method that is
 * not private, through any number of classes and interfaces; a package-private method only from
 * its own package, directly or through a method in between that overrides it); a private or static
 * method is one only when marked itself. The types are spread over two packages, and each name
 * comes with an overload ({@code long} parameter) that overrides nothing of the other.
 *
 * <p>Each hierarchy is compiled by javac; a sample javac rejects (an instance method hiding a
 * static one, weaker access, two unrelated defaults) is discarded. The model's coroutine
 * functions call {@code Coroutine.yield()}, so the instrumenter's own rule check must find no
 * error in the classes either: a method it missed would be a plain method calling a coroutine
 * function. A call through a type to a coroutine function its superclasses declare must be a
 * suspension point too. A second property does the same over generic hierarchies, where javac
 * writes bridge methods for overrides with type arguments and covariant returns. Run longer with
 * {@code -Daioco.random.tries=N}.
 */
class InheritedMarkerPropertyTest {
    /** Method signatures: a name and its parameter type; "a" is overloaded. */
    private static final String[] NAMES = {"a(int)", "a(long)", "b(int)"};
    private static final String[] PACKAGES = {"h", "g"};

    /** @return the descriptor of a signature of {@link #NAMES} */
    private static String desc(String signature) {
        return signature.endsWith("(long)") ? "(J)I" : "(I)I";
    }

    /** @return the method name of a signature of {@link #NAMES} */
    private static String simpleName(String signature) {
        return signature.substring(0, signature.indexOf('('));
    }

    /** How a type declares a method. */
    private enum Kind {
        PUBLIC, PACKAGE, PRIVATE, STATIC, ABSTRACT, DEFAULT;

        /** @return whether it is an instance method that is not private: it overrides, and is overridden */
        boolean overrides() {
            return this == PUBLIC || this == PACKAGE || this == ABSTRACT || this == DEFAULT;
        }
    }

    private record Method(String name, Kind kind, boolean marked) {}

    /**
     * @param superClass the index of an earlier class, or -1
     * @param interfaces the indexes of earlier interfaces
     */
    private record Type(int index, String pkg, boolean isInterface, int superClass, List<Integer> interfaces,
            List<Method> methods) {
        String name() {
            return "T" + index;
        }

        /** @return the internal name */
        String internalName() {
            return pkg + "/" + name();
        }

        /** @return the qualified name */
        String qualifiedName() {
            return pkg + "." + name();
        }

        Method method(String name) {
            return methods.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
        }

        List<Integer> supertypes() {
            List<Integer> all = new ArrayList<>(interfaces);
            if (superClass >= 0) {
                all.add(0, superClass);
            }
            return all;
        }
    }

    /**
     * Discards: the generator writes hierarchies without knowing javac's rules on name clashes and
     * incompatible returns, and javac rejects some; such a try is discarded (nothing of aioco ran),
     * counted in the statistics and bounded here: the property fails above this share (seen 4%).
     */
    static final double MAX_REJECTED_PERCENT = 10;

    /**
     * The same for generic hierarchies, where random type arguments and covariant returns clash far
     * more often (seen 47% of 300 tries with CI's seed, so 160 hierarchies are checked). This is more
     * than a small share: the next step is a generator that avoids the clashes javac reports.
     *
     * <p>Why no discard hides a defect of aioco: each is a hierarchy javac refuses, so no class file
     * exists for the instrumenter to read; aioco never ran on it. The kinds, from the statistic
     * "javac's first reason" (CI's seed, 140 rejected of 300): an override or implementation with an
     * incompatible return type or weaker access ("cannot override", "cannot implement": 62%), two
     * methods whose erasures clash without overriding ("name clash", "inherited with the same
     * signature": 24%), an instance method clashing with a static one ("clashes with": 10%), a
     * generic interface inherited with two different type arguments ("cannot be inherited with
     * different arguments", "types ... are incompatible": 4%). The plain property's kinds are the first
     * and the third.
     */
    static final double MAX_GENERIC_REJECTED_PERCENT = 55;

    @AddLifecycleHook(TriesFromProperty.Random.class)
    @Property(tries = 300)
    void theInstrumenterFindsTheCoroutineFunctionsTheLanguagesRulesMake(@ForAll long seed) {
        List<Type> types = hierarchy(new Random(seed));
        Map<String, String> sources = new LinkedHashMap<>();
        for (Type type : types) {
            sources.put(type.qualifiedName(), source(types, type));
        }
        Map<String, byte[]> classes;
        try {
            classes = TestCompiler.compile(sources);
        } catch (IllegalArgumentException e) {
            classes = null; // NOTE: javac rejected the hierarchy (its message starts "compilation failed")
            Statistics.label("javac's first reason").collect(javacsFirstReason(e));
        }
        Statistics.label("discarded: javac rejected the generated hierarchy").collect(classes == null)
                .coverage(coverage -> coverage.check(true).percentage(p -> p <= MAX_REJECTED_PERCENT));
        Assume.that(classes != null);

        Map<String, byte[]> compiled = classes;
        ClassLookup lookup = ClassLookup.chain(compiled::get,
                ClassLookup.ofClassLoader(InheritedMarkerPropertyTest.class.getClassLoader()));
        ClassHierarchy hierarchy = new ClassHierarchy(lookup, false);
        int coroutineFns = 0;
        for (Type type : types) {
            for (Method method : type.methods()) {
                boolean expected = isCoroutineFn(types, type, method);
                coroutineFns += expected ? 1 : 0;
                if (hierarchy.isCoroutineFn(type.internalName(), simpleName(method.name()), desc(method.name())) != expected) {
                    Assertions.fail(type.name() + "." + method.name() + " (" + method.kind() + (method.marked()
                            ? ", marked" : "") + ") is " + (expected ? "" : "not ") + "a coroutine function by the"
                            + " language's rules, and the instrumenter says the opposite; seed " + seed + ":\n"
                            + String.join("\n", sources.values()));
                }
            }
        }
        int inheritedCalls = 0;
        for (Type type : types) {
            for (String name : NAMES) {
                Method resolved = null;
                Type declaring = null;
                for (int index = type.superClass(); resolved == null && index >= 0 && type.method(name) == null;
                        index = types.get(index).superClass()) {
                    declaring = types.get(index);
                    resolved = declaring.method(name);
                }
                // NOTE: a call through T to what its superclass chain declares (a private method there
                // is no call javac writes). Only one way is asserted: such a call may also count
                // through T's interfaces (a superclass's plain method implementing a marked interface
                // method, in T), which costs a needless check, never a missed suspension
                if (resolved != null && resolved.kind() != Kind.PRIVATE && isCoroutineFn(types, declaring, resolved)) {
                    inheritedCalls++;
                    if (!hierarchy.isCoroutineFn(type.internalName(), simpleName(name), desc(name))) {
                        Assertions.fail("a call to " + type.name() + "." + name + " resolves to coroutine function "
                                + declaring.name() + "." + name + ", and the instrumenter does not take it for a"
                                + " suspension point; seed " + seed + ":\n" + String.join("\n", sources.values()));
                    }
                }
            }
        }
        Statistics.label("calls to an inherited coroutine function").collect(inheritedCalls > 0);
        Instrumenter instrumenter = new Instrumenter(lookup);
        for (Map.Entry<String, byte[]> entry : compiled.entrySet()) {
            for (Diagnostic finding : instrumenter.checkCoroutineFnRule(entry.getValue())) {
                if (finding.severity() == Diagnostic.Severity.ERROR) {
                    Assertions.fail(finding + "; seed " + seed + ":\n" + String.join("\n", sources.values()));
                }
            }
            Assertions.assertNotEquals(InstrumentationResult.Outcome.FAILED,
                    instrumenter.instrument(entry.getValue()).outcome(), entry.getKey());
        }
        Statistics.label("coroutine functions by inheritance or marker").collect(coroutineFns == 0 ? "0"
                : coroutineFns <= 2 ? "1-2" : "3 or more");
    }

    /** The model: marked, or an overriding method that overrides a coroutine function. */
    private static boolean isCoroutineFn(List<Type> types, Type type, Method method) {
        if (method.marked()) {
            return true;
        }
        if (!method.kind().overrides()) {
            return false;
        }
        for (Type above : properSupertypes(types, type)) {
            Method declared = above.method(method.name());
            if (declared != null && declared.kind().overrides() && overrides(types, type, above, method.name())
                    && isCoroutineFn(types, above, declared)) {
                return true;
            }
        }
        return false;
    }

    /**
     * JLS 8.4.8.1: whether {@code below}'s method of that signature (an instance method, not
     * private) overrides {@code above}'s (the same). An interface's method is public; a class's is
     * overridden from a subclass when it is public (PUBLIC, or ABSTRACT, which is rendered public),
     * or package-private in the subclass's package, or through a class in between whose method
     * overrides it and is overridden by the subclass's.
     */
    private static boolean overrides(List<Type> types, Type below, Type above, String name) {
        if (above.isInterface() || above.method(name).kind() != Kind.PACKAGE || above.pkg().equals(below.pkg())) {
            return true;
        }
        for (int index = below.superClass(); index >= 0 && index != above.index(); index = types.get(index).superClass()) {
            Type between = types.get(index);
            Method declared = between.method(name);
            if (declared != null && declared.kind().overrides() && overrides(types, below, between, name)
                    && overrides(types, between, above, name)) {
                return true;
            }
        }
        return false;
    }

    /** @return the proper supertypes of {@code type}, at any depth (a class's superclasses among them) */
    private static List<Type> properSupertypes(List<Type> types, Type type) {
        List<Type> out = new ArrayList<>();
        for (int index : type.supertypes()) {
            Type supertype = types.get(index);
            if (!out.contains(supertype)) {
                out.add(supertype);
            }
            for (Type above : properSupertypes(types, supertype)) {
                if (!out.contains(above)) {
                    out.add(above);
                }
            }
        }
        return out;
    }

    /**
     * A random hierarchy of 2 to 6 types, each extending only earlier ones; every class is
     * abstract, so that javac asks no class to implement what it inherits.
     */
    private static List<Type> hierarchy(Random random) {
        int count = 2 + random.nextInt(5);
        List<Type> types = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            boolean isInterface = random.nextInt(3) == 0;
            List<Integer> classes = new ArrayList<>();
            List<Integer> interfaces = new ArrayList<>();
            for (Type earlier : types) {
                (earlier.isInterface() ? interfaces : classes).add(earlier.index());
            }
            int superClass = !isInterface && !classes.isEmpty() && random.nextInt(4) != 0
                    ? classes.get(random.nextInt(classes.size())) : -1;
            List<Integer> chosen = new ArrayList<>();
            for (int itf : interfaces) {
                if (chosen.size() < 2 && random.nextInt(3) == 0) {
                    chosen.add(itf);
                }
            }
            String pkg = PACKAGES[random.nextInt(PACKAGES.length)];
            Type draft = new Type(i, pkg, isInterface, superClass, chosen, List.of());
            List<Method> methods = new ArrayList<>();
            for (String name : NAMES) {
                if (random.nextInt(3) != 0) {
                    // NOTE: over an inherited method, only what javac takes (no weaker access, no static
                    // against instance), so that few samples are discarded; a private or static
                    // supertype method, which nothing inherits, leaves every kind open
                    Kind[] kinds = inheritsInstance(types, draft, name) && !onlyOtherPackagesPrivate(types, draft, name)
                            ? (isInterface ? new Kind[] {Kind.ABSTRACT, Kind.DEFAULT} : new Kind[] {Kind.PUBLIC, Kind.ABSTRACT})
                            : !isInterface && inheritsStatic(types, superClass, name) ? new Kind[] {Kind.STATIC}
                            : isInterface ? new Kind[] {Kind.ABSTRACT, Kind.DEFAULT, Kind.STATIC, Kind.PRIVATE}
                            : new Kind[] {Kind.PUBLIC, Kind.PACKAGE, Kind.PRIVATE, Kind.STATIC, Kind.ABSTRACT};
                    methods.add(new Method(name, kinds[random.nextInt(kinds.length)], random.nextInt(3) == 0));
                }
            }
            types.add(new Type(i, pkg, isInterface, superClass, chosen, methods));
        }
        return types;
    }

    /** @return whether a supertype of {@code type}, at any depth, has an instance method of this name that is not private */
    private static boolean inheritsInstance(List<Type> types, Type type, String name) {
        for (int index : type.supertypes()) {
            Type supertype = types.get(index);
            Method declared = supertype.method(name);
            if ((declared != null && declared.kind().overrides()) || inheritsInstance(types, supertype, name)) {
                return true;
            }
        }
        return false;
    }

    /**
     * @return whether every instance method of this signature that {@code type} would inherit is
     *     package-private in another package (then any kind is open: it overrides none of them)
     */
    private static boolean onlyOtherPackagesPrivate(List<Type> types, Type type, String name) {
        for (Type above : properSupertypes(types, type)) {
            Method declared = above.method(name);
            if (declared != null && declared.kind().overrides()
                    && (declared.kind() != Kind.PACKAGE || above.pkg().equals(type.pkg()))) {
                return false;
            }
        }
        return true;
    }

    /** @return whether a class of the chain from {@code superClass} up has a static method of this name */
    private static boolean inheritsStatic(List<Type> types, int superClass, String name) {
        for (int index = superClass; index >= 0; index = types.get(index).superClass()) {
            Method declared = types.get(index).method(name);
            if (declared != null && declared.kind() == Kind.STATIC) {
                return true;
            }
        }
        return false;
    }

    /** A type's source: the model's coroutine functions yield, the other methods only compute. */
    private static String source(List<Type> types, Type type) {
        StringBuilder out = new StringBuilder("package " + type.pkg() + ";\nimport io.aioco.*;\n");
        out.append(type.isInterface() ? "public interface " : "public abstract class ").append(type.name());
        if (type.superClass() >= 0) {
            out.append(" extends ").append(types.get(type.superClass()).qualifiedName());
        }
        if (!type.interfaces().isEmpty()) {
            out.append(type.isInterface() ? " extends " : " implements ");
            out.append(String.join(", ", type.interfaces().stream().map(i -> types.get(i).qualifiedName()).toList()));
        }
        out.append(" {\n");
        for (Method method : type.methods()) {
            out.append("    ").append(method.marked() ? "@CoroutineFn " : "").append(switch (method.kind()) {
                case PUBLIC -> "public ";
                case PACKAGE -> "";
                case PRIVATE -> "private ";
                case STATIC -> type.isInterface() ? "static " : "public static ";
                case ABSTRACT -> type.isInterface() ? "" : "public abstract ";
                case DEFAULT -> "default ";
            }).append("int ").append(method.name().replace(")", " x)"));
            if (method.kind() == Kind.ABSTRACT) {
                out.append(";\n");
            } else {
                out.append(" { ").append(isCoroutineFn(types, type, method) ? "Coroutine.yield(); " : "")
                        .append("return (int) x * 3 + ").append(type.index()).append("; }\n");
            }
        }
        return out.append("}\n").toString();
    }

    /** @return javac's first error of a rejected hierarchy, with type and method names folded into kinds */
    private static String javacsFirstReason(IllegalArgumentException rejected) {
        String[] lines = rejected.getMessage().split("\n");
        return lines.length < 2 ? "?"
                : lines[1].replaceAll("^[^ ]* ", "").replaceAll("[bhg]\\.T[0-9]+", "T").replaceAll("T[0-9]+", "T")
                        .replaceAll("<[^>]*>", "<.>").replaceAll("[abgr]\\(([A-Za-z.]+)\\)", "m($1)");
    }

    // ---- generic supertypes and bridges ----

    /** The parameter or return types a generic hierarchy's methods use; "X" is the declaring type's parameter. */
    private static final String[] PARAMETERS = {"X", "Integer"};
    private static final String[] RESULTS = {"Object", "Number", "Integer", "X"};

    /**
     * A method of a generic hierarchy: {@code g} takes a {@code parameter} ({@code X} or
     * {@code Integer}) and returns {@code int}; {@code r} takes an {@code int} and returns
     * {@code result}: a subtype redeclaring them with a type argument or a covariant return makes
     * javac write bridge methods.
     */
    private record GMethod(String name, String parameter, String result, boolean isAbstract, boolean marked) {
        String descriptor() {
            return name.equals("g") ? "(" + erased(parameter) + ")I" : "(I)" + erased(result);
        }
    }

    /**
     * A generic type {@code Ti<X>}; each supertype is given the type argument {@code X} (this
     * type's parameter) or {@code Integer}.
     */
    private record GType(int index, boolean isInterface, int superClass, List<Integer> interfaces,
            List<String> arguments, List<GMethod> methods) {
        String internalName() {
            return "b/T" + index;
        }

        GMethod method(String name) {
            return methods.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
        }

        /** @return the direct supertypes, the superclass first, each with its type argument */
        List<Integer> supertypes() {
            List<Integer> all = new ArrayList<>(interfaces);
            if (superClass >= 0) {
                all.add(0, superClass);
            }
            return all;
        }
    }

    private static String erased(String type) {
        return switch (type) {
            case "X", "Object" -> "Ljava/lang/Object;";
            case "Number" -> "Ljava/lang/Number;";
            case "int" -> "I";
            default -> "Ljava/lang/Integer;";
        };
    }

    /**
     * The same exactness over generic hierarchies: a method that redeclares a supertype's method
     * with a type argument for its parameter ({@code g(Integer)} over {@code g(X)} of
     * {@code T<Integer>}) or with a covariant return ({@code Integer r(int)} over
     * {@code Object r(int)} or {@code X r(int)}) overrides it under another descriptor, through
     * a bridge method javac writes. The model knows nothing of bridges: a method overrides a
     * supertype's when their signatures agree after substituting the type arguments (JLS 8.4.2,
     * 8.4.8.1); it is a coroutine function when marked or when it overrides one. The instrumenter
     * must agree on every declared method, take a bridge for a coroutine function exactly when it
     * overrides one (under its own descriptor) or the method it calls is one, and take a call through a type to a supertype's coroutine function
     * (under the supertype's descriptor) for a suspension point.
     */
    @AddLifecycleHook(TriesFromProperty.Random.class)
    @Property(tries = 300, seed = "8363188274643279958") // NOTE: fixed for CI; -Daioco.random.seed=random draws one
    void bridgesOfGenericAndCovariantOverridesAreCoroutineFunctionsExactlyWhenTheLanguageSays(@ForAll long seed) {
        checkGenericHierarchy(seed);
    }

    /**
     * The first hierarchy the property met that the instrumenter got wrong: {@code T3.r(int)}
     * returns {@code Number} and overrides a marked default method of {@code T1}; its bridge
     * {@code r(I)Object} overrides only {@code T0}'s plain method, was no coroutine function, and
     * the build-time rule check asked for a marker on that synthetic bridge.
     */
    @Example
    void aBridgeThatOverridesOnlyPlainMethodsButCallsACoroutineFunctionIsOne() {
        checkGenericHierarchy(307);
    }

    private void checkGenericHierarchy(long seed) {
        List<GType> types = genericHierarchy(new Random(seed));
        Map<String, String> sources = new LinkedHashMap<>();
        for (GType type : types) {
            sources.put("b.T" + type.index(), genericSource(types, type));
        }
        Map<String, byte[]> classes;
        try {
            classes = TestCompiler.compile(sources);
        } catch (IllegalArgumentException e) {
            classes = null; // NOTE: javac rejected the hierarchy (a name clash, an incompatible return)
            Statistics.label("javac's first reason").collect(javacsFirstReason(e));
        }
        Statistics.label("discarded: javac rejected the generated hierarchy").collect(classes == null)
                .coverage(coverage -> coverage.check(true).percentage(p -> p <= MAX_GENERIC_REJECTED_PERCENT));
        Assume.that(classes != null);

        Map<String, byte[]> compiled = classes;
        ClassLookup lookup = ClassLookup.chain(compiled::get,
                ClassLookup.ofClassLoader(InheritedMarkerPropertyTest.class.getClassLoader()));
        ClassHierarchy hierarchy = new ClassHierarchy(lookup, false);
        String program = "; seed " + seed + ":\n" + String.join("\n", sources.values());
        int bridgesToCoroutineFns = 0;
        int coroutineFns = 0;
        for (GType type : types) {
            for (GMethod method : type.methods()) {
                boolean expected = isCoroutineFn(types, type, method);
                coroutineFns += expected ? 1 : 0;
                if (hierarchy.isCoroutineFn(type.internalName(), method.name(), method.descriptor()) != expected) {
                    Assertions.fail("T" + type.index() + "." + method + " is " + (expected ? "" : "not ")
                            + "a coroutine function by the language's rules, and the instrumenter says the opposite"
                            + program);
                }
            }
            org.objectweb.asm.tree.ClassNode node = new org.objectweb.asm.tree.ClassNode();
            new org.objectweb.asm.ClassReader(compiled.get(type.internalName())).accept(node, 0);
            for (org.objectweb.asm.tree.MethodNode bridge : node.methods) {
                if ((bridge.access & org.objectweb.asm.Opcodes.ACC_BRIDGE) == 0) {
                    continue;
                }
                org.objectweb.asm.tree.MethodInsnNode call = null;
                for (var insn : bridge.instructions) {
                    if (insn instanceof org.objectweb.asm.tree.MethodInsnNode found) {
                        call = found;
                    }
                }
                Assertions.assertNotNull(call, bridge.name + bridge.desc);
                GType declaring = declaringType(types, type, call.name, call.desc);
                Assertions.assertNotNull(declaring, "the model finds what bridge " + bridge.name + bridge.desc
                        + " calls: " + call.name + call.desc + program);
                // NOTE: a bridge overrides, under its descriptor, the supertypes' methods of that
                // descriptor: it must be a coroutine function when one of them is (a caller through
                // that supertype arms the call for it), whether the method it calls is one or not (a
                // superclass's plain method can implement a marked interface method: the run-time
                // check refuses it); and when the method it calls is one (it forwards to it)
                boolean overridesOne = false;
                for (GType above : properGenericSupertypes(types, type)) {
                    GMethod overridden = above.method(bridge.name);
                    overridesOne |= overridden != null && overridden.descriptor().equals(bridge.desc)
                            && isCoroutineFn(types, above, overridden);
                }
                boolean callsOne = isCoroutineFn(types, declaring, declaring.method(call.name));
                bridgesToCoroutineFns += overridesOne || callsOne ? 1 : 0;
                boolean found = hierarchy.isCoroutineFn(type.internalName(), bridge.name, bridge.desc);
                if (found != (overridesOne || callsOne)) {
                    Assertions.fail("bridge T" + type.index() + "." + bridge.name + bridge.desc + " calls "
                            + call.name + call.desc + (callsOne ? ", a" : ", no") + " coroutine function, and "
                            + (overridesOne ? "overrides" : "does not override") + " one; the instrumenter says it is "
                            + (found ? "" : "not ") + "one" + program);
                }
            }
            for (GType above : properGenericSupertypes(types, type)) {
                for (GMethod method : above.methods()) {
                    if (isCoroutineFn(types, above, method)
                            && !hierarchy.isCoroutineFn(type.internalName(), method.name(), method.descriptor())) {
                        Assertions.fail("a call to T" + type.index() + "." + method.name() + method.descriptor()
                                + " resolves to coroutine function T" + above.index() + "." + method
                                + ", and the instrumenter does not take it for a suspension point" + program);
                    }
                }
            }
        }
        Statistics.label("bridges to coroutine functions").collect(bridgesToCoroutineFns == 0 ? "0"
                : bridgesToCoroutineFns <= 2 ? "1-2" : "3 or more");
        Statistics.label("coroutine functions by inheritance or marker").collect(coroutineFns == 0 ? "0"
                : coroutineFns <= 2 ? "1-2" : "3 or more");
        Instrumenter instrumenter = new Instrumenter(lookup);
        for (Map.Entry<String, byte[]> entry : compiled.entrySet()) {
            for (Diagnostic finding : instrumenter.checkCoroutineFnRule(entry.getValue())) {
                if (finding.severity() == Diagnostic.Severity.ERROR) {
                    Assertions.fail(finding + program);
                }
            }
            Assertions.assertNotEquals(InstrumentationResult.Outcome.FAILED,
                    instrumenter.instrument(entry.getValue()).outcome(), entry.getKey() + program);
        }
    }

    /** The model: marked, or overriding a coroutine function of a supertype (after substitution). */
    private static boolean isCoroutineFn(List<GType> types, GType type, GMethod method) {
        if (method.marked()) {
            return true;
        }
        for (GType above : properGenericSupertypes(types, type)) {
            GMethod declared = above.method(method.name());
            if (declared != null && overrides(types, type, method, above, declared)
                    && isCoroutineFn(types, above, declared)) {
                return true;
            }
        }
        return false;
    }

    /**
     * JLS 8.4.8.1 with 8.4.2: {@code below}'s {@code r(int)} overrides every {@code r(int)} above it
     * (javac checks the returns); its {@code g} overrides {@code above}'s when their parameter types
     * agree once {@code above}'s {@code X} is replaced by its argument as {@code below} sees it.
     */
    private static boolean overrides(List<GType> types, GType below, GMethod method, GType above, GMethod declared) {
        if (method.name().equals("r")) {
            return true;
        }
        String parameter = declared.parameter().equals("X") ? argument(types, below, above) : declared.parameter();
        return parameter.equals(method.parameter());
    }

    /**
     * @return what {@code above}'s type parameter is as {@code below} sees it: {@code "X"} (below's
     *     own parameter) or {@code "Integer"}, along the first path (javac rejects a type that
     *     inherits one generic type with two arguments)
     */
    private static String argument(List<GType> types, GType below, GType above) {
        List<Integer> supertypes = below.supertypes();
        for (int i = 0; i < supertypes.size(); i++) {
            GType direct = types.get(supertypes.get(i));
            String given = below.arguments().get(i);
            if (direct == above) {
                return given;
            }
            if (properGenericSupertypes(types, direct).contains(above)) {
                String through = argument(types, direct, above);
                return through.equals("X") ? given : through;
            }
        }
        throw new AssertionError("T" + above.index() + " is no supertype of T" + below.index());
    }

    private static List<GType> properGenericSupertypes(List<GType> types, GType type) {
        List<GType> out = new ArrayList<>();
        for (int index : type.supertypes()) {
            GType supertype = types.get(index);
            if (!out.contains(supertype)) {
                out.add(supertype);
            }
            for (GType above : properGenericSupertypes(types, supertype)) {
                if (!out.contains(above)) {
                    out.add(above);
                }
            }
        }
        return out;
    }

    /** @return the type, {@code type} or a supertype, that declares the method a bridge calls */
    private static GType declaringType(List<GType> types, GType type, String name, String descriptor) {
        List<GType> candidates = new ArrayList<>(List.of(type));
        candidates.addAll(properGenericSupertypes(types, type));
        for (GType candidate : candidates) {
            GMethod method = candidate.method(name);
            if (method != null && method.descriptor().equals(descriptor)) {
                return candidate;
            }
        }
        return null;
    }

    /** A random generic hierarchy of 2 to 6 types, each extending only earlier ones; classes are abstract. */
    private static List<GType> genericHierarchy(Random random) {
        int count = 2 + random.nextInt(5);
        List<GType> types = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            boolean isInterface = random.nextInt(3) == 0;
            List<Integer> classes = new ArrayList<>();
            List<Integer> interfaces = new ArrayList<>();
            for (GType earlier : types) {
                (earlier.isInterface() ? interfaces : classes).add(earlier.index());
            }
            int superClass = !isInterface && !classes.isEmpty() && random.nextInt(4) != 0
                    ? classes.get(random.nextInt(classes.size())) : -1;
            List<Integer> chosen = new ArrayList<>();
            for (int itf : interfaces) {
                if (chosen.size() < 2 && random.nextInt(3) == 0) {
                    chosen.add(itf);
                }
            }
            List<String> arguments = new ArrayList<>();
            for (int k = 0; k < chosen.size() + (superClass >= 0 ? 1 : 0); k++) {
                arguments.add(PARAMETERS[random.nextInt(PARAMETERS.length)]);
            }
            List<GMethod> methods = new ArrayList<>();
            for (String name : new String[] {"g", "r"}) {
                if (random.nextInt(4) != 0) {
                    boolean isAbstract = isInterface ? random.nextBoolean() : random.nextInt(3) == 0;
                    methods.add(new GMethod(name, PARAMETERS[random.nextInt(PARAMETERS.length)],
                            RESULTS[random.nextInt(RESULTS.length)], isAbstract, random.nextInt(3) == 0));
                }
            }
            types.add(new GType(i, isInterface, superClass, chosen, arguments, methods));
        }
        return types;
    }

    /** A generic type's source: the model's coroutine functions yield, the other methods only return. */
    private static String genericSource(List<GType> types, GType type) {
        StringBuilder out = new StringBuilder("package b;\nimport io.aioco.*;\n");
        out.append(type.isInterface() ? "public interface T" : "public abstract class T").append(type.index()).append("<X>");
        List<Integer> supertypes = type.supertypes();
        for (int i = 0; i < supertypes.size(); i++) {
            boolean isClass = i == 0 && type.superClass() >= 0;
            out.append(i == 0 ? (isClass || type.isInterface() ? " extends " : " implements ")
                    : i == 1 && type.superClass() >= 0 ? " implements " : ", ");
            out.append("T").append(supertypes.get(i)).append('<').append(type.arguments().get(i)).append('>');
        }
        out.append(" {\n");
        for (GMethod method : type.methods()) {
            out.append("    ").append(method.marked() ? "@CoroutineFn " : "")
                    .append(type.isInterface() ? (method.isAbstract() ? "" : "default ")
                            : method.isAbstract() ? "public abstract " : "public ")
                    .append(method.name().equals("g") ? "int g(" + method.parameter() + " x)" : method.result() + " r(int x)");
            if (method.isAbstract()) {
                out.append(";\n");
            } else {
                out.append(" { ").append(isCoroutineFn(types, type, method) ? "Coroutine.yield(); " : "")
                        .append(method.name().equals("g") ? "return " + type.index() + ";" : "return null;").append(" }\n");
            }
        }
        return out.append("}\n").toString();
    }
}
