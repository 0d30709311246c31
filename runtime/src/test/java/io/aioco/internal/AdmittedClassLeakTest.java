package io.aioco.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.InputStream;
import java.lang.ref.WeakReference;
import java.lang.reflect.Method;
import org.junit.jupiter.api.Test;

/**
 * Review of create18: a spare {@link CoStack} remembers (weakly) the lambda proxy class it admitted
 * for a lambda body. Two class loaders that define the same names must not share an answer, and
 * the spare must not keep a class loader alive.
 */
class AdmittedClassLeakTest {
    private static final int TOKEN = CoStack.token("run", "()V");
    private static final String RUN = "run()V";
    private static final String HOST = AdmittedClassLeakHost.class.getName();

    /** Defines {@link AdmittedClassLeakHost} itself, from its class file; delegates the rest. */
    static final class Isolated extends ClassLoader {
        Isolated() {
            super(AdmittedClassLeakTest.class.getClassLoader());
        }

        @Override
        protected synchronized Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.equals(HOST)) {
                return super.loadClass(name, resolve);
            }
            Class<?> loaded = findLoadedClass(name);
            if (loaded != null) {
                return loaded;
            }
            try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                byte[] bytes = in.readAllBytes();
                return defineClass(name, bytes, 0, bytes.length);
            } catch (java.io.IOException e) {
                throw new ClassNotFoundException(name, e);
            }
        }
    }

    /** @return the name and descriptor of the host's lambda body whose name starts with {@code prefix}, interned */
    private static String body(Class<?> host, String prefix) {
        for (Method m : host.getDeclaredMethods()) {
            if (m.getName().startsWith(prefix)) {
                return (m.getName() + java.lang.invoke.MethodType.methodType(m.getReturnType(), m.getParameterTypes())
                        .toMethodDescriptorString()).intern();
            }
        }
        throw new AssertionError("no " + prefix + " in " + host);
    }

    @Test
    void twoLoadersDefiningTheSameNamesShareNoAnswer() throws Exception {
        Class<?> a = Class.forName(HOST, true, new Isolated());
        Class<?> b = Class.forName(HOST, true, new Isolated());
        String plainBody = body(a, "lambda$plain$");
        assertEquals(plainBody, body(b, "lambda$plain$"));
        Runnable pa = (Runnable) a.getMethod("plain").invoke(null);
        Runnable pb = (Runnable) b.getMethod("plain").invoke(null);

        CoStack stack = new CoStack(null);
        stack.arm(TOKEN, RUN, pa);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, a, plainBody), "a's proxy for a's body");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, pb);
        assertEquals(0, stack.admitLambda(TOKEN, a, plainBody), "b's proxy for a's body of the same name");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, pa);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, a, plainBody), "a's proxy again, on a spare");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, pa);
        assertEquals(0, stack.admitLambda(TOKEN, b, plainBody), "a's proxy for b's body of the same name, on a spare");

        // serializable: the same proxy class, another instance, for another body of the same host
        String serialBody = body(a, "lambda$serializable$");
        Runnable s1 = (Runnable) a.getMethod("serializable", int.class).invoke(null, 1);
        Runnable s2 = (Runnable) a.getMethod("serializable", int.class).invoke(null, 2);
        stack.arm(TOKEN, RUN, s1);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, a, serialBody), "its own body");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, s2);
        assertEquals(0, stack.admitLambda(TOKEN, a, plainBody), "another instance for another body, on a spare");
        stack.emptyForSpare();
        stack.arm(TOKEN, RUN, s2);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, a, serialBody), "another instance for its own body, on a spare");
    }

    /** Admits a proxy of a fresh loader's lambda on {@code stack}, then makes it a spare; returns the loader, weakly. */
    private static WeakReference<ClassLoader> admitAndForget(CoStack stack, boolean serializable) throws Exception {
        Isolated loader = new Isolated();
        Class<?> host = Class.forName(HOST, true, loader);
        Runnable proxy = serializable ? (Runnable) host.getMethod("serializable", int.class).invoke(null, 3)
                : (Runnable) host.getMethod("plain").invoke(null);
        String body = body(host, serializable ? "lambda$serializable$" : "lambda$plain$");
        stack.arm(TOKEN, RUN, proxy);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, host, body));
        stack.arm(TOKEN, RUN, proxy);
        assertEquals(TOKEN, stack.admitLambda(TOKEN, host, body), "cached");
        stack.emptyForSpare();
        return new WeakReference<>(loader);
    }

    @Test
    void aSpareStackKeepsNoClassLoaderAlive() throws Exception {
        CoStack stack = new CoStack(null);
        WeakReference<ClassLoader> plain = admitAndForget(stack, false);
        WeakReference<ClassLoader> serial = admitAndForget(stack, true);
        for (int i = 0; i < 50 && (plain.get() != null || serial.get() != null); i++) {
            System.gc();
            byte[][] pressure = new byte[16][];
            for (int j = 0; j < pressure.length; j++) {
                pressure[j] = new byte[1 << 20];
            }
        }
        assertNull(plain.get(), "the loader of a plain lambda admitted by the spare");
        assertNull(serial.get(), "the loader of a serializable lambda admitted by the spare");
        // the stack is still usable, and admits nothing stale
        stack.arm(TOKEN, RUN, (Runnable) () -> {});
        assertEquals(0, stack.admitLambda(TOKEN, AdmittedClassLeakHost.class, "lambda$plain$0()V"));
    }
}
