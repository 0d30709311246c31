package io.aioco;

import java.lang.management.ManagementFactory;
import java.net.URL;
import java.net.URLClassLoader;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * The runtime's classes loaded by a class loader of their own (parent: the platform loader), as an
 * application server loads a webapp's copy: its statics (the count of open contexts, the MBean's
 * registration) are its own, while the platform MBean server is the process's. Driven by reflection
 * from the test's thread.
 */
final class OwnRuntime implements AutoCloseable {
    static final String NAME = "io.aioco:type=Coroutines";

    final URLClassLoader loader;
    private final Class<?> ctxClass;
    private final Class<?> mbean;

    OwnRuntime() throws Exception {
        URL classes = AioContext.class.getProtectionDomain().getCodeSource().getLocation();
        loader = new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader());
        ctxClass = Class.forName("io.aioco.AioContext", true, loader);
        mbean = Class.forName("io.aioco.CoroutinesMBean", true, loader);
    }

    /** @return a new context of this runtime */
    AutoCloseable create() throws Exception {
        return (AutoCloseable) ctxClass.getMethod("create").invoke(null);
    }

    /** @return whether this runtime's MBean instance is registered (its own record) */
    boolean registered() throws Exception {
        var m = mbean.getDeclaredMethod("registeredForTest");
        m.setAccessible(true);
        return (boolean) m.invoke(null);
    }

    /** Sets this runtime's hook run by its registrar before it registers. */
    void beforeRegister(Runnable hook) throws Exception {
        var f = mbean.getDeclaredField("beforeRegister");
        f.setAccessible(true);
        f.set(null, hook);
    }

    /** Waits for the end of every registrar thread running now (the signal that a registration is done). */
    static void joinRegistrars() throws InterruptedException {
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().equals(CoroutinesMBean.REGISTRAR)) {
                t.join();
            }
        }
    }

    static MBeanServer server() {
        return ManagementFactory.getPlatformMBeanServer();
    }

    static boolean nameRegistered() throws Exception {
        return server().isRegistered(new ObjectName(NAME));
    }

    /**
     * Runs {@code body} with the MBean's name free: if this (the test's) class loader's runtime holds
     * it (a context of another test is open), its instance is unregistered meanwhile and registered
     * again after. Nothing else in the process registers the name.
     */
    static void withNameFree(Body body) throws Exception {
        joinRegistrars();
        boolean ours = CoroutinesMBean.registeredForTest();
        if (ours) {
            CoroutinesMBean.closed();
        }
        try {
            if (nameRegistered()) {
                throw new AssertionError(NAME + " is registered by something other than the test's runtime");
            }
            body.run();
        } finally {
            if (ours) {
                Thread registrar = CoroutinesMBean.opened();
                if (registrar != null) {
                    registrar.join();
                }
            }
        }
    }

    interface Body {
        void run() throws Exception;
    }

    /**
     * Closes the runtime's class loader once its watcher threads have ended (its last context is
     * closed: they end at once). A watcher thread still installing JFR's listener when the loader
     * closes dies loading a class from it and leaves the listener in JFR: every later recording of
     * the process then fails in it (NoClassDefFoundError in Jfr.refresh, seen on JDK 25 after
     * CoroutinesMBeanReconcileTest's 9,000 cycles). The test loader's own watcher, if one runs now,
     * is left alone.
     */
    @Override
    public void close() throws Exception {
        Thread ours = LoopObserve.watcherThreadForTest();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t != ours && t.getName().equals(io.aioco.internal.observe.StallWatcher.THREAD_NAME)) {
                t.join();
            }
        }
        loader.close();
    }
}
