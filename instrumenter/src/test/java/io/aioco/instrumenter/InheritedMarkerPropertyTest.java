package io.aioco.instrumenter;

import io.aioco.instrumenter.classfile.ClassHierarchy;
import io.aioco.testing.TriesFromProperty;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import net.jqwik.api.Assume;
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
 * suspension point too. Run longer with {@code -Daioco.random.tries=N}.
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
            String[] lines = e.getMessage().split("\n");
            Statistics.label("javac's first reason").collect(lines.length < 2 ? "?"
                    : lines[1].replaceAll("^[^ ]* ", "").replaceAll("[hg]\\.T[0-9]+", "T").replaceAll("T[0-9]+", "T")
                            .replaceAll("[ab]\\((int|long)\\)", "m(int)"));
        }
        Statistics.label("compiled").collect(classes != null);
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
}
