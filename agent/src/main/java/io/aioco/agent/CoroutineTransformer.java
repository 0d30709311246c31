package io.aioco.agent;

import io.aioco.instrumenter.ClassLookup;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The agent's class file transformer: one {@link Instrumenter} call per class, one instrumenter
 * (and so one hierarchy cache) per class loader. It never throws and never returns bytes it did
 * not get from the instrumenter: a class it cannot handle is returned unchanged ({@code null})
 * with one log line.
 *
 * <p>Called concurrently by any thread that loads classes.
 */
final class CoroutineTransformer implements ClassFileTransformer {
    private static final System.Logger LOG = System.getLogger("io.aioco.agent");

    private final AgentOptions options;
    private final Map<ClassLoader, Instrumenter> instrumenters = Collections.synchronizedMap(new WeakHashMap<>());

    CoroutineTransformer(AgentOptions options) {
        this.options = options;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (className == null || classBeingRedefined != null || loader == null || !options.accepts(className)
                || className.startsWith("io/aioco/agent/")) {
            return null;
        }
        Transforming transforming = TRANSFORMING.get();
        transforming.push(className);
        try {
            InstrumentationResult result = instrumenterFor(loader).instrument(classfileBuffer);
            return report(className, result);
        } catch (Throwable t) {
            // NOTE: nothing may escape into the class loader: the class is loaded as it is
            log(System.Logger.Level.WARNING, "aioco: cannot instrument " + className.replace('/', '.')
                    + ", loading it unchanged: " + t);
            return null;
        } finally {
            transforming.pop();
        }
    }

    private Instrumenter instrumenterFor(ClassLoader loader) {
        Instrumenter instrumenter = instrumenters.get(loader);
        if (instrumenter == null) {
            // NOTE: created outside the map's lock: a lookup may load classes, which comes back here
            Instrumenter created = new Instrumenter(new LoaderLookup(new WeakReference<>(loader)));
            instrumenter = instrumenters.putIfAbsent(loader, created);
            if (instrumenter == null) {
                instrumenter = created;
            }
        }
        return instrumenter;
    }

    /**
     * Reads class files as the loader's resources; knows a supertype has no coroutine function
     * when the transformer scanned it as it was loaded.
     */
    private final class LoaderLookup implements ClassLookup {
        private final WeakReference<ClassLoader> loader;

        LoaderLookup(WeakReference<ClassLoader> loader) {
            this.loader = loader;
        }

        @Override
        public byte[] classBytes(String internalName) {
            ClassLoader live = loader.get();
            return live == null ? null : ClassLookup.ofClassLoader(live).classBytes(internalName);
        }

        /**
         * Loads the supertype (without initialising it) through the loader of the class being
         * transformed, as the JVM does as soon as that class is parsed: the supertype's own
         * transformation scans it and records the answer in its defining loader's instrumenter.
         * The supertype is then parsed once instead of twice. Not done for a class this thread is
         * transforming already (a circular hierarchy is the JVM's to report), nor when loading
         * fails (the class file is read instead).
         */
        @Override
        public boolean knownWithoutCoroutineFns(String internalName) {
            ClassLoader live = loader.get();
            if (live == null || TRANSFORMING.get().contains(internalName)) {
                return false;
            }
            Class<?> type;
            try {
                type = Class.forName(internalName.replace('/', '.'), false, live);
            } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
                return false;
            }
            ClassLoader defining = type.getClassLoader();
            Instrumenter instrumenter = defining == null ? null : instrumenters.get(defining);
            return instrumenter != null && instrumenter.knownWithoutCoroutineFns(internalName);
        }
    }

    /** The classes this thread is transforming, innermost last (transformations nest when loading supertypes). */
    private static final class Transforming {
        private String[] names = new String[8];
        private int size;

        void push(String name) {
            if (size == names.length) {
                names = Arrays.copyOf(names, size * 2);
            }
            names[size++] = name;
        }

        void pop() {
            names[--size] = null;
        }

        boolean contains(String name) {
            for (int i = 0; i < size; i++) {
                if (names[i].equals(name)) {
                    return true;
                }
            }
            return false;
        }
    }

    private static final ThreadLocal<Transforming> TRANSFORMING = ThreadLocal.withInitial(Transforming::new);

    private byte[] report(String className, InstrumentationResult result) {
        for (Diagnostic diagnostic : result.diagnostics()) {
            log(diagnostic.severity() == Diagnostic.Severity.ERROR ? System.Logger.Level.ERROR
                    : System.Logger.Level.WARNING, "aioco: " + diagnostic.format());
        }
        switch (result.outcome()) {
            case REWRITTEN:
                if (options.verbose()) {
                    log(System.Logger.Level.INFO, "aioco: instrumented " + className.replace('/', '.'));
                }
                dump(className, result.bytes());
                return result.bytes();
            case FAILED:
                log(System.Logger.Level.WARNING, "aioco: loading " + className.replace('/', '.')
                        + " unchanged: it could not be instrumented (see above)");
                return null;
            default:
                return null;
        }
    }

    private void dump(String className, byte[] bytes) {
        Path directory = options.dumpDirectory();
        if (directory == null) {
            return;
        }
        Path file = directory.resolve(className + ".class");
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, bytes);
        } catch (IOException | RuntimeException e) {
            log(System.Logger.Level.WARNING, "aioco: cannot dump " + className + " to " + file + ": " + e);
        }
    }

    private static void log(System.Logger.Level level, String message) {
        try {
            LOG.log(level, message);
        } catch (RuntimeException e) {
            System.err.println(message); // a broken logging configuration must not break class loading
        }
    }
}
