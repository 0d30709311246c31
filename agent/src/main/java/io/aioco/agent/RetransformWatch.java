package io.aioco.agent;

import io.aioco.instrumenter.WovenMarker;
import io.aioco.instrumenter.classfile.RuntimeNames;
import java.lang.instrument.ClassFileTransformer;
import java.nio.charset.StandardCharsets;
import java.security.ProtectionDomain;

/**
 * Watches the retransformations of woven classes by other agents, and tells the runtime of the
 * class's loader ({@code CoLinker.retransformed}): the inline caches of virtual calls then stop
 * calling that class's fresh bodies and take the call as written, through the wrapper, where the
 * other agent may have put code. Mockito's inline mock maker (the default in Mockito 5) is the
 * case in point: it retransforms the mocked class in place, its stubs intercept the wrapper, and
 * the mock is an instance of the mocked class itself; a cache that called the fresh body would run
 * the real method of a stubbed one.
 *
 * <p>Registered retransformation-capable by {@link AiocoAgent}, always, so that it sees every
 * retransformation, by any agent, also one that attaches itself later (Mockito's does); it changes
 * no class. A redefinition woven by {@link CoroutineTransformer} (a debugger's hot swap) is no
 * retransformation: when that transformer is not capable, it marks a redefinition whose new bytes
 * it wove ({@link CoroutineTransformer#takeRedefinition}), which this watcher then leaves alone,
 * since its new code is aioco's own and a cached call runs the new fresh body. When that transformer is
 * capable the two cannot be told apart, and a redefinition counts as a retransformation (the
 * class's calls are then made as written: slower, never wrong).
 *
 * <p>No QEMU counterpart. Called by any thread that retransforms or redefines classes.
 */
final class RetransformWatch implements ClassFileTransformer {
    private final boolean weaverCapable;

    /** @param weaverCapable whether {@link CoroutineTransformer} was registered retransformation-capable */
    RetransformWatch(boolean weaverCapable) {
        this.weaverCapable = weaverCapable;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> classBeingRedefined,
            ProtectionDomain protectionDomain, byte[] classfileBuffer) {
        if (classBeingRedefined == null) {
            return null; // a load
        }
        boolean wovenRedefinition = CoroutineTransformer.takeRedefinition(classBeingRedefined);
        if (wovenRedefinition && !weaverCapable) {
            return null;
        }
        try {
            if (!WovenMarker.contains(classfileBuffer, STACK_DESC)) {
                // NOTE: not the marker, an invisible annotation the JVM drops: a retransformation
                // starts from bytes the JVM rebuilds from the loaded class, unless a capable
                // transformer changed it at load. A woven class names the stack in its descriptors
                return null;
            }
            ClassLoader owner = classBeingRedefined.getClassLoader();
            Class.forName(RuntimeNames.LINKER.replace('/', '.'), true, owner)
                    .getMethod(RuntimeNames.RETRANSFORMED, Class.class).invoke(null, classBeingRedefined);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            // NOTE: no runtime there (nothing cached), or an older one without caches
            System.getLogger("io.aioco.agent").log(System.Logger.Level.DEBUG,
                    "aioco: the runtime not told of the retransformation of " + className + ": " + e);
        }
        return null;
    }

    private static final byte[] STACK_DESC = RuntimeNames.STACK_DESC.getBytes(StandardCharsets.US_ASCII);
}
