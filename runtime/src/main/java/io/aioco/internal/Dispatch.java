package io.aioco.internal;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandleInfo;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Why: a wrapper's exact check ({@link CoStack#admit}) must know which method a virtual call on
 * a receiver's class selects, and whether a receiver is one of the JDK's lambda proxies for a
 * class; both are answered once per class (and method) by reflection and cached.
 *
 * <p>Thread-safe: any thread may ask; the caches are {@link ClassValue}s and concurrent maps, and
 * two threads computing the same answer store the same value.
 */
final class Dispatch {
    private Dispatch() {}

    /** Stands for "no method" in the caches (they hold no nulls). */
    private static final Class<?> NONE = Void.class;

    /**
     * Per receiver class: method name and descriptor to the class whose method a virtual call
     * selects, or to the classes (a {@code Class<?>[]}) whose methods it can select, or {@link #NONE}.
     */
    private static final ClassValue<Map<String, Object>> SELECTED = new ClassValue<>() {
        @Override
        protected Map<String, Object> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    /** Per class: name and descriptor to the class whose static method a call through it resolves to. */
    private static final ClassValue<Map<String, Class<?>>> STATIC_SELECTED = new ClassValue<>() {
        @Override
        protected Map<String, Class<?>> computeValue(Class<?> type) {
            return new ConcurrentHashMap<>();
        }
    };

    /** Per class: the class a lambda proxy was made for (the one holding the lambda), or {@link #NONE}. */
    private static final ClassValue<Class<?>> LAMBDA_HOST = new ClassValue<>() {
        @Override
        protected Class<?> computeValue(Class<?> type) {
            return hostOf(type);
        }
    };

    /**
     * Tells whether {@code invokevirtual}/{@code invokeinterface} of that name and descriptor, on a
     * receiver of that class, can select the method that {@code declaring} declares: no class from
     * the receiver's up to {@code declaring} declares a method that overrides it (JVMS 5.4.5: a
     * package-private method is overridden only from its own runtime package, or through a method
     * in between that overrides it). In the common case one class's method is selectable; a
     * package-private method hidden, not overridden, by a subclass in another package leaves both
     * selectable (which one runs depends on the method the call resolved to): then the answer is
     * {@link #SELECTS_IF_RESOLVED}, and the caller must tell which the call resolved to.
     *
     * @param receiver a receiver's class
     * @param method name and descriptor
     * @param declaring the class declaring the method a wrapper runs
     * @return {@link #SELECTS}, {@link #SELECTS_IF_RESOLVED} or {@link #SELECTS_NOT}
     */
    static int selects(Class<?> receiver, String method, Class<?> declaring) {
        Map<String, Object> cache = SELECTED.get(receiver);
        Object selected = cache.get(method);
        if (selected == null) {
            selected = selectable(receiver, method);
            cache.put(method, selected);
        }
        if (selected == declaring) {
            return SELECTS;
        }
        if (selected instanceof Class<?>[] several) {
            for (Class<?> one : several) {
                if (one == declaring) {
                    return SELECTS_IF_RESOLVED;
                }
            }
        }
        return SELECTS_NOT;
    }

    /**
     * @param receiver a receiver's class
     * @param method name and descriptor
     * @return the one class whose method every {@code invokevirtual}/{@code invokeinterface} of that
     *     name and descriptor selects on such a receiver, whatever the method the call resolved to;
     *     null when no method or several (a package-private method hidden by a class below) can be
     *     selected
     */
    static Class<?> selectedAlone(Class<?> receiver, String method) {
        Map<String, Object> cache = SELECTED.get(receiver);
        Object selected = cache.get(method);
        if (selected == null) {
            selected = selectable(receiver, method);
            cache.put(method, selected);
        }
        return selected instanceof Class<?> alone && alone != NONE ? alone : null;
    }

    /** {@link #selects}: no call of that name and descriptor on such a receiver selects the method. */
    static final int SELECTS_NOT = 0;
    /** {@link #selects}: every call of that name and descriptor on such a receiver selects the method. */
    static final int SELECTS = 1;
    /**
     * {@link #selects}: a call selects the method or another one (a method of a class below that
     * hides it, not overriding it), depending on the method the call resolved to.
     */
    static final int SELECTS_IF_RESOLVED = 2;

    /**
     * @param owner the class a static call names
     * @param method name and descriptor
     * @return the class whose static method that call resolves to, or null
     */
    static Class<?> selectsStatic(Class<?> owner, String method) {
        Map<String, Class<?>> cache = STATIC_SELECTED.get(owner);
        Class<?> selected = cache.get(method);
        if (selected == null) {
            selected = select(owner, method, true);
            cache.put(method, selected);
        }
        return selected == NONE ? null : selected;
    }

    /** @return the class a lambda proxy class was made for, or null if {@code type} is no lambda proxy */
    static Class<?> lambdaHost(Class<?> type) {
        Class<?> host = LAMBDA_HOST.get(type);
        return host == NONE ? null : host;
    }

    /**
     * Per lambda proxy class: its implementation method as {@code owner/Name.name(desc)} for a
     * serializable proxy (from its {@code SerializedLambda}), {@link #NOT_SERIALIZABLE}, or
     * {@link #UNKNOWN}. Filled by the first check that meets a proxy of the class (the
     * implementation is the same for every instance of one proxy class).
     */
    private static final ClassValue<String[]> LAMBDA_IMPL = new ClassValue<>() {
        @Override
        protected String[] computeValue(Class<?> type) {
            return new String[1];
        }
    };
    private static final String NOT_SERIALIZABLE = "";
    private static final String UNKNOWN = "?";

    /**
     * Tells whether a lambda proxy of {@code declaring} calls the lambda body {@code method} of
     * {@code declaring}: exact for a serializable proxy (it names its implementation); another
     * proxy's implementation is a method of its host that the instrumenter rewrote, the first
     * lambda body to see the signal (see {@link CoStack#admitLambda}).
     *
     * @param proxy a lambda proxy made for {@code declaring}
     * @param declaring the class that declares the lambda body
     * @param method the lambda body's name and descriptor
     */
    static boolean lambdaImplementedBy(Object proxy, Class<?> declaring, String method) {
        // NOTE: no instanceof Serializable here: a proxy fails it by scanning its secondary supers
        // (about 30 ns on JDK 17, on every new coroutine's first resume); the per-class answer is
        // computed once (implementationOf) and read back with one ClassValue lookup
        String[] cache = LAMBDA_IMPL.get(proxy.getClass());
        String impl = cache[0];
        if (impl == null) {
            impl = implementationOf(proxy);
            cache[0] = impl; // NOTE: racing threads compute and store equal strings
        }
        if (impl == NOT_SERIALIZABLE) {
            return true;
        }
        return impl.equals(declaring.getName().replace('.', '/') + "." + method); // NOTE: serializable only: rare
    }

    /** @return a proxy's implementation method, {@link #NOT_SERIALIZABLE} or {@link #UNKNOWN} */
    private static String implementationOf(Object proxy) {
        if (!(proxy instanceof java.io.Serializable)) {
            return NOT_SERIALIZABLE;
        }
        try {
            Method writeReplace = proxy.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            if (writeReplace.invoke(proxy) instanceof java.lang.invoke.SerializedLambda lambda) {
                return lambda.getImplClass() + "." + lambda.getImplMethodName() + lambda.getImplMethodSignature();
            }
            return UNKNOWN;
        } catch (ReflectiveOperationException | RuntimeException unreadable) {
            return UNKNOWN; // NOTE: InaccessibleObjectException (a module that is not open) among them
        }
    }

    /** @return the class or classes ({@code Class<?>[]}) whose method a virtual call can select, or {@link #NONE} */
    private static Object selectable(Class<?> start, String method) {
        Class<?> first = select(start, method, false);
        if (first == NONE || first.isInterface()) {
            return first;
        }
        int open = method.indexOf('(');
        String name = method.substring(0, open);
        String descriptor = method.substring(open);
        List<Class<?>> found = new ArrayList<>(List.of(first));
        List<Class<?>> lower = new ArrayList<>(List.of(first)); // NOTE: declarations met, nearest the receiver first
        Map<Class<?>, Set<Class<?>>> overrides = new HashMap<>(); // NOTE: declaration to the ones above it overrides
        overrides.put(first, new HashSet<>());
        try {
            for (Class<?> type = first.getSuperclass(); type != null; type = type.getSuperclass()) {
                int declared = declared(type, name, descriptor);
                if (declared == NOT_DECLARED || Modifier.isStatic(declared) || Modifier.isPrivate(declared)) {
                    continue;
                }
                Set<Class<?>> by = new HashSet<>();
                for (int i = lower.size() - 1; i >= 0; i--) { // NOTE: nearest to type first, for the transitive case
                    Class<?> below = lower.get(i);
                    boolean through = false;
                    for (Class<?> between : by) {
                        through |= overrides.get(below).contains(between);
                    }
                    if (through || directlyOverrides(below, type, declared)) {
                        by.add(below);
                        overrides.get(below).add(type);
                    }
                }
                if (by.isEmpty()) {
                    found.add(type); // NOTE: hidden by the ones below, not overridden: a call resolved to it selects it
                }
                lower.add(type);
                overrides.put(type, new HashSet<>());
            }
        } catch (LinkageError | SecurityException unreadable) {
            return first;
        }
        return found.size() == 1 ? first : found.toArray(new Class<?>[0]);
    }

    /** JVMS 5.4.5 without the transitive case: whether {@code below}'s method overrides {@code above}'s. */
    private static boolean directlyOverrides(Class<?> below, Class<?> above, int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers)
                || below.getClassLoader() == above.getClassLoader()
                        && below.getPackageName().equals(above.getPackageName());
    }

    private static Class<?> select(Class<?> start, String method, boolean isStatic) {
        int open = method.indexOf('(');
        String name = method.substring(0, open);
        String descriptor = method.substring(open);
        try {
            for (Class<?> type = start; type != null; type = type.getSuperclass()) {
                int declared = declared(type, name, descriptor);
                if (declared != NOT_DECLARED && Modifier.isStatic(declared) == isStatic
                        && (!Modifier.isPrivate(declared) || isStatic && type == start)) {
                    // a private instance method overrides nothing and is never selected by
                    // invokevirtual or invokeinterface (JVMS 17 5.4.5, 5.4.6); a private call is
                    // linked directly and never reaches a wrapper through this check
                    return type;
                }
            }
            if (isStatic) {
                return NONE; // static methods of interfaces are not inherited
            }
            // no class declares it: the maximally-specific superinterface methods (JVMS 5.4.3.3),
            // abstract ones too: a call selects the one that is not abstract if there is exactly
            // one (JVMS 5.4.6), else it throws AbstractMethodError or IncompatibleClassChangeError
            // (as when an interface in between re-declares a default method abstract)
            List<Class<?>> candidates = new ArrayList<>();
            collectDeclarations(start, name, descriptor, candidates);
            candidates.removeIf(candidate -> candidates.stream()
                    .anyMatch(other -> other != candidate && candidate.isAssignableFrom(other)));
            Class<?> selected = NONE;
            for (Class<?> candidate : candidates) {
                if (!Modifier.isAbstract(declared(candidate, name, descriptor))) {
                    if (selected != NONE) {
                        return NONE; // NOTE: two defaults: IncompatibleClassChangeError, the call as written
                    }
                    selected = candidate;
                }
            }
            return selected;
        } catch (LinkageError | SecurityException unreadable) {
            return NONE; // a signature type cannot be loaded: the call is taken for a foreign one
        }
    }

    /**
     * Gathers the superinterfaces of {@code type} (and of its superclasses) that declare a
     * non-private instance method of that name and descriptor, abstract or not, without looking
     * above such a declaration (whatever it overrides is not maximally specific).
     */
    private static void collectDeclarations(Class<?> type, String name, String descriptor, List<Class<?>> found) {
        for (Class<?> at = type; at != null; at = at.getSuperclass()) {
            for (Class<?> face : at.getInterfaces()) {
                int declared = declared(face, name, descriptor);
                if (declared != NOT_DECLARED && !Modifier.isStatic(declared) && !Modifier.isPrivate(declared)) {
                    if (!found.contains(face)) {
                        found.add(face);
                    }
                } else {
                    collectDeclarations(face, name, descriptor, found);
                }
            }
        }
    }

    /** {@link #declared}'s answer for a class that declares no method of that name and descriptor. */
    private static final int NOT_DECLARED = -1;

    /**
     * @return the modifiers of the method of that name and descriptor that {@code type} itself
     *     declares, or {@link #NOT_DECLARED}
     */
    private static int declared(Class<?> type, String name, String descriptor) {
        Method[] methods;
        try {
            methods = type.getDeclaredMethods();
        } catch (LinkageError unresolvable) {
            // another method's signature names a class missing at run time (an optional
            // dependency): ask for this one method alone
            return declaredAlone(type, name, descriptor);
        }
        for (Method method : methods) {
            if (method.getName().equals(name) && MethodType.methodType(method.getReturnType(),
                    method.getParameterTypes()).toMethodDescriptorString().equals(descriptor)) {
                return method.getModifiers();
            }
        }
        return NOT_DECLARED;
    }

    /**
     * {@link #declared} without resolving the class's other methods: the JVM's method resolution
     * (JVMS 5.4.3.3) from {@code type}, through a lookup with private access in it, finds the
     * method of that name and descriptor that {@code type} declares before any inherited one, and
     * reads only the classes its descriptor names (the caller's call resolved them already).
     */
    private static int declaredAlone(Class<?> type, String name, String descriptor) {
        try {
            MethodType wanted = MethodType.fromMethodDescriptorString(descriptor, type.getClassLoader());
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(type, MethodHandles.lookup());
            for (boolean isStatic : new boolean[] {false, true}) {
                MethodHandle found;
                try {
                    found = isStatic ? lookup.findStatic(type, name, wanted) : lookup.findVirtual(type, name, wanted);
                } catch (NoSuchMethodException | IllegalAccessException notThatKind) {
                    continue; // NOTE: a static method found by findVirtual, or the other way, fails here
                }
                MethodHandleInfo info = lookup.revealDirect(found);
                return info.getDeclaringClass() == type ? info.getModifiers() : NOT_DECLARED;
            }
            return NOT_DECLARED;
        } catch (IllegalAccessException | TypeNotPresentException | IllegalArgumentException unreadable) {
            throw new NoClassDefFoundError(type.getName() + "." + name + descriptor + ": " + unreadable);
        }
    }

    /**
     * A lambda proxy is a hidden class that the JDK's {@code LambdaMetafactory} defines as a
     * nestmate of the class holding the lambda, named after it with {@code $$Lambda}.
     */
    private static Class<?> hostOf(Class<?> type) {
        String name = type.getName();
        int marker = name.indexOf("$$Lambda");
        if (!type.isHidden() || marker < 0) {
            return NONE;
        }
        try {
            Class<?> host = Class.forName(name.substring(0, marker), false, type.getClassLoader());
            return host.getNestHost() == type.getNestHost() ? host : NONE;
        } catch (ClassNotFoundException | LinkageError | SecurityException notFound) {
            return NONE;
        }
    }
}
