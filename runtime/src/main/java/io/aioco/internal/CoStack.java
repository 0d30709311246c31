package io.aioco.internal;

import java.util.Arrays;
import java.util.Optional;

/**
 * The frame storage of one coroutine, and the protocol that instrumented code follows with it.
 *
 * <p>Not API: only code written by the aioco instrumenter calls this class, through the names that
 * the instrumenter's {@code RuntimeNames} lists (a test checks each of them by reflection).
 *
 * <h2>The call protocol</h2>
 * Every coroutine function starts with {@link #enter(String)}, which returns the running
 * coroutine's stack or throws when there is none. The {@link #signal} field carries one word
 * between a caller and its callee:
 * <ul>
 *   <li>While instrumented code runs and nothing suspends, the signal is 0. A statically bound
 *       call from instrumented code goes straight to the callee's fresh body and stores nothing;
 *       to resume the callee, it calls the callee's body with {@code token | RESUME} as the last
 *       argument. A fresh virtual or interface call goes through an inline cache ({@link
 *       CoLinker#linkVirtual}) to the fresh body of the receiver's woven method, storing nothing;
 *       when the receiver selects no such method, the cache leaves {@link #NOT_SELECTED} and the
 *       caller makes the call as written. A call that goes through a wrapper or a hand-written
 *       function of the runtime (that call, a virtual call that resumes, calls into aioco) first stores the callee's <em>token</em>
 *       ({@link #token(String, String)}: odd, from the method's name and descriptor); to resume
 *       the callee's saved frame, such a caller stores {@code token | RESUME}.
 *   <li>The callee reads the signal and clears it at once if it is set. Its own token means "my
 *       caller is instrumented"; its token with {@code RESUME} means "pop my frame and continue
 *       where I suspended"; anything else, in a wrapper or a hand-written function, means "my
 *       caller is not instrumented" (reflection, a plain lambda, a class the agent did not
 *       transform): it may then run, but not suspend.
 *   <li>A callee that suspends saves its frame here, stores {@link #SUSPEND} and returns a dummy
 *       value. Its caller, seeing {@code SUSPEND} after the call, saves its own frame and returns in
 *       turn, up to {@code Coroutine.enter()}.
 * </ul>
 * Frames are pushed innermost first and popped outermost first (on resume each frame is re-invoked
 * by its caller and pops its own state), so the storage is a plain LIFO of primitive and reference
 * slots kept apart: no boxing, grown on demand, references cleared when popped.
 *
 * <p>Thread confinement: a stack is only touched by the thread that runs its coroutine, while it
 * runs it.
 *
 * <p>This package imports nothing public: the coroutine a stack belongs to is held as {@code
 * Object} ({@code io.aioco} casts it back to its final class {@code Coroutine}, a class-pointer
 * compare), so the dependency runs from the API to here only (a test checks the runtime's packages
 * form no cycle).
 */
public final class CoStack {
    /** Signal bit that asks the callee to resume its saved frame (tokens are odd, so bit 1 is free). */
    public static final int RESUME = 2;
    /** Signal value left by a callee that suspended: its frame is saved, its result is a dummy. */
    public static final int SUSPEND = 2;

    /**
     * Signal value left by the inline cache of a virtual or interface call ({@code
     * CoLinker.linkVirtual}) that did not call the receiver's method (its class is not woven, or
     * the method it selects is no woven coroutine function): the caller makes the call as written,
     * through the wrapper, in its place. Even, and not {@link #SUSPEND}: no token.
     */
    public static final int NOT_SELECTED = 4;

    private static final ThreadLocal<Carrier> CARRIER = ThreadLocal.withInitial(Carrier::new);

    /**
     * A cache in front of {@link #CARRIER}, indexed by thread id: reading a thread's carrier costs
     * three dependent loads instead of a thread-local map lookup. Each thread writes its slot only
     * when it misses (first use, or another thread took the slot), so the array is read-mostly and
     * shared without contention. Carriers hold the thread's id, and their thread weakly only, so that
     * the cache keeps no thread (nor its class loader) alive.
     *
     * <p>It is also where coroutine dumps find the coroutines running now ({@link #knownCarriers()}),
     * so a miss does not take a slot whose carrier runs a coroutine: it takes one of {@link
     * #NEXT_SLOTS} other slots that does not (see {@link #missedCarrier}).
     */
    private static final Carrier[] CARRIER_CACHE = new Carrier[1024];

    /**
     * How many other slots a thread whose slot holds a carrier running a coroutine tries before it
     * takes its own slot anyway ({@link #missedCarrier}: they are {@link #stride} apart).
     */
    private static final int NEXT_SLOTS = 8;

    /** The word passed between an instrumented caller and its callee (see the class comment). */
    public int signal;

    /**
     * The exact method the caller armed {@link #signal} for: {@code name + descriptor}, a string
     * constant of the caller's class, so interned and compared by reference. Written together with
     * {@link #signal} by every caller that stores a token; read only when the signal is set.
     */
    public String callee;

    /**
     * The receiver of the call the caller armed {@link #signal} for; for a statically bound call
     * (static, {@code super.}, private), the class that declares the method. Written together with
     * {@link #signal}; read only when the signal is set.
     */
    public Object receiver;

    /**
     * The last receiver {@link #admitLambda} admitted, with the lambda body it was admitted for
     * (its declaring class and its name and descriptor): a one-entry cache of the last positive
     * answer (all null at first, and never a refusal), cleared when the storage becomes a spare (a
     * thread's spare keeps no application object alive). The answer depends on the proxy's class
     * and the body alone, so the same proxy asked about the same body is admitted again.
     */
    private Object lastProxy;
    private Class<?> lastProxyHost;
    private String lastProxyMethod;

    /**
     * The class of the last proxy {@link #admitLambda} admitted and the body it was admitted for,
     * held weakly: unlike {@link #lastProxy}, kept when the storage becomes a spare (it keeps no
     * application object, class or class loader alive), so that a new coroutine whose entry is a
     * proxy of the same class (the same lambda or method reference, created again) is admitted
     * without {@link Dispatch}'s two class lookups. Replaced on a positive answer for another
     * class or body; null at first.
     */
    private AdmittedClass admittedClass;

    /** A proxy class (the referent) admitted for a lambda body: its declaring class (weakly) and name. */
    private static final class AdmittedClass extends java.lang.ref.WeakReference<Class<?>> {
        final java.lang.ref.WeakReference<Class<?>> host;
        final String method;

        AdmittedClass(Class<?> proxyClass, Class<?> host, String method) {
            super(proxyClass);
            this.host = new java.lang.ref.WeakReference<>(host);
            this.method = method;
        }

        /** @return whether a proxy of {@code proxyClass} was admitted for {@code host}'s {@code method} */
        boolean admits(Class<?> proxyClass, Class<?> host, String method) {
            // NOTE: a cleared referent (its class unloaded) is null, never a live class
            return this.method == method && get() == proxyClass && this.host.get() == host;
        }
    }

    /** Slot arrays larger than this are not kept with a spare stack. */
    private static final int SPARE_SLOTS = 64;

    /** The {@code io.aioco.Coroutine} this storage belongs to, null while it is a spare. */
    private Object coroutine;
    private long[] prims;
    private int primTop;
    private Object[] refs;
    private int refTop;

    /** Storage for {@code coroutine}; arrays are allocated at the first suspension. */
    CoStack(Object coroutine) {
        this.coroutine = coroutine;
    }

    /** Called by {@link Carrier#takeStack}: this spare storage now belongs to {@code owner}. */
    void reuseFor(Object owner) {
        coroutine = owner;
    }

    /** Called by {@link Carrier#recycle}: empties this storage to be kept as the thread's spare. */
    void emptyForSpare() {
        dropFrames();
        // NOTE: callee kept (unlike clear()): a string constant keeps no class alive, and the next
        // coroutine's entry is armed with the same one ("run()V"), so it finds it and stores nothing
        coroutine = null;
        lastProxy = null;
        lastProxyHost = null;
        lastProxyMethod = null;
        if (prims != null && prims.length > SPARE_SLOTS) {
            prims = null;
        }
        if (refs != null && refs.length > SPARE_SLOTS) {
            refs = null;
        }
    }

    /** @return the coroutine this storage belongs to (an {@code io.aioco.Coroutine}) */
    public Object coroutine() {
        return coroutine;
    }

    /** @return the calling thread's carrier (never null) */
    @SuppressWarnings("deprecation") // Thread.getId(): threadId() is JDK 19+
    public static Carrier carrier() {
        long id = Thread.currentThread().getId();
        Carrier carrier = CARRIER_CACHE[(int) id & (CARRIER_CACHE.length - 1)];
        if (carrier != null && carrier.threadId == id) {
            return carrier;
        }
        return missedCarrier(id);
    }

    /**
     * The calling thread's carrier from its thread-local, stored in the cache: in its own slot, unless
     * that slot's carrier runs a coroutine now (a coroutine entered on a thread that no context keeps,
     * blocked in plain code: the dump must still find it there); then in the first of {@link
     * #NEXT_SLOTS} other slots, {@link #stride} apart, that is free or whose carrier runs none (none of
     * them is searched by the fast path: this thread misses again, until its own slot is free), else in
     * its own slot after all. The stride is at least 9, so the slots tried are never the own slots of
     * the next 8 thread ids (ids are given in sequence: a pool's threads have neighbouring slots,
     * rv12), and it depends on the id, so two threads whose own slots collide try different slots.
     * The dump can still miss a coroutine when all 9 slots a thread tries hold carriers running
     * coroutines: at least 9 threads running coroutines at once (blocked in plain code), the other 8
     * on exactly these slots, e.g. a pool of more than 8 * stride threads of consecutive ids plus one
     * whose id collides with one of theirs. Plain loads and stores only: nothing allocated, no shared
     * counter, no lock, no reference read through the collector (Lincheck's model checking replays
     * the miss, which must take the same steps from the same state).
     */
    private static Carrier missedCarrier(long id) {
        Carrier carrier = CARRIER.get();
        Carrier[] cache = CARRIER_CACHE;
        int mask = cache.length - 1;
        int home = (int) id & mask;
        int stride = stride(id);
        for (int i = 0; i <= NEXT_SLOTS; i++) {
            int slot = (home + i * stride) & mask;
            Carrier there = cache[slot];
            if (there == carrier) {
                return carrier; // NOTE: kept in a later slot while its own holds a running coroutine's
            }
            if (there == null || there.current == null) {
                // NOTE: a plain store: a racing reader sees either carrier, and checks its thread id
                cache[slot] = carrier;
                return carrier;
            }
        }
        cache[home] = carrier; // NOTE: every slot tried runs a coroutine: the dump may miss one
        return carrier;
    }

    /**
     * The distance between the slots {@link #missedCarrier} tries for thread id {@code id}: odd, from
     * 9 to 71 (a hash of the id), so that 8 steps never wrap to the own slot nor reach the next 8 ids'
     * slots.
     */
    private static int stride(long id) {
        return (int) ((id * 0x9E3779B97F4A7C15L) >>> 59) * 2 + 9;
    }

    /**
     * The carriers of the threads that ran coroutine code lately (those in the cache; a thread
     * running a coroutine keeps its slot, see {@link #missedCarrier}; the dump adds the loop threads'
     * carriers, which their contexts keep), for coroutine dumps: what each runs. Any thread, racy.
     *
     * @return the carriers found
     */
    public static java.util.List<Carrier> knownCarriers() {
        java.util.List<Carrier> out = new java.util.ArrayList<>();
        for (Carrier carrier : CARRIER_CACHE) {
            if (carrier != null) {
                out.add(carrier);
            }
        }
        return out;
    }

    /** @return the stack of the coroutine running on this thread, or null */
    public static CoStack current() {
        return carrier().current;
    }

    /**
     * Prologue of every coroutine function: the running coroutine's stack.
     *
     * @param method the coroutine function, as {@code Owner.name(desc)}, for the error message
     * @return the stack of the running coroutine
     * @throws IllegalStateException when called outside a coroutine
     */
    public static CoStack enter(String method) {
        CoStack stack = carrier().current;
        if (stack == null) {
            throw notInCoroutine(method);
        }
        return stack;
    }

    /**
     * The token of a method, as instrumented callers store it in {@link #signal}. The instrumenter
     * computes the same value (a test checks both agree).
     *
     * @param name method name
     * @param descriptor method descriptor
     * @return an odd int derived from name and descriptor
     */
    public static int token(String name, String descriptor) {
        return ((name.hashCode() * 31 + descriptor.hashCode()) << 2) | 1;
    }

    /**
     * @param method the coroutine function
     * @return the error for a coroutine function called outside any coroutine
     */
    public static IllegalStateException notInCoroutine(String method) {
        return new IllegalStateException(
                method + " is a @CoroutineFn and was called outside a coroutine; call it from code"
                        + " that a Coroutine runs (Coroutine.create(...).enter())");
    }

    // ---- the protocol, for the runtime's own coroutine functions (written by hand) ----

    /** {@link #arrive}: called by instrumented code, which will save itself if this one suspends. */
    public static final int CALLED = 0;
    /** {@link #arrive}: called again to resume the frame this function saved. */
    public static final int RESUMED = 1;
    /** {@link #arrive}: called by code that is not instrumented: this function must not suspend. */
    public static final int FOREIGN = 2;

    /**
     * Reads and clears the caller's signal, as instrumented code does on entry, and tells whether
     * the caller called exactly this function: a frame that was not rewritten in between (with a
     * method of the same name and descriptor) would have left the caller's token for another
     * receiver. The runtime's classes are final and never call a coroutine function of their own
     * through the protocol, so the receiver identifies the caller's call exactly (tokens of one
     * class differ, a test checks it).
     *
     * <p>Called by the runtime's hand-written coroutine functions, on the running coroutine's thread.
     *
     * @param token the function's token ({@link #token(String, String)})
     * @param self {@code this}, or for a static function its class
     * @return {@link #CALLED}, {@link #RESUMED} or {@link #FOREIGN}
     */
    public int arrive(int token, Object self) {
        int value = signal;
        signal = 0;
        if (receiver != self) {
            return FOREIGN;
        }
        return value == token ? CALLED : value == (token | RESUME) ? RESUMED : FOREIGN;
    }

    /**
     * Arms a call, as instrumented code does before a call through a wrapper: for the runtime's own
     * callers of user code ({@code Coroutine.enter}, a spawned coroutine's entry).
     *
     * @param value the callee's token, or {@code token | RESUME} to resume its saved frame
     * @param method the callee's name and descriptor, as a string constant (interned)
     * @param target the receiver of the call, or for a static method the class that declares it
     */
    public void arm(int value, String method, Object target) {
        signal = value;
        // NOTE: a resumed coroutine's entry finds both unchanged most of the time: a compare is
        // cheaper than a reference store (the collector's write barrier)
        if (callee != method) {
            callee = method;
        }
        if (receiver != target) {
            receiver = target;
        }
    }

    // ---- the exact check of a wrapper that found the signal set ----

    /**
     * Entry check of a wrapper that can suspend, when it finds the signal set: the signal is its
     * own only if the caller armed it for exactly this method, so that no frame that was not
     * rewritten sits between them. That holds when the caller stored this method's name and
     * descriptor (the same interned string: exact, no hash) and either this method's declaring
     * class (a statically bound call: static, {@code super.}, private) or {@code self} as the
     * receiver, and {@code self}'s class selects this very method for that name and descriptor (an
     * excluded subclass that overrides it and calls {@code super.} does not).
     *
     * <p>Cost on the path of every virtual call from instrumented code: one reference compare for
     * the name, one for the receiver, and one for the receiver's class when it is the declaring
     * class; a receiver of a subclass costs a {@link ClassValue} lookup and a map lookup.
     *
     * <p>Called by wrappers, on the running coroutine's thread.
     *
     * @param found the signal the wrapper read (not 0)
     * @param self the wrapper's {@code this}, or null for a static method
     * @param declaring the class that declares the wrapper
     * @param method the wrapper's name and descriptor (a string constant: interned)
     * @return {@code found} if it is this method's signal, else 0, and the field is then cleared:
     *     the caller is taken for code that is not instrumented
     */
    public int admit(int found, Object self, Class<?> declaring, String method) {
        Object target = receiver;
        if (callee == method && (target == declaring || target == self && self != null
                && (self.getClass() == declaring || selectedByArmedCall(self.getClass(), declaring, method)))) {
            return found;
        }
        if (callee == method && self == null && target instanceof Class<?> named
                && Dispatch.selectsStatic(named, method) == declaring) {
            return found; // an old class file's static call through a subclass
        }
        signal = 0;
        return 0;
    }

    /**
     * {@link #admit} for a method that may hide another: the instrumenter found that the method
     * has the name and descriptor of a package-private method of another package declared by a
     * superclass, which it hides without overriding it (JVMS 5.4.5), or it could not read every
     * superclass. A call resolved to that hidden method, on a receiver of the declaring class
     * itself, selects the hidden method, not this one: when that method was not rewritten (an
     * excluded class) and calls this one on the same receiver, the signal it passes on was armed
     * for it, with the same name, descriptor and receiver. So the fast path of {@link #admit} (the
     * receiver's class is the declaring class) does not hold here: the receiver's class is always
     * asked which methods the call can select, and when both can be, the call is this method's own
     * only if it came straight from the rewritten body that armed it (a walk of two frames).
     *
     * <p>Cost: a {@link ClassValue} lookup and a map lookup on every admitted call of such a method
     * (methods that hide nothing keep {@link #admit}); the stack walk only while both methods are
     * selectable (a class really hides one).
     *
     * <p>Called by wrappers, on the running coroutine's thread.
     *
     * @param found the signal the wrapper read (not 0)
     * @param self the wrapper's {@code this} (never null: static methods hide nothing of this kind)
     * @param declaring the class that declares the wrapper
     * @param method the wrapper's name and descriptor (a string constant: interned)
     * @return {@code found} if it is this method's signal, else 0, and the field is then cleared
     */
    public int admitExact(int found, Object self, Class<?> declaring, String method) {
        Object target = receiver;
        if (callee == method && (target == declaring || target == self && self != null
                && selectedByArmedCall(self.getClass(), declaring, method))) {
            return found;
        }
        signal = 0;
        return 0;
    }

    /**
     * Whether the armed call, on a receiver of class {@code receiver}, selected {@code declaring}'s
     * method. When a class below hides that method (a package-private method of another package
     * that it does not override, JVMS 5.4.5), the call selects one or the other depending on what
     * it resolved to: a caller that called through an interface or the hiding class armed the call
     * for the hiding method, which may be a frame that was not rewritten and calls this one on the
     * same receiver. Then the call is this method's own only if it came straight from the frame that
     * armed it: the wrapper's caller is a rewritten body (its descriptor has the stack parameter),
     * with no frame in between, not even the JDK's method-handle or reflection frames. A walk of two
     * frames, only for such hierarchies (rare).
     */
    private static boolean selectedByArmedCall(Class<?> receiver, Class<?> declaring, String method) {
        int selects = Dispatch.selects(receiver, method, declaring);
        return selects == Dispatch.SELECTS
                || selects == Dispatch.SELECTS_IF_RESOLVED && calledByRewrittenBody(declaring, method);
    }

    /**
     * @return whether the wrapper of {@code declaring}'s {@code method} (the first frame outside
     *     io.aioco.internal) was called by a rewritten body. NOTE: JDK 25 answers
     *     {@code getDescriptor()} only with RETAIN_CLASS_REFERENCE.
     */
    private static boolean calledByRewrittenBody(Class<?> declaring, String method) {
        String name = method.substring(0, method.indexOf('('));
        String descriptor = method.substring(method.indexOf('('));
        return StackWalker.getInstance(java.util.Set.of(
                        StackWalker.Option.SHOW_HIDDEN_FRAMES, StackWalker.Option.RETAIN_CLASS_REFERENCE))
                .walk(s -> {
                    java.util.Iterator<StackWalker.StackFrame> frames = s
                            .dropWhile(f -> f.getClassName().startsWith("io.aioco.internal."))
                            .limit(2)
                            .iterator();
                    if (!frames.hasNext()) {
                        return false;
                    }
                    StackWalker.StackFrame wrapper = frames.next();
                    if (wrapper.getDeclaringClass() != declaring || !wrapper.getMethodName().equals(name)
                            || !wrapper.getDescriptor().equals(descriptor) || !frames.hasNext()) {
                        return false;
                    }
                    String caller = frames.next().getDescriptor();
                    return !originalDescriptor(caller).equals(caller);
                });
    }

    /**
     * Entry check of a wrapper of a lambda body that found the signal set, armed for the functional
     * interface method it implements (the wrapper compared the name and descriptor): the signal is
     * its own only if the receiver is a lambda proxy whose implementation method is this very
     * body, so that the proxy forwards to it and nothing runs in between.
     *
     * <p>The proxy of a serializable lambda tells its implementation method (its
     * {@code SerializedLambda}); that is the only kind whose implementation may be a plain method
     * (the instrumenter gives every other lambda of a coroutine interface an implementation of the
     * host class that consumes the signal: a lambda body or a forwarder), so for another proxy of
     * the host class the first lambda wrapper to see the signal is its implementation. A
     * serializable proxy that does not tell (its class's module does not open it to aioco) is not
     * admitted: its implementation then runs as called by plain code (it may run, not suspend).
     *
     * <p>Called by wrappers, on the running coroutine's thread.
     *
     * @param found the signal the wrapper read (not 0)
     * @param declaring the class that declares the lambda body
     * @param method the lambda body's name and descriptor (the wrapper's own)
     * @return {@code found} if it is this method's signal, else 0 (the field is then cleared)
     */
    public int admitLambda(int found, Class<?> declaring, String method) {
        Object target = receiver;
        // NOTE: a resumed entry is the same proxy object every time, for the same body: three
        // compares instead of the class lookups (lambdaHost's ClassValue; lambdaImplementedBy's
        // instanceof Serializable, which a proxy fails by scanning its secondary supers: 30 ns on
        // JDK 17, measured with ThreadCpuSwitch). lastProxy is never null once set: a null
        // receiver never matches with the method, which is never null
        if (target == lastProxy && method == lastProxyMethod && declaring == lastProxyHost) {
            return found;
        }
        return admitLambdaUncached(found, target, declaring, method);
    }

    /**
     * {@link #admitLambda}'s miss: the class-level answer of {@link #admittedClass} (a new
     * coroutine's entry, on a spare storage: nothing stored, so nothing pays a write barrier), else
     * asks {@link Dispatch} and remembers a positive answer.
     */
    private int admitLambdaUncached(int found, Object target, Class<?> declaring, String method) {
        if (target == null) {
            signal = 0;
            return 0;
        }
        Class<?> proxyClass = target.getClass();
        AdmittedClass known = admittedClass;
        if (known != null && known.admits(proxyClass, declaring, method)) {
            return found;
        }
        return admitLambdaFromDispatch(found, target, proxyClass, declaring, method);
    }

    /** {@link #admitLambdaUncached}'s miss: asks {@link Dispatch}, remembers a positive answer. */
    private int admitLambdaFromDispatch(int found, Object target, Class<?> proxyClass, Class<?> declaring,
            String method) {
        if (Dispatch.lambdaHost(proxyClass) == declaring && Dispatch.lambdaImplementedBy(target, declaring, method)) {
            lastProxy = target;
            lastProxyHost = declaring;
            lastProxyMethod = method;
            admittedClass = new AdmittedClass(proxyClass, declaring, method);
            return found;
        }
        signal = 0;
        return 0;
    }

    /**
     * Ends a hand-written coroutine function that suspends: its state (if any) is pushed already;
     * its caller sees {@link #SUSPEND} and saves itself.
     */
    public void suspend() {
        signal = SUSPEND;
    }

    // ---- saving (suspend path) ----

    /** @param value an int, boolean, byte, char or short slot to save */
    public void pushInt(int value) {
        pushLong(value);
    }

    /** @param value a float slot to save */
    public void pushFloat(float value) {
        pushLong(Float.floatToRawIntBits(value));
    }

    /** @param value a double slot to save */
    public void pushDouble(double value) {
        pushLong(Double.doubleToRawLongBits(value));
    }

    /** @param value a long slot to save */
    public void pushLong(long value) {
        long[] array = prims;
        int top = primTop;
        if (array == null || top == array.length) {
            array = growPrims();
        }
        array[top] = value;
        primTop = top + 1;
    }

    /** @param value a reference slot to save */
    public void pushRef(Object value) {
        Object[] array = refs;
        int top = refTop;
        if (array == null || top == array.length) {
            array = growRefs();
        }
        array[top] = value;
        refTop = top + 1;
    }

    private long[] growPrims() {
        prims = prims == null ? new long[4] : Arrays.copyOf(prims, prims.length * 2);
        return prims;
    }

    private Object[] growRefs() {
        refs = refs == null ? new Object[4] : Arrays.copyOf(refs, refs.length * 2);
        return refs;
    }

    // ---- restoring (resume path) ----

    /** @return the last saved int slot */
    public int popInt() {
        return (int) popLong();
    }

    /** @return the last saved float slot */
    public float popFloat() {
        return Float.intBitsToFloat((int) popLong());
    }

    /** @return the last saved double slot */
    public double popDouble() {
        return Double.longBitsToDouble(popLong());
    }

    /** @return the last saved long slot */
    public long popLong() {
        int top = primTop - 1;
        if (top < 0) {
            throw corrupt("primitive slot underflow");
        }
        primTop = top;
        return prims[top];
    }

    /** @return the last saved reference slot; the storage forgets it */
    public Object popRef() {
        int top = refTop - 1;
        if (top < 0) {
            throw corrupt("reference slot underflow");
        }
        refTop = top;
        Object value = refs[top];
        refs[top] = null; // NOTE: a suspended coroutine must not keep dead objects reachable
        return value;
    }

    /**
     * A copy of the saved frames, for a coroutine dump ({@link CoTables#describe}): the primitive
     * slots and the reference slots, bottom first. Any thread: racy, meant for a suspended
     * coroutine, whose storage nobody touches; never throws (a torn copy is cut to what is there).
     *
     * @return {@code long[]} and {@code Object[]}
     */
    public Object[] snapshot() {
        long[] p = prims;
        Object[] r = refs;
        int pt = primTop;
        int rt = refTop;
        long[] primCopy = p == null ? new long[0] : Arrays.copyOf(p, Math.max(0, Math.min(pt, p.length)));
        Object[] refCopy = r == null ? new Object[0] : Arrays.copyOf(r, Math.max(0, Math.min(rt, r.length)));
        return new Object[] {primCopy, refCopy};
    }

    /**
     * The primitive slots' array as it is now (null before the first suspension), for the probes
     * ({@code aioco.probes}): with {@link #primDepth()} and {@link #refDepth()} read at a
     * suspension, it describes the frames saved then ({@link CoTables#elements}) until the next
     * suspension, since popping a slot never clears it. Only the coroutine's thread, at a suspension.
     *
     * @return the array, not a copy
     */
    public long[] primSlots() {
        return prims;
    }

    /** @return how many primitive slots are saved (see {@link #primSlots()}) */
    public int primDepth() {
        return primTop;
    }

    /** @return how many reference slots are saved (see {@link #primSlots()}) */
    public int refDepth() {
        return refTop;
    }

    /**
     * What a refused suspension undoes in its coroutine besides the saved frames: a wait a runtime
     * function below the refusing frame registered for publication at the next yield (it was
     * armed by an instrumented caller, so it did not refuse itself). Set once by {@code
     * io.aioco.Coroutine}; run on the refusing thread, on the error path only.
     */
    private static volatile java.util.function.Consumer<Object> refusalHook;

    /**
     * Sets what {@link #crossedUninstrumented} undoes in the coroutine (see {@link #refusalHook}).
     * Called once, by {@code io.aioco.Coroutine}'s class initializer.
     *
     * @param hook given the refusing stack's coroutine
     */
    public static void onRefusal(java.util.function.Consumer<Object> hook) {
        refusalHook = hook;
    }

    /** Drops every saved frame (the coroutine terminated or a suspension was refused). */
    public void clear() {
        dropFrames();
        callee = null;
    }

    /** Drops the saved frames, the signal and the receiver ({@link #clear} and {@link #emptyForSpare}). */
    private void dropFrames() {
        if (refs != null) {
            Arrays.fill(refs, 0, refTop, null);
        }
        primTop = 0;
        refTop = 0;
        signal = 0;
        receiver = null;
    }

    // ---- errors ----

    /**
     * Called by an instrumented method whose callee suspended although its own caller is not
     * instrumented: the suspension cannot cross that frame. Drops the saved frames and returns the
     * error to throw, naming the frame that is not instrumented.
     *
     * @param method the instrumented method, as {@code Owner.name(desc)}
     * @return the exception to throw
     */
    public IllegalStateException crossedUninstrumented(String method) {
        clear();
        java.util.function.Consumer<Object> undo = refusalHook;
        if (undo != null && coroutine != null) {
            undo.accept(coroutine); // a wait registered below the refusing frame is dropped with it
        }
        Crossed crossed = crossedFrame();
        return new IllegalStateException("cannot suspend coroutine: " + method
                + " was called from " + crossed.frame()
                + ", which is not instrumented (reflection, a plain lambda or a class the aioco agent"
                + " did not transform); a suspension cannot cross it. " + crossed.advice());
    }

    /**
     * @param method the method that found the storage inconsistent
     * @return the error for a frame that cannot be resumed (a class changed under a suspended
     *     coroutine, or a bug)
     */
    public IllegalStateException corrupt(String method) {
        clear();
        return new IllegalStateException("corrupt coroutine frame in " + method
                + ": the saved state does not match the code being resumed");
    }

    /** The frame a refused suspension would cross, as the error names it, and what to do. */
    record Crossed(String frame, String advice) {}

    private static final String MAKE_CALLER = "Make the caller a @CoroutineFn, or do not suspend below it";

    /**
     * The frame a refused suspension would cross, with advice: the first frame above the reporting
     * method (and above its body, which has the same class, name and descriptor but for the stack
     * and signal parameters; an overload of the same name is another method), skipping aioco's
     * runtime (with {@code io.aioco.CoFrame}, through which every runtime coroutine function
     * reports, and {@code io.aioco.SpawnEntry}, a spawned coroutine's entry), the JDK's method-handle and reflection machinery and its lambda proxies, but not
     * hidden classes of the application (a frame that was not rewritten may be one). When the frame
     * above the skipped machinery is instrumented (a rewritten body) or aioco's own
     * ({@code Coroutine.enter}), the machinery is what was crossed: a method handle, or a lambda
     * proxy whose interface method is no coroutine function or that was made at run time by
     * {@code LambdaMetafactory}; the error names it and where it was invoked. When plain frames
     * lie between the named one and the nearest instrumented caller, they are listed too. Only on
     * the error path. NOTE: JDK 25 answers {@code getDescriptor()} only with RETAIN_CLASS_REFERENCE.
     */
    static Crossed crossedFrame() {
        return StackWalker.getInstance(java.util.Set.of(
                        StackWalker.Option.SHOW_HIDDEN_FRAMES, StackWalker.Option.RETAIN_CLASS_REFERENCE))
                .walk(s -> {
                    java.util.Iterator<StackWalker.StackFrame> frames = s
                            .filter(f -> !f.getClassName().startsWith("io.aioco.internal.")
                                    && !f.getClassName().equals(PublicNames.CO_FRAME)
                                    && !f.getClassName().equals(PublicNames.SPAWN_ENTRY))
                            .iterator();
                    if (!frames.hasNext()) {
                        return new Crossed("an unknown frame", MAKE_CALLER);
                    }
                    StackWalker.StackFrame reporter = frames.next();
                    String reported = originalDescriptor(reporter.getDescriptor());
                    StackWalker.StackFrame proxy = null;
                    boolean handle = false;
                    while (frames.hasNext()) {
                        StackWalker.StackFrame next = frames.next();
                        boolean sameMethod = next.getClassName().equals(reporter.getClassName())
                                && next.getMethodName().equals(reporter.getMethodName())
                                && originalDescriptor(next.getDescriptor()).equals(reported);
                        if (sameMethod) {
                            continue;
                        }
                        if (isMachinery(next)) {
                            if (next.getClassName().contains("$$Lambda")) {
                                proxy = proxy == null ? next : proxy;
                            } else if (next.getClassName().startsWith("java.lang.invoke.")) {
                                handle = true;
                            }
                            continue;
                        }
                        boolean instrumented = isRewritten(next) || next.getClassName().startsWith("io.aioco.");
                        if (instrumented && proxy != null) {
                            return new Crossed(describeProxy(proxy) + ", invoked at " + describe(next),
                                    "A lambda proxy forwards a suspension only when its interface method is a"
                                            + " @CoroutineFn and the lambda or method reference is in a class the"
                                            + " aioco agent transforms (not made with LambdaMetafactory at run"
                                            + " time); use such an interface, or do not suspend below it");
                        }
                        if (instrumented && handle) {
                            return new Crossed("a method handle (java.lang.invoke), invoked at " + describe(next),
                                    "Call the function directly from a @CoroutineFn (not through a"
                                            + " MethodHandle), or do not suspend below it");
                        }
                        return new Crossed(describe(next) + plainChain(frames), MAKE_CALLER);
                    }
                    return new Crossed("an unknown frame", MAKE_CALLER);
                });
    }

    /**
     * @return the plain frames above the named one up to the nearest instrumented caller, as
     *     {@code " (itself called from A, called from B, ...)"}; empty when there are none, or
     *     when no instrumented caller is found within a few frames
     */
    private static String plainChain(java.util.Iterator<StackWalker.StackFrame> frames) {
        StringBuilder chain = new StringBuilder();
        for (int count = 0; frames.hasNext() && count < 8; ) {
            StackWalker.StackFrame next = frames.next();
            if (isRewritten(next)) {
                return chain.length() == 0 ? "" : " (itself called from " + chain + ")";
            }
            if (!isMachinery(next)) {
                chain.append(count++ == 0 ? "" : ", called from ").append(describe(next));
            }
        }
        return "";
    }

    private static String describe(StackWalker.StackFrame f) {
        return f.getClassName() + "." + f.getMethodName() + "("
                + (f.getFileName() == null ? "Unknown Source" : f.getFileName() + ":" + f.getLineNumber()) + ")";
    }

    private static String describeProxy(StackWalker.StackFrame f) {
        StringBuilder interfaces = new StringBuilder();
        for (Class<?> face : f.getDeclaringClass().getInterfaces()) {
            interfaces.append(interfaces.length() == 0 ? "" : ", ").append(face.getName());
        }
        return "the lambda proxy " + f.getClassName() + "." + f.getMethodName() + " of " + interfaces;
    }

    /** @return whether a frame is a body of a rewritten coroutine function (stack parameter in its descriptor) */
    private static boolean isRewritten(StackWalker.StackFrame frame) {
        String descriptor = frame.getDescriptor();
        return !originalDescriptor(descriptor).equals(descriptor);
    }

    /** @return a method descriptor without the stack (and signal) parameters a body adds */
    private static String originalDescriptor(String descriptor) {
        for (String added : new String[] {"Lio/aioco/internal/CoStack;I)", "Lio/aioco/internal/CoStack;)"}) {
            int at = descriptor.indexOf(added);
            if (at >= 0) {
                return descriptor.substring(0, at) + ")" + descriptor.substring(at + added.length());
            }
        }
        return descriptor;
    }

    /** @return whether a frame is the JDK's call machinery, which only forwards (never the frame to name) */
    private static boolean isMachinery(StackWalker.StackFrame frame) {
        String name = frame.getClassName();
        return name.startsWith("java.lang.invoke.") || name.startsWith("jdk.internal.reflect.")
                || name.contains("$$Lambda");
    }
}
