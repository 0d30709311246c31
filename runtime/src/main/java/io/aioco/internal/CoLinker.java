package io.aioco.internal;

import java.lang.invoke.CallSite;
import java.lang.invoke.ConstantCallSite;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.invoke.MutableCallSite;
import java.lang.ref.WeakReference;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Links the direct calls that instrumented code makes between coroutine functions.
 *
 * <p>Not API. The instrumenter splits every coroutine function {@code m(A)R} into a wrapper with
 * the original signature and code that receives the running coroutine's stack instead of looking
 * it up: a fresh body {@code m(A, CoStack)R} for fresh calls and, if it can suspend, a body
 * {@code m(A, CoStack, int)R} that also takes a signal ({@code token | RESUME} to resume its saved
 * frame). A statically bound call (static, private, super) from instrumented code becomes an
 * {@code invokedynamic} that this bootstrap links once: to the fresh body or the body (by the
 * call's type) when the target class was instrumented, else to the original method with the stack
 * and signal dropped (a class the agent excluded or could not rewrite, whose method then runs as
 * plain code).
 * After linking, the call site is a constant direct call, as cheap as the original instruction
 * once compiled, but JDK 25's C2 inlines a chain of such sites only a level or two deep (the lambda
 * form every site shares looks recursive to it): any call within one class is a plain call instead
 * and never comes here, and a static call to a class that the instrumenter expects to be woven
 * alike is a plain call guarded by {@link #hasBody}, a dynamic constant that keeps this linked
 * call for when the callee's class was loaded unwoven after all.
 * A call linked to the original method first arms the stack as instrumented code does before any
 * call that goes through a wrapper: the method's token (or the resume signal it was given), its
 * name and descriptor, and as the receiver the class that declares it (the call is statically
 * bound: exact, see {@link CoStack#admit}).
 */
public final class CoLinker {
    private static final int INVOKESPECIAL = 183;
    private static final int INVOKEINTERFACE = 185;

    private CoLinker() {}

    /**
     * Bootstrap of a direct call.
     *
     * @param caller the calling class's lookup
     * @param name the method's name
     * @param type the call's type: receiver (for instance calls), arguments, then the stack and,
     *     to resume, the signal
     * @param owner the class that declares (or inherits) the method
     * @param opcode the original call's opcode (invokestatic, invokespecial, invokevirtual or
     *     invokeinterface)
     * @return a constant call site
     * @throws NoSuchMethodError when even the original method cannot be found, and
     *     IllegalAccessError when the caller may not call it: what the plain call would throw
     *     (an Error leaves a bootstrap as it is, where an exception becomes a BootstrapMethodError)
     * @throws ReflectiveOperationException never (kept for the callers compiled against it)
     */
    public static CallSite link(MethodHandles.Lookup caller, String name, MethodType type, Class<?> owner,
            int opcode) throws ReflectiveOperationException {
        boolean isStatic = opcode == 184;
        MethodType bodyType = isStatic ? type : type.dropParameterTypes(0, 1);
        try {
            return new ConstantCallSite(find(caller, owner, name, bodyType, isStatic, opcode).asType(type));
        } catch (NoSuchMethodException | IllegalAccessException notInstrumented) {
            CallSite fresh = freshBodyForSignal(caller, owner, name, type, bodyType, isStatic, opcode);
            if (fresh != null) {
                return fresh;
            }
            // the original method: a wrapper (the body is private to another class, as for super.m()),
            // or plain code. A wrapper must see its token, as for any call from instrumented code;
            // plain code passes it on to whatever it calls, whose wrapper refuses it (not its class).
            boolean resume = type.parameterType(type.parameterCount() - 1) == int.class;
            int added = resume ? 2 : 1;
            MethodType originalType = bodyType.dropParameterTypes(bodyType.parameterCount() - added,
                    bodyType.parameterCount());
            MethodHandle original;
            try {
                original = find(caller, owner, name, originalType, isStatic, opcode);
            } catch (NoSuchMethodException missing) {
                // NOTE: what the plain call would throw (not a BootstrapMethodError: an Error leaves
                // the bootstrap as it is), as when the callee's next release dropped the method
                throw (NoSuchMethodError) new NoSuchMethodError(owner.getName() + "." + name
                        + originalType.toMethodDescriptorString() + ": " + missing.getMessage()).initCause(missing);
            } catch (IllegalAccessException denied) {
                throw (IllegalAccessError) new IllegalAccessError(denied.getMessage()).initCause(denied);
            }
            int stackPosition = type.parameterCount() - added;
            // a fresh call arms the method's token; a resume arms the token | RESUME it passes. The
            // call is statically bound: the receiver armed is the class that declares the method, so
            // that its wrapper, and nothing else, takes the signal for its own (CoStack.admit)
            String descriptor = originalType.toMethodDescriptorString();
            Class<?> declaring = caller.revealDirect(original).getDeclaringClass();
            MethodHandle arm = MethodHandles.insertArguments(ARM, 2, (name + descriptor).intern(), declaring);
            MethodHandle store = resume ? arm : MethodHandles.insertArguments(arm, 1,
                    CoStack.token(name, descriptor));
            MethodHandle withStack = resume
                    ? MethodHandles.dropArguments(original, stackPosition, CoStack.class, int.class)
                    : MethodHandles.dropArguments(original, stackPosition, CoStack.class);
            return new ConstantCallSite(MethodHandles.foldArguments(withStack, stackPosition, store).asType(type));
        }
    }

    /**
     * Bootstrap of a fresh virtual or interface call from instrumented code to a coroutine function
     * ({@code invokevirtual}/{@code invokeinterface} as written): an inline cache that calls the
     * fresh body of the method the receiver's class selects, without its wrapper (no lookup of the
     * running coroutine, no exact check), when that method is a woven coroutine function: the
     * receiver's class and the method it selects are found once per class ({@link
     * Dispatch#selectedAlone}, exact as the JVM selects: JVMS 5.4.6), then told apart by a test of
     * the receiver's class, up to {@link VirtualSite#POLYMORPHIC} classes per site, and beyond
     * that by a {@link ClassValue}. For any other receiver (its class or the one whose method it
     * selects is not woven: loaded unwoven, by another loader that the agent does not weave, a
     * lambda or a {@code java.lang.reflect.Proxy}, a mock; the method it selects is not a coroutine
     * function, or is hidden by another, or the fresh body is not accessible to the caller's module)
     * the site stores {@link CoStack#NOT_SELECTED} in the signal and returns a dummy value, and the
     * caller makes the call as written, through the wrapper, as it did before this cache; also when
     * the call as written fails to resolve (it then throws what it would have thrown). Every call
     * at a site is the call as written when the caches are off ({@link #INLINE_CACHE_PROPERTY}):
     * without the aioco agent, unless {@code -Daioco.inlineCache=true}.
     *
     * @param caller the calling class's lookup
     * @param name the method's name
     * @param type the call's type: receiver, arguments, then the stack
     * @param owner the class or interface the call names
     * @param opcode the call's opcode (invokevirtual or invokeinterface)
     * @return the call site
     */
    public static CallSite linkVirtual(MethodHandles.Lookup caller, String name, MethodType type, Class<?> owner,
            int opcode) {
        return new VirtualSite(caller, name, type, owner, opcode);
    }

    /**
     * The system property that turns the inline caches of virtual calls off or on: {@code
     * -Daioco.inlineCache=false} turns every cache off (each call then goes through the wrapper,
     * as written); {@code -Daioco.inlineCache=true} turns them on without the aioco agent (classes
     * woven by the Maven plugin), where they are off by default: the user states that no agent
     * retransforms woven classes (no other agent's code in their wrappers, which a cache would
     * skip), and a class of Mockito's inline mock maker or Byte Buddy's agent on the class path
     * still keeps them off. Under the aioco agent, which watches every retransformation ({@link
     * #RETRANSFORM_WATCH_PROPERTY}), they are on unless the property is {@code false}.
     */
    public static final String INLINE_CACHE_PROPERTY = "aioco.inlineCache";
    /**
     * The system property the aioco agent sets when it watches retransformations ({@code
     * "true"}): it then calls {@link #retransformed} for each woven class another agent
     * retransforms, and a class of a mocking library on the class path no longer keeps the caches
     * off.
     */
    public static final String RETRANSFORM_WATCH_PROPERTY = "aioco.agent.watchesRetransformation";

    /**
     * Called by the aioco agent when a woven class is retransformed (or redefined) by someone else:
     * from then on, no inline cache calls a fresh body of that class, or on a receiver of that
     * class; every call site drops what it cached and finds out again. Another agent may have put
     * code into the class's wrappers (Mockito's inline mock maker intercepts a mocked method in
     * the wrapper, and the mock is an instance of the class itself): the call as written runs it.
     * Any thread (the agent's transformer runs in the retransforming thread).
     *
     * @param type the class retransformed
     */
    public static void retransformed(Class<?> type) {
        VirtualSite.RETRANSFORMED.get(type).seen = true;
        List<VirtualSite> sites = VirtualSite.liveSites();
        for (VirtualSite site : sites) {
            site.reset();
        }
        if (!sites.isEmpty()) {
            MutableCallSite.syncAll(sites.toArray(new MutableCallSite[0]));
        }
    }

    /** The inline cache of one virtual or interface call site ({@link #linkVirtual}). */
    static final class VirtualSite extends MutableCallSite {
        /**
         * How many receiver classes a site tests for before it asks a {@link ClassValue} instead: a
         * chain of class tests costs about what the JVM's own megamorphic dispatch does (the
         * interface chain of {@code CrossClassChainBenchmark}, ten classes at one site: 1.15-1.3x
         * the plain call with 16, 3.3-3.7x with 8, whose tenth class took the {@code ClassValue}).
         */
        static final int POLYMORPHIC = 16;

        private final MethodHandles.Lookup caller;
        private final String name;
        private final boolean interfaceCall;
        /** Name and original descriptor, as {@link Dispatch} takes it. */
        private final String method;
        private final MethodType freshType;
        private final MethodType originalType;
        /** The class declaring the method the call as written resolves to; null if it does not resolve. */
        private final Class<?> resolved;
        private final MethodHandle notSelected;
        private final MethodHandle miss;
        /** What a receiver's class calls; replaced by {@link #reset}. */
        private volatile ClassValue<MethodHandle> perClass = newPerClass();
        /** The classes tested for, in order, and what each calls; guarded by this. */
        private final List<Class<?>> classes = new ArrayList<>();
        private final List<MethodHandle> entries = new ArrayList<>();
        private boolean megamorphic;

        VirtualSite(MethodHandles.Lookup caller, String name, MethodType type, Class<?> owner, int opcode) {
            super(type);
            this.caller = caller;
            this.name = name;
            this.interfaceCall = opcode == INVOKEINTERFACE;
            this.freshType = type.dropParameterTypes(0, 1);
            this.originalType = freshType.dropParameterTypes(freshType.parameterCount() - 1, freshType.parameterCount());
            this.method = (name + originalType.toMethodDescriptorString()).intern();
            Class<?> declaring;
            try {
                declaring = caller.revealDirect(caller.findVirtual(owner, name, originalType)).getDeclaringClass();
            } catch (ReflectiveOperationException | RuntimeException | LinkageError unresolved) {
                declaring = null; // NOTE: the call as written throws, from the caller's code
            }
            this.resolved = declaring;
            this.notSelected = notSelected(type);
            this.miss = MISS.bindTo(this).asCollector(Object[].class, type.parameterCount()).asType(type);
            if (cacheOff(caller.lookupClass())) {
                setTarget(notSelected); // NOTE: for good: every call is the call as written
            } else {
                setTarget(miss);
                register(this);
            }
        }

        private ClassValue<MethodHandle> newPerClass() {
            return new ClassValue<>() {
                @Override
                protected MethodHandle computeValue(Class<?> type) {
                    return entryFor(type);
                }
            };
        }

        /** After a retransformation: forgets every class, and finds each out again at its next call. */
        synchronized void reset() {
            perClass = newPerClass();
            classes.clear();
            entries.clear();
            megamorphic = false;
            setTarget(miss);
        }

        /** Whether a class was retransformed or redefined by another agent ({@link CoLinker#retransformed}). */
        static final class Retransformed {
            volatile boolean seen;
        }

        static final ClassValue<Retransformed> RETRANSFORMED = new ClassValue<>() {
            @Override
            protected Retransformed computeValue(Class<?> type) {
                return new Retransformed();
            }
        };

        /** Every site that caches, held weakly (a site goes with its caller's class); guarded by itself. */
        private static final List<WeakReference<VirtualSite>> SITES = new ArrayList<>();
        /** How many sites {@link #SITES} may hold before its cleared references are dropped. */
        private static int purgeAt = 64;

        private static void register(VirtualSite site) {
            synchronized (SITES) {
                if (SITES.size() >= purgeAt) {
                    SITES.removeIf(reference -> reference.get() == null);
                    purgeAt = Math.max(64, 2 * SITES.size());
                }
                SITES.add(new WeakReference<>(site));
            }
        }

        static List<VirtualSite> liveSites() {
            List<VirtualSite> live = new ArrayList<>();
            synchronized (SITES) {
                for (WeakReference<VirtualSite> reference : SITES) {
                    VirtualSite site = reference.get();
                    if (site != null) {
                        live.add(site);
                    }
                }
            }
            return live;
        }

        /**
         * The classes whose presence means that another agent may retransform woven classes and
         * put code into their wrappers, which a cache would skip: Mockito's inline mock maker (the
         * default in Mockito 5; the mock is an instance of the mocked class itself, its stubs are
         * in the wrapper), and Byte Buddy's agent, which such libraries attach with.
         */
        private static final String[] RETRANSFORMERS = {
            "org.mockito.internal.creation.bytebuddy.InlineByteBuddyMockMaker",
            "net.bytebuddy.agent.ByteBuddyAgent",
        };
        /** Per loader: whether it sees one of {@link #RETRANSFORMERS}; guarded by itself. */
        private static final Map<ClassLoader, Boolean> RETRANSFORMER_VISIBLE = new WeakHashMap<>();

        /**
         * @return whether this caller's sites never cache: {@code -Daioco.inlineCache=false}; or,
         *     unless the aioco agent watches retransformations: always, unless {@code
         *     -Daioco.inlineCache=true} (another agent could retransform a woven class and put
         *     code into its wrappers unseen), and even then when a class of {@link #RETRANSFORMERS}
         *     is visible from the caller's loader, the system loader or the thread's context loader
         */
        static boolean cacheOff(Class<?> callerClass) {
            String property = System.getProperty(INLINE_CACHE_PROPERTY);
            if ("false".equals(property)) {
                return true;
            }
            if ("true".equals(System.getProperty(RETRANSFORM_WATCH_PROPERTY))) {
                return false;
            }
            if (!"true".equals(property)) {
                return true; // NOTE: no watcher: nothing would tell the sites of a retransformation
            }
            return retransformerVisible(callerClass.getClassLoader())
                    || retransformerVisible(ClassLoader.getSystemClassLoader())
                    || retransformerVisible(Thread.currentThread().getContextClassLoader());
        }

        private static boolean retransformerVisible(ClassLoader loader) {
            synchronized (RETRANSFORMER_VISIBLE) {
                Boolean known = loader == null ? null : RETRANSFORMER_VISIBLE.get(loader);
                if (known != null) {
                    return known;
                }
            }
            boolean visible = false;
            for (String name : RETRANSFORMERS) {
                try {
                    Class.forName(name, false, loader);
                    visible = true;
                    break;
                } catch (ClassNotFoundException absent) {
                    // NOTE: not there
                } catch (VirtualMachineError fatal) {
                    throw fatal;
                } catch (Throwable failed) {
                    // NOTE: a loader that fails otherwise (a LinkageError, an AssertionError of a
                    // restricted loader): it cannot tell, so the site keeps its cache off; the
                    // call as written never needed that loader
                    visible = true;
                    break;
                }
            }
            if (loader != null) {
                synchronized (RETRANSFORMER_VISIBLE) {
                    RETRANSFORMER_VISIBLE.put(loader, visible);
                }
            }
            return visible;
        }

        /** The target until a receiver's class is known: finds what it calls, caches it, calls it. */
        private Object miss(Object[] arguments) throws Throwable {
            Object receiver = arguments[0];
            MethodHandle entry = receiver == null ? notSelected : cache(receiver.getClass());
            return entry.invokeWithArguments(arguments);
        }

        private synchronized MethodHandle cache(Class<?> type) {
            MethodHandle entry = perClass.get(type);
            if (megamorphic || classes.contains(type)) {
                return entry;
            }
            if (classes.size() == POLYMORPHIC || !heldByCallerLoader(type)) {
                // NOTE: a class the caller's loader does not hold could be unloaded: the site does not
                // keep it (a ClassValue keeps its answers in the class)
                megamorphic = true;
                classes.clear();
                entries.clear();
                MethodHandle entryOf = ENTRY_OF.bindTo(this).asType(MethodType.methodType(MethodHandle.class,
                        type().parameterType(0)));
                setTarget(MethodHandles.foldArguments(MethodHandles.exactInvoker(type()), entryOf));
                return entry;
            }
            classes.add(type);
            entries.add(entry);
            MethodHandle target = miss;
            for (int i = classes.size() - 1; i >= 0; i--) {
                MethodHandle test = IS_CLASS.bindTo(classes.get(i)).asType(MethodType.methodType(boolean.class,
                        type().parameterType(0)));
                target = MethodHandles.guardWithTest(test, entries.get(i), target);
            }
            setTarget(target);
            return entry;
        }

        /** The megamorphic target's lookup. */
        private MethodHandle entryOf(Object receiver) {
            return receiver == null ? notSelected : perClass.get(receiver.getClass());
        }

        private boolean heldByCallerLoader(Class<?> type) {
            ClassLoader loader = type.getClassLoader();
            if (loader == null) {
                return true;
            }
            for (ClassLoader up = caller.lookupClass().getClassLoader(); up != null; up = up.getParent()) {
                if (up == loader) {
                    return true;
                }
            }
            return false;
        }

        /**
         * @return the fresh body of the method a receiver of {@code type} selects, as a handle of
         *     the call's type, if the class declaring it was woven and the caller may call it; else
         *     {@link #notSelected}
         */
        private MethodHandle entryFor(Class<?> type) {
            if (resolved == null) {
                return notSelected;
            }
            Class<?> declaring = Dispatch.selectedAlone(type, method);
            if (declaring == null || RETRANSFORMED.get(declaring).seen || RETRANSFORMED.get(type).seen) {
                return notSelected; // NOTE: a retransformed class's wrapper may hold another agent's code
            }
            try {
                MethodHandles.Lookup inDeclaring = MethodHandles.privateLookupIn(declaring, caller);
                int modifiers = inDeclaring.revealDirect(inDeclaring.findVirtual(declaring, name, originalType)).getModifiers();
                if ((interfaceCall || resolved.isInterface()) && !Modifier.isPublic(modifiers)) {
                    return notSelected; // NOTE: the call as written throws IllegalAccessError (JVMS 6.5 invokeinterface)
                }
                MethodHandle fresh = inDeclaring.findSpecial(declaring, name, freshType, declaring);
                java.lang.invoke.MethodHandleInfo info = inDeclaring.revealDirect(fresh);
                if (info.getDeclaringClass() != declaring || !Modifier.isPrivate(info.getModifiers())
                        || Modifier.isStatic(info.getModifiers())) {
                    return notSelected;
                }
                return fresh.asType(type());
            } catch (ReflectiveOperationException | RuntimeException | LinkageError notWoven) {
                return notSelected; // no fresh body (not woven), or not accessible from the caller's module
            }
        }

        /** @return a handle of the call's type that stores {@link CoStack#NOT_SELECTED} and returns a dummy */
        private static MethodHandle notSelected(MethodType type) {
            MethodHandle dummy = type.returnType() == void.class ? MethodHandles.empty(type)
                    : MethodHandles.dropArguments(MethodHandles.zero(type.returnType()), 0, type.parameterList());
            MethodHandle mark = MethodHandles.dropArguments(MARK_NOT_SELECTED, 0,
                    type.parameterList().subList(0, type.parameterCount() - 1));
            return MethodHandles.foldArguments(dummy, mark);
        }

        private static void markNotSelected(CoStack stack) {
            stack.signal = CoStack.NOT_SELECTED;
        }

        private static boolean isClass(Class<?> expected, Object receiver) {
            return receiver != null && receiver.getClass() == expected;
        }

        private static final MethodHandle MISS;
        private static final MethodHandle ENTRY_OF;
        private static final MethodHandle IS_CLASS;
        private static final MethodHandle MARK_NOT_SELECTED;

        static {
            try {
                MethodHandles.Lookup lookup = MethodHandles.lookup();
                MISS = lookup.findVirtual(VirtualSite.class, "miss", MethodType.methodType(Object.class, Object[].class));
                ENTRY_OF = lookup.findVirtual(VirtualSite.class, "entryOf",
                        MethodType.methodType(MethodHandle.class, Object.class));
                IS_CLASS = lookup.findStatic(VirtualSite.class, "isClass",
                        MethodType.methodType(boolean.class, Class.class, Object.class));
                MARK_NOT_SELECTED = lookup.findStatic(VirtualSite.class, "markNotSelected",
                        MethodType.methodType(void.class, CoStack.class));
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }
    }

    /**
     * Bootstrap of the dynamic constant that guards a plain {@code invokestatic} of another class's
     * fresh body: non-null if that body exists and the caller may call it, so that the plain call
     * resolves. The instrumenter writes such a call only where it expects the callee's class to be
     * woven alike, but the class may have been loaded unwoven all the same (from the boot class
     * path, before the agent started, or its weaving failed); then the caller takes the linked call
     * ({@link #link}, to the original method) instead, and this logs once per class why the call is
     * slow: the class is not woven (the method is still marked {@code @CoroutineFn}), or the version
     * loaded made the method a plain one (separate compilation); no warning when the method is gone
     * altogether or not accessible (the linked call then throws what the plain call would). The constant is resolved once per calling class and callee method, where the call runs
     * first; it loads the callee's class (as the call would) without initializing it. The JIT folds
     * it, so the guarded call costs what the plain call does.
     *
     * @param caller the calling class's lookup
     * @param name the callee's name
     * @param type {@code Object.class}: a reference, not a {@code boolean}, because JDK 17's C1 and
     *     C2 give up compiling a method that loads a dynamic constant of a primitive type ("COMPILE
     *     SKIPPED: could not resolve a constant": the chain ran interpreted, 90 times slower), while
     *     both fold a reference one
     * @param owner the class that declares the callee
     * @param bodyType the fresh body's type (the arguments, then the stack)
     * @return {@code owner} if it has the fresh body and {@code caller} may call it, else null
     */
    public static Object hasBody(MethodHandles.Lookup caller, String name, Class<?> type, Class<?> owner,
            MethodType bodyType) {
        try {
            caller.findStatic(owner, name, bodyType);
            return owner;
        } catch (IllegalAccessException notAccessible) {
            return null; // the linked call reports it, as it did before the plain calls
        } catch (NoSuchMethodException noBody) {
            MethodType originalType = bodyType.dropParameterTypes(bodyType.parameterCount() - 1, bodyType.parameterCount());
            String method = name + originalType.toMethodDescriptorString();
            try {
                caller.findStatic(owner, name, originalType);
            } catch (NoSuchMethodException | IllegalAccessException gone) {
                return null; // no such method at all: the linked call throws what the plain call would
            }
            if (WARNED.get(owner).compareAndSet(false, true)) {
                String where = "first: " + caller.lookupClass().getName() + " calling " + method + callerFrame(caller.lookupClass());
                String text = isMarked(owner, name, originalType)
                        ? owner.getName() + " is not woven: " + whyNotWoven(owner) + "; woven classes run its coroutine "
                                + "functions as plain code, through a linked call that the JIT inlines less (" + where + ")"
                        : owner.getName() + " has no woven body for " + method + ": it is not a @CoroutineFn in the version "
                                + "of " + owner.getName() + " loaded (compiled again after its callers were woven against a version "
                                + "where it was one); the call runs it as plain code, through a linked call (" + where + ")";
                System.getLogger("io.aioco").log(System.Logger.Level.WARNING, "aioco: " + text);
            }
            return null;
        }
    }

    /**
     * @return whether {@code owner} declares the method marked {@code @CoroutineFn} (retained at run
     *     time): a class that was not woven; false: its loaded version made the method a plain one;
     *     true too when it cannot tell (the marker's type is not visible from the class's loader, as
     *     for the boot class path, whose classes drop the annotation): the message of a class not
     *     woven, as before
     */
    private static boolean isMarked(Class<?> owner, String name, MethodType originalType) {
        try {
            Class.forName(COROUTINE_FN, false, owner.getClassLoader());
            for (java.lang.annotation.Annotation a : owner.getDeclaredMethod(name, originalType.parameterArray()).getDeclaredAnnotations()) {
                if (a.annotationType().getName().equals(COROUTINE_FN)) {
                    return true;
                }
            }
            return false;
        } catch (NoSuchMethodException inherited) {
            return false; // declared by a superclass in the version loaded: not the method woven against
        } catch (ClassNotFoundException | LinkageError | SecurityException unknown) {
            return true; // NOTE: cannot tell
        }
    }

    /** The marker, named: this package does not import io.aioco. */
    private static final String COROUTINE_FN = PublicNames.COROUTINE_FN;

    /** @return ", from method, line n": the caller's frame that is resolving the guard, if found */
    private static String callerFrame(Class<?> callerClass) {
        String className = callerClass.getName();
        return StackWalker.getInstance().walk(frames -> frames.filter(f -> f.getClassName().equals(className)).findFirst())
                .map(f -> " from " + f.getMethodName() + ", line " + f.getLineNumber()).orElse("");
    }

    /** Which classes {@link #hasBody} has warned of. */
    private static final ClassValue<java.util.concurrent.atomic.AtomicBoolean> WARNED = new ClassValue<>() {
        @Override
        protected java.util.concurrent.atomic.AtomicBoolean computeValue(Class<?> type) {
            return new java.util.concurrent.atomic.AtomicBoolean();
        }
    };

    /** @return why a class that should have been woven was not, as far as the runtime can tell */
    static String whyNotWoven(Class<?> owner) {
        if (owner.getClassLoader() == null) {
            return "it was loaded by the boot class loader (-Xbootclasspath/a), whose classes the agent does "
                    + "not weave; put it on the class path";
        }
        return "it was loaded without the agent's weaving (loaded before the agent started: by another "
                + "agent's premain, or before a run-time attach; or its weaving failed, see the agent's log), "
                + "or compiled again without the Maven plugin";
    }

    private static final MethodHandle ARM;

    static {
        try {
            ARM = MethodHandles.lookup().findVirtual(CoStack.class, "arm",
                    MethodType.methodType(void.class, int.class, String.class, Object.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /**
     * A call with a signal (the body's type) to a function that has no body: one that cannot
     * suspend has only its fresh body. The compact encoding of a very large caller calls every
     * callee's body, with the signal 0 for a fresh call; such a call reaches the fresh body with
     * the signal dropped (a function that cannot suspend saves no frame, so it is never resumed).
     *
     * @return the call site, or null if the call has no signal or the callee no such fresh body
     */
    private static CallSite freshBodyForSignal(MethodHandles.Lookup caller, Class<?> owner, String name,
            MethodType type, MethodType bodyType, boolean isStatic, int opcode) {
        int last = bodyType.parameterCount() - 1;
        if (last < 1 || bodyType.parameterType(last) != int.class || bodyType.parameterType(last - 1) != CoStack.class) {
            return null;
        }
        try {
            MethodHandle fresh = find(caller, owner, name, bodyType.dropParameterTypes(last, last + 1), isStatic, opcode);
            return new ConstantCallSite(MethodHandles.dropArguments(fresh, type.parameterCount() - 1, int.class)
                    .asType(type));
        } catch (NoSuchMethodException | IllegalAccessException noFreshBody) {
            return null;
        }
    }

    private static MethodHandle find(MethodHandles.Lookup caller, Class<?> owner, String name, MethodType type,
            boolean isStatic, int opcode) throws NoSuchMethodException, IllegalAccessException {
        if (isStatic) {
            return caller.findStatic(owner, name, type);
        }
        if (opcode == INVOKESPECIAL) {
            return caller.findSpecial(owner, name, type, caller.lookupClass()); // private, or super.m(...)
        }
        return caller.findVirtual(owner, name, type); // a private method of a nestmate
    }
}
