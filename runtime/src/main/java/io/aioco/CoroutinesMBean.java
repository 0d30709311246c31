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
 * created while none is open, by a daemon thread of its own named {@code aioco-jmx-registrar} (the
 * MBean server's start takes tens of ms), and unregistered when the last open context closes (as the
 * stall watcher ends then), so that the platform MBean server keeps nothing of a runtime whose
 * contexts are all closed: an application server's redeploy can collect its class loader. The
 * system property {@code aioco.jmx=false} prevents it, so that JConsole, VisualVM or {@code
 * jcmd}-like tools can ask a running program for its coroutines.
 *
 * <p>The name is one per process: when another class loader's aioco holds it, this one's
 * registration goes under a second name (below), and this one never unregisters the other's (the instance registered carries a token of its own in
 * its {@link MBeanInfo}'s descriptor, checked before unregistering). A registrar still starting the
 * MBean server when the last context closes registers nothing: each opening and each closing takes
 * a new generation, and a registrar registers only while its own is current (under {@link #LOCK}).
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
    /** The daemon thread that registers it (a tool that needs it at once may join this thread). */
    static final String REGISTRAR = "aioco-jmx-registrar";
    /** The descriptor field of {@link #getMBeanInfo()} that holds {@link #token}. */
    static final String TOKEN_FIELD = "aiocoInstance";

    /** How many coroutines {@code dump()} shows in full. */
    static final int LIMIT = 1000;

    /** {@link #LIMIT}, lowered by tests. */
    static int limit = LIMIT;

    /** Guards {@link #generation} and {@link #registered}; held across a (un)registration. */
    private static final Object LOCK = new Object();
    /** Bumped by each {@link #opened()} and {@link #closed()}: a registrar of an older one gives up. */
    private static int generation;
    /** The instance this class loader registered and has not unregistered, or null. */
    private static CoroutinesMBean registered;
    /** The name {@link #registered} is registered under. */
    private static ObjectName registeredName;
    private static int tokens;
    /** Test hook, else null: run by the registrar once the MBean server is there, before it registers. */
    static volatile Runnable beforeRegister;

    /** Tells this instance from another class loader's under the same name. */
    private final String token;

    private CoroutinesMBean(String token) {
        this.token = token;
    }

    /**
     * A context opened while none was open: registers the MBean on the thread {@link #REGISTRAR}
     * (unless {@code aioco.jmx=false}). Any thread.
     *
     * @return the registrar thread, or null when JMX is off
     */
    static Thread opened() {
        if (System.getProperty("aioco.jmx", "true").equals("false")) {
            return null;
        }
        int mine;
        synchronized (LOCK) {
            mine = ++generation;
        }
        Thread registrar = new Thread(() -> register(mine), REGISTRAR);
        registrar.setDaemon(true);
        registrar.start();
        return registrar;
    }

    /**
     * Registers it for generation {@code mine}, unless a context closing made it old meanwhile; a
     * failure (no java.management, a name taken by another copy of aioco) is ignored.
     */
    private static void register(int mine) {
        try {
            ObjectName name = new ObjectName(NAME);
            MBeanServer server = ManagementFactory.getPlatformMBeanServer(); // NOTE: slow the first time: outside the lock
            Runnable hook = beforeRegister;
            if (hook != null) {
                hook.run();
            }
            synchronized (LOCK) {
                if (mine != generation || registered != null) {
                    return; // NOTE: the last context closed meanwhile
                }
                if (server.isRegistered(name)) { // another copy of aioco holds the name
                    name = new ObjectName(NAME + ",loader=" + ObjectName.quote(loaderName()));
                }
                CoroutinesMBean bean = new CoroutinesMBean(Integer.toHexString(System.identityHashCode(LOCK)) + "-"
                        + ++tokens + "-" + System.nanoTime());
                try {
                    server.registerMBean(bean, name);
                } catch (javax.management.InstanceAlreadyExistsException e) {
                    // NOTE: another copy's registrar took the name between the check and here (the
                    // copies' locks are not shared): this copy goes under its loader's key
                    name = new ObjectName(NAME + ",loader=" + ObjectName.quote(loaderName()));
                    server.registerMBean(bean, name);
                }
                registered = bean;
                registeredName = name;
            }
        } catch (JMException | RuntimeException | LinkageError e) {
            // NOTE: JMX is absent, or this loader's name is taken too: dumps still work through
            // Coroutine.dump and the agent
        }
    }

    /**
     * The last open context closed: unregisters the instance this class loader registered, if it is
     * still the one under the name, and makes any registrar still running give up. Any thread.
     */
    static void closed() {
        synchronized (LOCK) {
            generation++;
            CoroutinesMBean bean = registered;
            ObjectName name = registeredName;
            registered = null;
            registeredName = null;
            if (bean == null) {
                return;
            }
            try {
                MBeanServer server = ManagementFactory.getPlatformMBeanServer();
                if (bean.token.equals(server.getMBeanInfo(name).getDescriptor().getFieldValue(TOKEN_FIELD))) {
                    server.unregisterMBean(name);
                }
            } catch (JMException | RuntimeException | LinkageError e) {
                // NOTE: unregistered by someone else already: nothing of ours is left there
            }
        }
    }

    /** Tests: whether this class loader's instance is registered now. */
    static boolean registeredForTest() {
        synchronized (LOCK) {
            return registered != null;
        }
    }

    /** Tests: registers now, on the calling thread, for the current generation (as a registrar would). */
    static void registerNow() {
        int mine;
        synchronized (LOCK) {
            mine = generation;
        }
        register(mine);
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
        MBeanOperationInfo dump = new MBeanOperationInfo("dump",
                "The coroutine dump: contexts, live coroutines, what each waits on, their stacks, deadlocks (the first "
                        + LIMIT + " coroutines; java -jar aioco-agent.jar dump PID lists all)",
                new MBeanParameterInfo[0], "java.lang.String", MBeanOperationInfo.INFO);
        return new MBeanInfo(CoroutinesMBean.class.getName(), "aioco coroutines", null, null,
                new MBeanOperationInfo[] {dump}, null, new ImmutableDescriptor(TOKEN_FIELD + "=" + token));
    }
}
