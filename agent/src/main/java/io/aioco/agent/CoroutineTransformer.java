package io.aioco.agent;

import io.aioco.agent.cache.StartupCache;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import io.aioco.instrumenter.classfile.RuntimeNames;
import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.ref.SoftReference;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The agent's class file transformer: one {@link Instrumenter} call per class, one instrumenter
 * (and so one hierarchy cache) per class loader, or per set of loaders that find the same class
 * files ({@link LoaderLookup#sharingKey}: a new loader over the same jars learns nothing again).
 * It never throws and never returns bytes it did
 * not get from the instrumenter: a class it cannot handle is returned unchanged ({@code null})
 * with one log line. With a {@link StartupCache}, a class of the application class loader that an
 * earlier run found clean is returned unchanged before any scan, and the quick scan's verdicts are
 * recorded for the next run.
 *
 * <p>Redefinitions ({@code Instrumentation.redefineClasses}, a debugger's hot swap) are woven the
 * same way, by the instrumenter of the class's own loader, and never answered from the startup
 * cache: a woven class keeps its woven shape, so the JVM accepts the new body, which runs as a
 * coroutine function.
 *
 * <p>{@link AiocoAgent} registers it retransformation-capable only when an agent follows aioco's
 * on the JVM's command line (or with {@code retransform=on}; see {@link AiocoAgent} for the rule
 * and its tradeoff). Capable, it runs after every transformer that is not (JaCoCo's agent and most
 * agents register that way) whatever the order of the {@code -javaagent} options, so such an agent
 * sees a class as javac wrote it and this transformer weaves what that agent made of it (JaCoCo's
 * probes are ordinary code here); and every retransformation, by any agent, calls it again with the
 * bytes the JVM cached at load ({@code classBeingRedefined} set). Not capable, it is called on
 * loads and redefinitions only. A redefinition or retransformation it weaves also hands the new
 * body's frame tables to the runtime ({@link #frameTables}): the class's static initializer, which
 * registers them at load, does not run again.
 *
 * <p>No QEMU counterpart: C coroutines need no rewriting. Called concurrently by any thread that
 * loads or redefines classes.
 */
public final class CoroutineTransformer implements ClassFileTransformer {
    private static final System.Logger LOG = System.getLogger("io.aioco.agent");

    private final AgentOptions options;
    private final Map<ClassLoader, Instrumenter> instrumenters = Collections.synchronizedMap(new WeakHashMap<>());
    /**
     * The instrumenter last used, with its loader, held weakly: classes mostly come from one loader
     * in a row, and this saves the synchronized map for them. Read and written by any transforming
     * thread without a lock: a thread that sees a stale pair only looks the map up.
     */
    private volatile LastUsed lastUsed;
    /**
     * The instrumenters of loaders that find the same class files, held softly: a loader made
     * after the last one over the same jars died (a redeployment) still finds what was learnt.
     * Written under the lock of {@link #instrumenters}.
     */
    private final Map<LoaderLookup.SharingKey, SoftReference<Instrumenter>> shared = new ConcurrentHashMap<>();

    /** A loader, held weakly, and its instrumenter. */
    private static final class LastUsed extends WeakReference<ClassLoader> {
        final Instrumenter instrumenter;

        LastUsed(ClassLoader loader, Instrumenter instrumenter) {
            super(loader);
            this.instrumenter = instrumenter;
        }
    }

    /** Classes known to need nothing from earlier runs, or null when there is no cache. */
    private final StartupCache cache;
    /** The loader whose classes the cache covers (the application class loader), or null. */
    private final ClassLoader cachedLoader;

    CoroutineTransformer(AgentOptions options) {
        this(options, null, null);
    }

    /**
     * Called once, by the thread that installs the agent (premain or agentmain), or by a test.
     *
     * @param options the agent's options
     * @param cache the startup cache, or null for none
     * @param cachedLoader the loader whose classes the cache covers (the application class loader)
     */
    public CoroutineTransformer(AgentOptions options, StartupCache cache, ClassLoader cachedLoader) {
        this.options = options;
        this.cache = cache;
        this.cachedLoader = cache == null ? null : cachedLoader;
    }

    /** The class this thread redefines, woven by {@link #transform}, until {@link RetransformWatch} takes it. */
    private static final ThreadLocal<Class<?>> REDEFINING = new ThreadLocal<>();

    /**
     * @return whether {@link #transform} saw {@code type} redefined in this thread (it then has the
     *     new bytes, which it wove), forgetting it
     */
    static boolean takeRedefinition(Class<?> type) {
        Class<?> redefining = REDEFINING.get();
        REDEFINING.remove();
        return redefining == type;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (className == null || loader == null || !weaves(className)) {
            return null;
        }
        try {
            // NOTE: a redefinition (a debugger's hot swap: classBeingRedefined set) is woven as a load
            // is, or the JVM refuses the new bytes, which lack the woven class's methods; never from
            // the startup cache, which knows the bytes the class was loaded from, not these
            int jarIndex = classBeingRedefined == null && loader == cachedLoader ? cache.jarIndex(protectionDomain) : -1;
            Instrumenter.QuickScanListener listener = null;
            if (jarIndex >= 0) {
                // NOTE: the bytes' checksum, not the domain, says they are the jar's: a class defined at
                // run time (Lookup.defineClass, a proxy) has its lookup class's jar's domain
                long checksum = StartupCache.checksum(classfileBuffer);
                if (cache.isClean(className, jarIndex, checksum)) {
                    return null; // NOTE: the fast path of a later start: no scan, no supertype read
                }
                listener = new Recorder(cache, className, jarIndex, checksum);
            }
            InstrumentationResult result = instrumenterFor(loader).instrument(classfileBuffer, listener);
            byte[] woven = report(className, result, classBeingRedefined != null);
            if (woven != null && classBeingRedefined != null) {
                registerFrameTables(loader, woven);
                // NOTE: new code woven here, no other agent's: the watcher, capable, runs after this
                // transformer and leaves it alone (bytes already woven, returned unchanged, are not
                // marked: another agent may have changed them)
                REDEFINING.set(classBeingRedefined);
            }
            return woven;
        } catch (Throwable t) {
            // NOTE: nothing may escape into the class loader: the class is loaded as it is
            log(System.Logger.Level.WARNING, "aioco: cannot instrument " + className.replace('/', '.')
                    + ", loading it unchanged: " + t);
            return null;
        }
    }

    /**
     * A redefined or retransformed class keeps its static initializer's work: the frame tables of
     * its new body (new state numbers when the code changed) would never reach the runtime, and a
     * coroutine suspended in the new body would have no stack in the dump. So they are handed over
     * here, to the runtime of the class's loader, by reflection (this transformer may live in
     * another loader than that runtime). Before the JVM installs the new class: a redefinition the
     * JVM then refuses leaves tables nobody's frames name (their state numbers come from the code).
     * Never throws: a dump without the new frames is not a reason to refuse the redefinition.
     */
    private static void registerFrameTables(ClassLoader loader, byte[] woven) {
        try {
            List<String> tables = frameTables(woven);
            if (tables.isEmpty()) {
                return;
            }
            java.lang.reflect.Method register = Class.forName(RuntimeNames.TABLES.replace('/', '.'), true, loader)
                    .getMethod(RuntimeNames.REGISTER, String.class);
            for (String table : tables) {
                register.invoke(null, table);
            }
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            log(System.Logger.Level.DEBUG, "aioco: frame tables of a redefined class not registered: " + e);
        }
    }

    /** @return the strings the woven class's static initializer hands to the runtime's frame tables */
    static List<String> frameTables(byte[] woven) {
        List<String> tables = new ArrayList<>();
        new org.objectweb.asm.ClassReader(woven).accept(new org.objectweb.asm.ClassVisitor(org.objectweb.asm.Opcodes.ASM9) {
            @Override
            public org.objectweb.asm.MethodVisitor visitMethod(int access, String name, String descriptor, String signature,
                    String[] exceptions) {
                if (!name.equals("<clinit>")) {
                    return null;
                }
                return new org.objectweb.asm.MethodVisitor(org.objectweb.asm.Opcodes.ASM9) {
                    private String last;

                    @Override
                    public void visitLdcInsn(Object value) {
                        last = value instanceof String text ? text : null;
                    }

                    @Override
                    public void visitMethodInsn(int opcode, String owner, String method, String desc, boolean itf) {
                        if (last != null && owner.equals(RuntimeNames.TABLES) && method.equals(RuntimeNames.REGISTER)) {
                            tables.add(last);
                        }
                        last = null;
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        last = null;
                    }
                };
            }
        }, org.objectweb.asm.ClassReader.SKIP_DEBUG | org.objectweb.asm.ClassReader.SKIP_FRAMES);
        return tables;
    }

    /**
     * Records what the quick scan found of one class in the startup cache. NOTE: a class, not a
     * lambda: a lambda's first use costs some ms at a cold start.
     */
    private static final class Recorder implements Instrumenter.QuickScanListener {
        private final StartupCache cache;
        private final String className;
        private final int jarIndex;
        private final long checksum;

        Recorder(StartupCache cache, String className, int jarIndex, long checksum) {
            this.cache = cache;
            this.className = className;
            this.jarIndex = jarIndex;
            this.checksum = checksum;
        }

        @Override
        public void nothingToDo(String scanned, String[] supertypes, String[] functionalInterfaces) {
            if (scanned.equals(className)) {
                cache.record(className, jarIndex, checksum, supertypes, functionalInterfaces);
            }
        }
    }

    /** @return the instrumenter that transforms the classes of {@code loader} */
    Instrumenter instrumenterFor(ClassLoader loader) {
        LastUsed last = lastUsed;
        if (last != null && last.refersTo(loader)) {
            return last.instrumenter;
        }
        Instrumenter instrumenter = instrumenters.computeIfAbsent(loader, this::newInstrumenter);
        lastUsed = new LastUsed(loader, instrumenter);
        return instrumenter;
    }

    /** Called under the lock of {@link #instrumenters}: the instrumenter of a loader seen for the first time. */
    private Instrumenter newInstrumenter(ClassLoader loader) {
        LoaderLookup.SharingKey key = LoaderLookup.sharingKey(loader);
        if (key == null) {
            return new Instrumenter(new LoaderLookup(loader), instrumenterOptions());
        }
        SoftReference<Instrumenter> known = shared.get(key);
        Instrumenter instrumenter = known == null ? null : known.get();
        if (instrumenter == null) {
            shared.entrySet().removeIf(entry -> entry.getKey().isStale() || entry.getValue().get() == null);
            instrumenter = new Instrumenter(LoaderLookup.shared(key), instrumenterOptions());
            shared.put(key, new SoftReference<>(instrumenter));
        }
        return instrumenter;
    }

    /**
     * @return the instrumenter's options: verbose with the agent's {@code verbose} (an internal
     *     failure's report carries the method's code); the classes woven alike are those this
     *     transformer weaves (its include/exclude options accept them), so that static calls to
     *     their coroutine functions go straight to the bodies
     */
    private Instrumenter.Options instrumenterOptions() {
        return new Instrumenter.Options(false, options.verbose(), this::weaves);
    }

    /** @return whether {@link #transform} weaves the class (internal name) when a class loader defines it */
    private boolean weaves(String className) {
        return options.accepts(className) && !className.startsWith("io/aioco/agent/");
    }

    private byte[] report(String className, InstrumentationResult result, boolean redefined) {
        for (Diagnostic diagnostic : result.diagnostics()) {
            log(diagnostic.severity() == Diagnostic.Severity.ERROR ? System.Logger.Level.ERROR
                    : System.Logger.Level.WARNING, "aioco: " + diagnostic.format());
        }
        switch (result.outcome()) {
            case REWRITTEN:
                if (options.verbose()) {
                    log(System.Logger.Level.INFO, "aioco: instrumented " + className.replace('/', '.')
                            + (redefined ? " (a redefinition)" : ""));
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
