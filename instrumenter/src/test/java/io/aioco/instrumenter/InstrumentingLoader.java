package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.objectweb.asm.ClassReader;
import org.objectweb.asm.tree.ClassNode;
import org.objectweb.asm.tree.MethodNode;
import org.objectweb.asm.tree.analysis.Analyzer;
import org.objectweb.asm.tree.analysis.AnalyzerException;
import org.objectweb.asm.tree.analysis.BasicValue;
import org.objectweb.asm.util.CheckClassAdapter;

/**
 * A fresh class loader that instruments the classes it defines. Every class the instrumenter
 * rewrites is first checked with ASM's CheckClassAdapter and analyzer, then loaded (the JVM's
 * verifier is the final oracle).
 */
public final class InstrumentingLoader extends ClassLoader {
    private final Map<String, byte[]> original;
    private final Map<String, InstrumentationResult> results = new HashMap<>();
    /** Classes defined as compiled, as the agent's {@code exclude=} leaves them (internal names). */
    private final java.util.Set<String> excludedNames = new java.util.HashSet<>();
    /**
     * Classes defined as compiled although the instrumenter takes them as woven alike, as when the
     * agent expected to weave a class that was loaded without it (internal names).
     */
    private final java.util.Set<String> unwovenNames = new java.util.HashSet<>();
    private final Instrumenter instrumenter;
    private final java.util.function.Predicate<String> excluded;
    /** Defines the uninstrumented classes, for the type questions of the checks (no recursion into this loader). */
    private final ClassLoader hierarchyLoader;

    public InstrumentingLoader(Map<String, byte[]> classes) {
        this(classes, internalName -> false);
    }

    /**
     * @param excluded internal names of classes defined as compiled, never instrumented (as the
     *     agent's {@code exclude=} leaves them)
     */
    public InstrumentingLoader(Map<String, byte[]> classes, java.util.function.Predicate<String> excluded) {
        super(InstrumentingLoader.class.getClassLoader());
        this.original = classes;
        this.excluded = internalName -> excludedNames.contains(internalName) || excluded.test(internalName);
        this.hierarchyLoader = new ClassLoader(InstrumentingLoader.class.getClassLoader()) {
            @Override
            protected Class<?> findClass(String name) throws ClassNotFoundException {
                byte[] bytes = original.get(name.replace('.', '/'));
                if (bytes == null) {
                    throw new ClassNotFoundException(name);
                }
                return defineClass(name, bytes, 0, bytes.length);
            }
        };
        // the classes this loader defines instrumented are woven alike: static calls to them go straight to the bodies
        this.instrumenter = new Instrumenter(ClassLookup.chain(original::get,
                ClassLookup.ofClassLoader(InstrumentingLoader.class.getClassLoader())),
                new Instrumenter.Options(false, false, name -> original.containsKey(name) && !this.excluded.test(name)));
    }

    /** Compiles the sources and returns a loader over them. */
    public static InstrumentingLoader of(Map<String, String> sources, String... options) {
        return new InstrumentingLoader(TestCompiler.compile(sources, options));
    }

    /**
     * Leaves these classes as compiled, as the agent does with {@code exclude=}: call before they
     * are loaded.
     */
    public InstrumentingLoader exclude(String... dottedNames) {
        for (String name : dottedNames) {
            excludedNames.add(name.replace('.', '/'));
        }
        return this;
    }

    /**
     * Defines these classes as compiled while the instrumenter still takes them as woven alike (a
     * class the agent accepts that was loaded unwoven all the same): call before they are loaded.
     */
    public InstrumentingLoader loadUnwoven(String... dottedNames) {
        for (String name : dottedNames) {
            unwovenNames.add(name.replace('.', '/'));
        }
        return this;
    }

    public Map<String, InstrumentationResult> results() {
        return results;
    }

    public InstrumentationResult result(String dottedName) {
        try {
            loadClass(dottedName);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        return results.get(dottedName.replace('.', '/'));
    }

    @Override
    protected synchronized Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
        String internal = name.replace('.', '/');
        if (!original.containsKey(internal)) {
            return super.loadClass(name, resolve);
        }
        Class<?> loaded = findLoadedClass(name);
        if (loaded == null) {
            byte[] bytes = original.get(internal);
            if (excluded.test(internal) || unwovenNames.contains(internal)) {
                loaded = defineClass(name, bytes, 0, bytes.length);
                if (resolve) {
                    resolveClass(loaded);
                }
                return loaded;
            }
            InstrumentationResult result = instrumenter.instrument(bytes);
            results.put(internal, result);
            if (result.outcome() == InstrumentationResult.Outcome.FAILED) {
                fail("instrumentation failed for " + name + ": " + result.diagnostics());
            }
            if (result.outcome() == InstrumentationResult.Outcome.REWRITTEN) {
                bytes = result.bytes();
                check(name, bytes);
            }
            loaded = defineClass(name, bytes, 0, bytes.length);
        }
        if (resolve) {
            resolveClass(loaded);
        }
        return loaded;
    }

    private void check(String name, byte[] bytes) {
        StringWriter out = new StringWriter();
        try {
            CheckClassAdapter.verify(new ClassReader(bytes), hierarchyLoader, false, new PrintWriter(out));
        } catch (RuntimeException e) {
            fail("CheckClassAdapter failed on " + name + ": " + e + "\n" + out);
        }
        if (out.toString().contains("Exception") || out.toString().contains("Error")) {
            fail("CheckClassAdapter found problems in " + name + ":\n" + out);
        }
        ClassNode node = new ClassNode();
        new ClassReader(bytes).accept(node, 0);
        for (MethodNode method : node.methods) {
            try {
                new Analyzer<>(new org.objectweb.asm.tree.analysis.BasicVerifier()).analyze(node.name, method);
            } catch (AnalyzerException e) {
                fail("analyzer failed on " + name + "." + method.name + method.desc + ": " + e.getMessage());
            }
        }
    }

    /** Loads a class and returns it. */
    public Class<?> load(String dottedName) {
        try {
            return loadClass(dottedName);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    /** Calls a public static method with no arguments and returns its result. */
    public Object callStatic(String dottedName, String method) {
        try {
            return load(dottedName).getMethod(method).invoke(null);
        } catch (java.lang.reflect.InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new AssertionError(e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    static List<String> lines(String text) {
        return List.of(text.split("\n"));
    }
}
