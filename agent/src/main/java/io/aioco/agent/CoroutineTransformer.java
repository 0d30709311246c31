package io.aioco.agent;

import io.aioco.agent.cache.StartupCache;
import io.aioco.instrumenter.Diagnostic;
import io.aioco.instrumenter.InstrumentationResult;
import io.aioco.instrumenter.Instrumenter;
import java.io.IOException;
import java.lang.instrument.ClassFileTransformer;
import java.lang.ref.SoftReference;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.ProtectionDomain;
import java.util.Collections;
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
 * <p>The transformer is registered as retransformation-capable
 * ({@code Instrumentation.addTransformer(transformer, true)}). The JVM runs the transformers that
 * are not capable first (JaCoCo's agent and most agents register that way), then the capable ones
 * in the order they were added, whatever the order of the {@code -javaagent} options: an incapable
 * agent therefore always sees a class as javac wrote it, and this transformer weaves what that
 * agent made of it (JaCoCo's probes are ordinary code here), so a coverage report against the
 * original class files is exact in both orders. A capable agent added after this one sees the
 * woven class. The cost: for each class this transformer changes, the JVM keeps the bytes it was
 * given (native memory, freed with the class), to replay a retransformation from them; a
 * retransformation by any agent ({@code Instrumentation.retransformClasses}) calls this
 * transformer again with those bytes ({@code classBeingRedefined} set) and gets the same woven
 * class back, as for a redefinition; a class it leaves unchanged costs nothing.
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
            return report(className, result, classBeingRedefined != null);
        } catch (Throwable t) {
            // NOTE: nothing may escape into the class loader: the class is loaded as it is
            log(System.Logger.Level.WARNING, "aioco: cannot instrument " + className.replace('/', '.')
                    + ", loading it unchanged: " + t);
            return null;
        }
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
