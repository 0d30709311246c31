package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12b, item 1: the CoroutinesMBean reconciler (67333c3). Each runtime is a class loader of
 * its own ({@link OwnRuntime}); the final state is checked after every thread is joined (the
 * reconciler is always one of the joined threads, or a registrar thread, joined too).
 */
@Timeout(120)
class CoroutinesMBeanReconcileTest {
    private static final int THREADS = 3;
    private static final int CYCLES = 3000;

    /** Opens and closes contexts from THREADS threads at once; {@code keep} contexts stay open at the end. */
    private static void stress(OwnRuntime rt, int keep, List<AutoCloseable> kept) throws Exception {
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        CyclicBarrier start = new CyclicBarrier(THREADS);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int id = t;
            Thread thread = new Thread(() -> {
                try {
                    start.await();
                    for (int i = 0; i < CYCLES; i++) {
                        AutoCloseable a = rt.create();
                        if ((i + id) % 3 == 0) {
                            AutoCloseable b = rt.create();
                            a.close();
                            b.close();
                        } else {
                            a.close();
                        }
                    }
                    if (id < keep) {
                        kept.add(rt.create());
                    }
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "rv12b-mbean-" + t);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        OwnRuntime.joinRegistrars();
        assertEquals(List.of(), failures);
    }

    /** Exact final state: no context open, nothing registered (neither the server's name nor the runtime's record). */
    @Test
    void contextsOpenedAndClosedFromManyThreadsEndUnregistered() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                for (int round = 0; round < 3; round++) {
                    stress(rt, 0, new CopyOnWriteArrayList<>());
                    assertFalse(OwnRuntime.nameRegistered(), "round " + round + ": no context open, name registered");
                    assertFalse(rt.registered(), "round " + round + ": no context open, recorded as registered");
                }
            }
        });
    }

    /** Exact final state: contexts left open, the MBean registered, once. */
    @Test
    void contextsOpenedAndClosedFromManyThreadsWithSomeLeftOpenEndRegistered() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                List<AutoCloseable> kept = new CopyOnWriteArrayList<>();
                stress(rt, 2, kept);
                assertEquals(2, kept.size());
                assertTrue(OwnRuntime.nameRegistered(), "two contexts open: the MBean must be registered");
                assertTrue(rt.registered());
                assertEquals(1, OwnRuntime.server().queryNames(new ObjectName(OwnRuntime.NAME + ",*"), null).size());
                for (AutoCloseable c : kept) {
                    c.close();
                }
                assertFalse(OwnRuntime.nameRegistered(), "the last close unregisters");
                assertFalse(rt.registered());
            }
        });
    }

    private static NotificationListener on(String type, Runnable action) {
        return (Notification n, Object handback) -> {
            if (n instanceof MBeanServerNotification m && type.equals(m.getType())
                    && m.getMBeanName().getDomain().equals("io.aioco")) {
                action.run();
            }
        };
    }

    /**
     * A registration listener closes the context on the registering thread (re-entering the runtime
     * while that thread reconciles): the registration finishes, then the reconciler sees the close
     * and unregisters. An unregistration listener opens a context again: the reconciler registers.
     */
    @Test
    void listenersReenteringOnTheReconcilingThreadLeaveTheWantedState() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                rt.create().close(); // gives this runtime its MBean server: later cycles register inline
                OwnRuntime.joinRegistrars();
                assertFalse(OwnRuntime.nameRegistered());
                ObjectName delegate = MBeanServerDelegate.DELEGATE_NAME;
                java.lang.reflect.Method contexts = Class.forName("io.aioco.CoroutineDump", true, rt.loader)
                        .getDeclaredMethod("contexts");
                contexts.setAccessible(true);
                AtomicReference<Object> closedByListener = new AtomicReference<>();
                List<Throwable> failures = new CopyOnWriteArrayList<>();
                NotificationListener closer = on(MBeanServerNotification.REGISTRATION_NOTIFICATION, () -> {
                    try {
                        for (Object c : (List<?>) contexts.invoke(null)) { // the context being created
                            closedByListener.set(c);
                            ((AutoCloseable) c).close();
                        }
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
                OwnRuntime.server().addNotificationListener(delegate, closer, null, null);
                AutoCloseable created;
                try {
                    created = rt.create(); // registers; the listener closes it meanwhile
                    OwnRuntime.joinRegistrars();
                } finally {
                    OwnRuntime.server().removeNotificationListener(delegate, closer);
                }
                assertEquals(List.of(), failures);
                assertTrue(closedByListener.get() == created, "the listener closed the context being created");
                assertFalse(OwnRuntime.nameRegistered(), "the context closed during its registration: unregistered");
                assertFalse(rt.registered());

                AutoCloseable open = rt.create();
                assertTrue(OwnRuntime.nameRegistered());
                List<AutoCloseable> reopened = new CopyOnWriteArrayList<>();
                NotificationListener opener = on(MBeanServerNotification.UNREGISTRATION_NOTIFICATION, () -> {
                    try {
                        if (reopened.isEmpty()) {
                            reopened.add(rt.create());
                        }
                    } catch (Exception e) {
                        failures.add(e);
                    }
                });
                OwnRuntime.server().addNotificationListener(delegate, opener, null, null);
                try {
                    open.close(); // unregisters; the listener opens a context meanwhile
                } finally {
                    OwnRuntime.server().removeNotificationListener(delegate, opener);
                }
                assertEquals(List.of(), failures);
                assertEquals(1, reopened.size());
                assertTrue(OwnRuntime.nameRegistered(), "a context opened during the unregistration: registered again");
                assertTrue(rt.registered());
                reopened.get(0).close();
                assertFalse(OwnRuntime.nameRegistered());
            }
        });
    }

    /** A stand-in for another copy's MBean. */
    private static Object dummy() throws Exception {
        return new javax.management.StandardMBean((Runnable) () -> { }, Runnable.class);
    }

    /**
     * A registration that fails (the name and this loader's key are both taken) is not retried for
     * the same opening, is retried by the next one, and the MBean this runtime then registers goes
     * with its last context, leaving the other instances alone.
     */
    @Test
    void aFailedRegistrationIsRetriedByTheNextOpeningOnly() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                ClassLoader l = rt.loader;
                String key = l.getClass().getName() + "@" + Integer.toHexString(System.identityHashCode(l));
                ObjectName plain = new ObjectName(OwnRuntime.NAME);
                ObjectName keyed = new ObjectName(OwnRuntime.NAME + ",loader=" + ObjectName.quote(key));
                OwnRuntime.server().registerMBean(dummy(), plain);
                OwnRuntime.server().registerMBean(dummy(), keyed);
                try {
                    AutoCloseable first = rt.create();
                    OwnRuntime.joinRegistrars();
                    assertFalse(rt.registered(), "both names taken: not registered");
                    OwnRuntime.server().unregisterMBean(keyed);
                    AutoCloseable second = rt.create(); // not the first opening: no retry
                    assertFalse(rt.registered());
                    assertFalse(OwnRuntime.server().isRegistered(keyed));
                    first.close();
                    second.close();
                    assertFalse(OwnRuntime.server().isRegistered(keyed));
                    AutoCloseable third = rt.create(); // the next opening retries, under the loader's key
                    OwnRuntime.joinRegistrars();
                    assertTrue(rt.registered());
                    assertTrue(OwnRuntime.server().isRegistered(keyed));
                    assertEquals("aioco coroutines", OwnRuntime.server().getMBeanInfo(keyed).getDescription());
                    third.close();
                    assertFalse(rt.registered());
                    assertFalse(OwnRuntime.server().isRegistered(keyed));
                    assertTrue(OwnRuntime.server().isRegistered(plain), "the other instance is left alone");
                } finally {
                    if (OwnRuntime.server().isRegistered(keyed)) {
                        OwnRuntime.server().unregisterMBean(keyed);
                    }
                    OwnRuntime.server().unregisterMBean(plain);
                }
            }
        });
    }
}
