package io.aioco;

import java.lang.management.ManagementFactory;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.JMException;
import javax.management.MBeanInfo;
import javax.management.MBeanOperationInfo;
import javax.management.MBeanParameterInfo;
import javax.management.ObjectName;
import javax.management.ReflectionException;

/**
 * The MBean {@code io.aioco:type=Coroutines}: its operation {@code dump()} returns the text of
 * {@link Coroutine#dump(Appendable)}, its listing cut after the first {@value #LIMIT} coroutines
 * (ordered running, scheduled, suspended, then by name), the others counted on a last line {@code
 * ... N more coroutines: use `java -jar aioco-agent.jar dump PID` for all}: JMX returns the dump
 * as one String, built whole in the target, and 100k coroutines (some 30 MB of text) could exhaust
 * its heap; {@code dump PID} streams the whole dump to a file instead. Registered in the platform MBean server when the first
 * {@link AioContext} is created, by a daemon thread of its own named {@code aioco-jmx-registrar}
 * (the MBean server's start takes tens of ms); the system property {@code aioco.jmx=false} prevents it, so
 * that JConsole, VisualVM or {@code jcmd}-like tools can ask a running program for its coroutines.
 * Internal (a dynamic MBean: no public interface). No QEMU counterpart (QEMU's monitor commands).
 * The MBean server calls it from any thread.
 */
final class CoroutinesMBean implements DynamicMBean {
    /** The MBean's name. */
    static final String NAME = "io.aioco:type=Coroutines";
    /** The daemon thread that registers it (a tool that needs it at once may join this thread). */
    static final String REGISTRAR = "aioco-jmx-registrar";

    /** How many coroutines {@code dump()} shows in full. */
    static final int LIMIT = 1000;

    /** {@link #LIMIT}, lowered by tests. */
    static int limit = LIMIT;

    private CoroutinesMBean() {}

    /** The name this copy of the runtime registered its MBean under, or null. Guarded by the class. */
    private static ObjectName registered;

    /**
     * Registers it once, under {@link #NAME}; when another copy of aioco (another class loader)
     * holds that name, under {@code io.aioco:type=Coroutines,loader=...} (its class loader's name,
     * class and identity, quoted), so that each copy's coroutines can be asked for. A failure (no
     * java.management) is ignored.
     */
    static synchronized void register() {
        if (System.getProperty("aioco.jmx", "true").equals("false") || registered != null) {
            return;
        }
        try {
            ObjectName name = new ObjectName(NAME);
            var server = ManagementFactory.getPlatformMBeanServer();
            if (server.isRegistered(name)) {
                name = new ObjectName(NAME + ",loader=" + ObjectName.quote(loaderName()));
            }
            server.registerMBean(new CoroutinesMBean(), name);
            registered = name;
        } catch (JMException | RuntimeException | LinkageError e) {
            // NOTE: JMX is absent, or this loader's name is taken too: dumps still work through
            // Coroutine.dump and the agent
        }
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
                new MBeanOperationInfo[] {dump}, null);
    }
}
