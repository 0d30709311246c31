package io.aioco;

import java.lang.management.ManagementFactory;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.ImmutableDescriptor;
import javax.management.JMException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanServer;
import javax.management.MBeanParameterInfo;
import javax.management.ObjectName;
import javax.management.ReflectionException;

/**
 * The MBean {@code io.aioco:type=Coroutines}: its operation {@code dump()} returns the text of
 * {@link Coroutine#dump(Appendable)}. Registered in the platform MBean server when a context is
 * created while none is open, and unregistered when the last open context closes (as the stall
 * watcher ends then), so that the platform MBean server keeps nothing of a runtime whose contexts
 * are all closed: an application server's redeploy can collect its class loader. The first
 * registration of this copy of the runtime is made by a daemon thread of its own named {@code
 * aioco-jmx-registrar}, which starts the platform MBean server (tens of ms the first time in the
 * process), so that the first context does not wait for it; once that thread has the server, later
 * registrations (a context created after the last one closed) are made at once by the thread
 * creating the context: a create/close cycle of a lone context starts no thread for the MBean (rv17c
 * #7: a thread per cycle cost about 1 ms of a 1.4 ms cycle). No JMX call is made holding a lock
 * (rv12: the MBean server runs notification listeners on the registering thread, and one may take
 * the dump): the locks record what is wanted, and one thread at a time ({@link #reconcile()})
 * registers or unregisters until the MBean is registered exactly while a context is open; a thread
 * that finds another doing it leaves the job to it. The system property {@code
 * aioco.jmx=false} prevents it, so that JConsole, VisualVM or {@code jcmd}-like tools can ask a
 * running program for its coroutines.
 *
 * <p>The name is one per process: when another class loader's aioco holds it, this one's
 * registration goes under a second name (below), and this one never unregisters the other's (the
 * instance registered carries a token of its own in its {@link MBeanInfo}'s descriptor, checked
 * before unregistering). A registrar still starting the MBean server when the last context closes
 * registers nothing: it registers only while a context is open ({@link #wanted}, under {@link
 * #LOCK}); one still starting it when a context opens again registers for that one (no second
 * thread is started).
 *
 * <p>{@code dump()} lists the first {@value #LIMIT} coroutines (ordered running, scheduled,
 * suspended, then by name) and counts the others on a last line {@code ... N more coroutines: use
 * `java -jar aioco-agent.jar dump PID` for all}: JMX returns the dump as one String, built whole in
 * the target, and 100k coroutines (some 30 MB of text) could exhaust its heap; {@code dump PID}
 * streams the whole dump to a file instead. When another copy of aioco (another class loader)
 * holds {@link #NAME}, this copy registers under {@code io.aioco:type=Coroutines,loader=...} (its
 * class loader's name, class and identity, quoted), so that each copy's coroutines can be asked for.
 *
 * <p>Internal (a dynamic MBean: no public interface). No QEMU counterpart (QEMU's monitor
 * commands). The MBean server calls it from any thread; {@link #opened()} and {@link #closed()}
 * from any thread.
 */
final class CoroutinesMBean implements DynamicMBean {
    /** The MBean's name. */
    static final String NAME = "io.aioco:type=Coroutines";
    /**
     * The daemon thread that makes the first registration (a tool that needs the MBean at once may
     * join it; when none runs, the registration is done).
     */
    static final String REGISTRAR = "aioco-jmx-registrar";
    /** The descriptor field of {@link #getMBeanInfo()} that holds {@link #token}. */
    static final String TOKEN_FIELD = "aiocoInstance";

    /** How many coroutines {@code dump()} shows in full. */
    static final int LIMIT = 1000;

    /** {@link #LIMIT}, lowered by tests. */
    static int limit = LIMIT;

    /**
     * Guards the fields below. Never held across a call into JMX (registerMBean, unregisterMBean,
     * getMBeanInfo): the MBean server tells its notification listeners of a registration on the
     * registering thread, and a listener may take the dump (which needs CoroutineDump's lock, held
     * by a context's creation or last close while it takes this one) or have another thread take it.
     */
    private static final Object LOCK = new Object();
    /** Whether a context is open ({@link #wantOpen()} since the last {@link #wantClosed()}): the MBean is wanted. */
    private static boolean wanted;
    /**
     * Counts {@link #wantOpen()}: a registration that failed is not tried again for the same opening
     * ({@link #failedOpening}), only for the next one.
     */
    private static int openings;
    /** The value of {@link #openings} whose registration failed, else -1. */
    private static int failedOpening = -1;
    /** Whether a thread is in {@link #reconcile()}'s loop: at most one at a time makes JMX calls. */
    private static boolean reconciling;
    /**
     * The platform MBean server once this copy's registrar has it (then registrations are made at
     * once, on the opening thread), else null. Holds nothing of this copy's.
     */
    private static MBeanServer server;
    /** The registrar thread while it runs, else null: at most one at a time. */
    private static Thread registrar;
    /** The instance this class loader registered and has not unregistered, or null. */
    private static CoroutinesMBean registered;
    /** The name {@link #registered} is registered under. */
    private static ObjectName registeredName;
    private static int tokens;
    /** Test hook, else null: run by the registrar thread once the MBean server is there, before it registers. */
    static volatile Runnable beforeRegister;

    /** Tells this instance from another class loader's under the same name. */
    private final String token;
    /** Its description, built once (the MBean server asks for it at each registration and unregistration). */
    private final MBeanInfo info;

    private CoroutinesMBean(String token) {
        this.token = token;
        MBeanOperationInfo dump = new MBeanOperationInfo("dump",
                "The coroutine dump: contexts, live coroutines, what each waits on, their stacks, deadlocks (the first "
                        + LIMIT + " coroutines; java -jar aioco-agent.jar dump PID lists all)",
                new MBeanParameterInfo[0], "java.lang.String", MBeanOperationInfo.INFO);
        this.info = new MBeanInfo(CoroutinesMBean.class.getName(), "aioco coroutines", null, null,
                new MBeanOperationInfo[] {dump}, null, new ImmutableDescriptor(TOKEN_FIELD + "=" + token));
    }

    /**
     * A context opened while none was open: registers the MBean (unless {@code aioco.jmx=false}):
     * at once if this copy's registrar got the MBean server before and no other thread is
     * (un)registering, else on the thread {@link #REGISTRAR} (started unless it runs already) or on
     * the thread that is (un)registering. {@link #wantOpen()} then {@link #reconcile()}. Any thread
     * holding no lock a dump needs.
     *
     * @return the registrar thread that will register it, or null when it has the server already
     *     (or JMX is off)
     */
    static Thread opened() {
        if (System.getProperty("aioco.jmx", "true").equals("false")) {
            return null;
        }
        Thread t = wantOpen();
        reconcile();
        return t;
    }

    /**
     * Records that a context is open (the MBean is wanted) and starts the registrar thread if this
     * copy has no MBean server yet and none runs; makes no JMX call, so that it may be called under
     * CoroutineDump's lock: the caller then calls {@link #reconcile()} once it holds no lock. Any thread.
     *
     * @return the registrar thread that will register the MBean, or null when this copy has the server
     */
    static Thread wantOpen() {
        synchronized (LOCK) {
            wanted = true;
            openings++;
            if (server != null) {
                return null;
            }
            if (registrar == null) {
                Thread t = new Thread(CoroutinesMBean::startServerAndRegister, REGISTRAR);
                t.setDaemon(true);
                t.start(); // NOTE: it reads the fields under LOCK, held here until registrar is set
                registrar = t;
            }
            return registrar;
        }
    }

    /**
     * Records that the last open context closed (the MBean is not wanted; a registrar still starting
     * the server registers nothing); makes no JMX call: the caller then calls {@link #reconcile()}
     * once it holds no lock. Any thread.
     */
    static void wantClosed() {
        synchronized (LOCK) {
            wanted = false;
        }
    }

    /**
     * The registrar thread: starts the platform MBean server (slow the first time: outside the
     * lock), then registers the MBean if a context is open by then ({@link #reconcile()}); a failure
     * (no java.management) is ignored, and the next opening tries again with a new thread.
     */
    private static void startServerAndRegister() {
        try {
            MBeanServer s = ManagementFactory.getPlatformMBeanServer();
            Runnable hook = beforeRegister;
            if (hook != null) {
                hook.run();
            }
            synchronized (LOCK) {
                server = s;
            }
            reconcile(); // NOTE: registers nothing if the last context closed meanwhile
        } catch (RuntimeException | LinkageError e) {
            // NOTE: JMX is absent: dumps still work through Coroutine.dump and the agent
        } finally {
            synchronized (LOCK) {
                if (registrar == Thread.currentThread()) {
                    registrar = null;
                }
            }
        }
    }

    /**
     * Makes the MBean registered exactly while a context is open ({@link #wanted}): unless another
     * thread does it already (then that thread sees the change: it loops until what is wanted and
     * what is registered agree, and looks again after it cleared {@link #reconciling}), or this copy
     * has no MBean server yet (then the registrar does it). The JMX calls are made holding no lock,
     * and a thread never waits for another's JMX call. Any thread holding no lock a dump needs.
     */
    static void reconcile() {
        for (;;) {
            MBeanServer s;
            synchronized (LOCK) {
                if (reconciling || server == null || !differsLocked()) {
                    return;
                }
                reconciling = true;
                s = server;
            }
            try {
                reconcileWith(s);
            } finally {
                synchronized (LOCK) {
                    reconciling = false;
                }
            }
            // NOTE: loops: a change made between the last look and the flag's clearing was left to us
        }
    }

    /** Under {@link #LOCK}: whether what is registered differs from what is wanted (and may be fixed). */
    private static boolean differsLocked() {
        return wanted ? registered == null && failedOpening != openings : registered != null;
    }

    /** {@link #reconcile()}'s loop, by the thread that set {@link #reconciling}. */
    private static void reconcileWith(MBeanServer s) {
        for (;;) {
            CoroutinesMBean bean;
            ObjectName name;
            int opening;
            synchronized (LOCK) {
                if (!differsLocked()) {
                    return;
                }
                bean = registered;
                name = registeredName;
                opening = openings;
            }
            if (bean == null) {
                CoroutinesMBean made = new CoroutinesMBean(Integer.toHexString(System.identityHashCode(LOCK)) + "-"
                        + nextToken() + "-" + System.nanoTime());
                ObjectName at = register(s, made);
                synchronized (LOCK) {
                    if (at == null) {
                        failedOpening = opening;
                    } else {
                        registered = made;
                        registeredName = at;
                    }
                }
            } else {
                unregister(s, bean, name);
                synchronized (LOCK) {
                    registered = null;
                    registeredName = null;
                }
            }
        }
    }

    private static int nextToken() {
        synchronized (LOCK) {
            return ++tokens;
        }
    }

    /**
     * Registers {@code bean} (no lock held); a failure (a name taken by another copy of aioco, and
     * its loader's key too) is ignored.
     *
     * @return the name it is registered under, or null if it is not
     */
    private static ObjectName register(MBeanServer s, CoroutinesMBean bean) {
        try {
            ObjectName name = new ObjectName(NAME);
            if (s.isRegistered(name)) { // another copy of aioco holds the name
                name = new ObjectName(NAME + ",loader=" + ObjectName.quote(loaderName()));
            }
            try {
                s.registerMBean(bean, name);
            } catch (javax.management.InstanceAlreadyExistsException e) {
                // NOTE: another copy's registrar took the name between the check and here (the
                // copies' locks are not shared): this copy goes under its loader's key
                name = new ObjectName(NAME + ",loader=" + ObjectName.quote(loaderName()));
                s.registerMBean(bean, name);
            }
            return name;
        } catch (JMException | RuntimeException e) {
            // NOTE: this loader's name is taken too: dumps still work through Coroutine.dump and the agent
            return null;
        }
    }

    /**
     * Unregisters the instance this class loader registered (no lock held), if it is still the one
     * under the name: another class loader's instance is never unregistered (the token check).
     */
    private static void unregister(MBeanServer s, CoroutinesMBean bean, ObjectName name) {
        try {
            if (bean.token.equals(s.getMBeanInfo(name).getDescriptor().getFieldValue(TOKEN_FIELD))) {
                s.unregisterMBean(name);
            }
        } catch (JMException | RuntimeException e) {
            // NOTE: unregistered by someone else already: nothing of ours is left there
        }
    }

    /**
     * The last open context closed: unregisters the instance this class loader registered (unless
     * another thread is (un)registering: then that thread does), if it is still the one under the
     * name, and makes a registrar still starting the server register nothing. {@link #wantClosed()}
     * then {@link #reconcile()}. Any thread holding no lock a dump needs.
     */
    static void closed() {
        wantClosed();
        reconcile();
    }

    /** Tests: whether this class loader's instance is registered now. */
    static boolean registeredForTest() {
        synchronized (LOCK) {
            return registered != null;
        }
    }

    /** Tests: registers now, on the calling thread, if a context is open (as the registrar would). */
    static void registerNow() {
        MBeanServer s = ManagementFactory.getPlatformMBeanServer();
        synchronized (LOCK) {
            server = s;
        }
        reconcile();
    }

    /** @return the class loader of this copy of the runtime, as its MBean's key names it */
    private static String loaderName() {
        ClassLoader loader = CoroutinesMBean.class.getClassLoader();
        if (loader == null) {
            return "bootstrap";
        }
        String id = loader.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(loader));
        return loader.getName() == null ? id : loader.getName() + " " + id;
    }

    @Override
    public Object getAttribute(String attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException(attribute);
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException(attribute.getName());
    }

    @Override
    public AttributeList getAttributes(String[] attributes) {
        return new AttributeList();
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String actionName, Object[] params, String[] signature) throws ReflectionException {
        if (actionName.equals("dump") && (params == null || params.length == 0)) {
            return CoroutineDump.text(limit);
        }
        throw new ReflectionException(new NoSuchMethodException(actionName), "no operation " + actionName
                + " on " + NAME + " (it has dump())");
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return info;
    }
}
