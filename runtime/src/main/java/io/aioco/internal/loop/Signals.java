package io.aioco.internal.loop;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * Process signals through {@code sun.misc.Signal} (module jdk.unsupported), reached reflectively so
 * that the runtime compiles against the JDK's standard API only and fails with a clear error on a
 * JVM without it.
 */
public final class Signals {
    private Signals() {}

    /**
     * Called from any thread: makes {@code action} run, on the JVM's signal-dispatch thread, when
     * the process receives signal {@code name} (without the "SIG" prefix).
     *
     * @throws UnsupportedOperationException if sun.misc.Signal is not available
     * @throws IllegalArgumentException if the signal is unknown or the JVM reserves it
     */
    public static void handle(String name, Runnable action) {
        Class<?> signalClass = load("sun.misc.Signal");
        Class<?> handlerClass = load("sun.misc.SignalHandler");
        Object signal = newSignal(signalClass, name);
        Object handler = Proxy.newProxyInstance(handlerClass.getClassLoader(), new Class<?>[] {handlerClass},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "handle":
                            action.run();
                            return null;
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        default:
                            return "aioco handler of SIG" + name;
                    }
                });
        try {
            Method handle = signalClass.getMethod("handle", signalClass, handlerClass);
            handle.invoke(null, signal, handler);
        } catch (InvocationTargetException e) {
            throw unwrap(e, name);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("cannot install a handler for SIG" + name, e);
        }
    }

    /** Called from any thread: sends signal {@code name} to this process (tests). */
    public static void raise(String name) {
        Class<?> signalClass = load("sun.misc.Signal");
        try {
            signalClass.getMethod("raise", signalClass).invoke(null, newSignal(signalClass, name));
        } catch (InvocationTargetException e) {
            throw unwrap(e, name);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("cannot raise SIG" + name, e);
        }
    }

    private static Object newSignal(Class<?> signalClass, String name) {
        try {
            return signalClass.getConstructor(String.class).newInstance(name);
        } catch (InvocationTargetException e) {
            throw unwrap(e, name);
        } catch (ReflectiveOperationException e) {
            throw new UnsupportedOperationException("cannot create signal SIG" + name, e);
        }
    }

    private static RuntimeException unwrap(InvocationTargetException e, String name) {
        Throwable cause = e.getCause();
        if (cause instanceof IllegalArgumentException iae) {
            return new IllegalArgumentException("signal " + name + ": " + iae.getMessage(), iae);
        }
        if (cause instanceof RuntimeException re) {
            return re;
        }
        return new IllegalStateException("signal " + name + " failed", cause);
    }

    private static Class<?> load(String className) {
        try {
            return Class.forName(className);
        } catch (ClassNotFoundException e) {
            throw new UnsupportedOperationException("signal handling needs " + className
                    + " (module jdk.unsupported), which this JVM does not offer", e);
        }
    }
}
