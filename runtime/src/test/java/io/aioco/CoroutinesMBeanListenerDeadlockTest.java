package io.aioco;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import javax.management.MBeanServerDelegate;
import javax.management.MBeanServerNotification;
import javax.management.Notification;
import javax.management.NotificationListener;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12 (session 12), item 3: a JMX notification listener on the platform MBean server's
 * delegate is told of the MBean's registration synchronously, on the thread that registers it. Since
 * 0c03b71 a registration after the first is made by the thread opening the context, inside
 * CoroutineDump.contextCreated: that thread holds the runtime's CONTEXTS lock (and
 * CoroutinesMBean.LOCK) while the listener runs. A listener that asks for the dump from another
 * thread (a monitoring tool's worker, a remote JMX connection's thread) and waits for it deadlocks:
 * the dump needs CONTEXTS. On the first registration (the registrar thread, LOCK only) the same
 * listener works. Deterministic: the listener watches the helper thread's state and its lock's owner
 * (ThreadMXBean) instead of waiting for ever; no sleeps, no times.
 */
@Timeout(60)
class CoroutinesMBeanListenerDeadlockTest {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    /** Whether {@code t} is blocked on a monitor owned by {@code owner}, spinning until it is or has ended. */
    private static boolean blockedBy(Thread t, Thread owner) {
        for (;;) {
            Thread.State s = t.getState();
            if (s == Thread.State.TERMINATED) {
                return false;
            }
            if (s == Thread.State.BLOCKED) {
                @SuppressWarnings("deprecation")
                ThreadInfo info = THREADS.getThreadInfo(t.getId());
                @SuppressWarnings("deprecation")
                long ownerId = owner.getId();
                if (info != null && info.getLockOwnerId() == ownerId) {
                    return true;
                }
            }
            Thread.onSpinWait();
        }
    }

    private static NotificationListener onRegistration(Runnable action) {
        return (Notification n, Object handback) -> {
            if (n instanceof MBeanServerNotification m
                    && MBeanServerNotification.REGISTRATION_NOTIFICATION.equals(m.getType())
                    && m.getMBeanName().getKeyPropertyList().get("type") != null
                    && m.getMBeanName().getDomain().equals("io.aioco")) {
                action.run();
            }
        };
    }

    /**
     * The second create/close cycle registers on the opening thread: a listener that has a dump taken
     * by another thread (and would wait for it) finds that thread blocked on a lock the opening
     * thread holds, i.e. a deadlock. Fails on int12 (0c03b71); holds on the code before it, where every
     * registration is made by a registrar thread that holds no lock the dump needs.
     */
    @Test
    void aListenerThatHasTheDumpTakenByAnotherThreadOnRegistrationDoesNotDeadlock() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                AutoCloseable first = rt.create(); // the first cycle gives the runtime its MBean server
                OwnRuntime.joinRegistrars();
                first.close();
                assertFalse(OwnRuntime.nameRegistered());

                AtomicReference<String> deadlock = new AtomicReference<>();
                AtomicReference<Object> dumped = new AtomicReference<>();
                CountDownLatch told = new CountDownLatch(1);
                NotificationListener listener = onRegistration(() -> {
                    Thread me = Thread.currentThread();
                    Thread helper = new Thread(() -> {
                        try {
                            dumped.set(OwnRuntime.server().invoke(new ObjectName(OwnRuntime.NAME), "dump", null, null));
                        } catch (Exception e) {
                            dumped.set(e);
                        }
                    }, "rv12-jmx-client");
                    helper.start();
                    if (blockedBy(helper, me)) {
                        // a listener joining the helper (Future.get) would wait here for ever
                        deadlock.set(me + " (delivering the registration notification) holds the lock that "
                                + helper + " needs for the dump");
                    }
                    told.countDown();
                });
                OwnRuntime.server().addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener, null, null);
                AutoCloseable second = null;
                try {
                    second = rt.create();
                    OwnRuntime.joinRegistrars();
                    told.await();
                } finally {
                    OwnRuntime.server().removeNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener);
                    if (second != null) {
                        second.close();
                    }
                }
                assertNull(deadlock.get(), deadlock.get());
                assertTrue(dumped.get() instanceof String, "the dump: " + dumped.get());
            }
        });
    }

    /**
     * The first registration, on the registrar thread, holds CoroutinesMBean.LOCK while the listener
     * runs; a listener that takes the dump itself (on that thread: the dump needs CONTEXTS) while the
     * last context closes on another thread (CONTEXTS, then LOCK in CoroutinesMBean.closed) is a lock
     * order inversion: both threads block for ever. Detected with ThreadMXBean.findDeadlockedThreads
     * (the two threads are daemons of a runtime loaded by a class loader of its own; nothing else
     * of the process waits for them).
     */
    @Test
    void aListenerThatTakesTheDumpWhileTheLastContextClosesDoesNotDeadlock() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                AtomicReference<Thread> closer = new AtomicReference<>();
                CountDownLatch inListener = new CountDownLatch(1);
                CountDownLatch closerStarted = new CountDownLatch(1);
                AtomicReference<Object> dumped = new AtomicReference<>();
                NotificationListener listener = onRegistration(() -> {
                    if (!Thread.currentThread().getName().equals(CoroutinesMBean.REGISTRAR)) {
                        return;
                    }
                    inListener.countDown();
                    try {
                        closerStarted.await();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                    // the closer holds CONTEXTS and waits for LOCK, held here: wait until it does
                    blockedBy(closer.get(), Thread.currentThread());
                    try {
                        dumped.set(OwnRuntime.server().invoke(new ObjectName(OwnRuntime.NAME), "dump", null, null));
                    } catch (Exception e) {
                        dumped.set(e);
                    }
                });
                OwnRuntime.server().addNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener, null, null);
                try {
                    AutoCloseable ctx = rt.create();
                    inListener.await(); // the registrar registers and tells the listener
                    Thread t = new Thread(() -> {
                        try {
                            ctx.close();
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                    }, "rv12-last-close");
                    t.setDaemon(true);
                    closer.set(t);
                    t.start();
                    closerStarted.countDown();
                    long[] deadlocked = null;
                    while (t.getState() != Thread.State.TERMINATED) {
                        deadlocked = THREADS.findDeadlockedThreads();
                        if (deadlocked != null) {
                            break;
                        }
                        Thread.onSpinWait();
                    }
                    if (deadlocked != null) {
                        // NOTE: the stuck registrar must not be joined by later tests (OwnRuntime.joinRegistrars)
                        for (Thread stuck : Thread.getAllStackTraces().keySet()) {
                            if (stuck.getName().equals(CoroutinesMBean.REGISTRAR)
                                    && stuck.getState() == Thread.State.BLOCKED) {
                                stuck.setName("rv12-deadlocked-registrar");
                            }
                        }
                    }
                    long[] found = deadlocked;
                    assertNull(found, () -> "deadlock between the registrar (LOCK, then CONTEXTS for the"
                            + " listener's dump) and the last close (CONTEXTS, then LOCK): "
                            + java.util.Arrays.toString(THREADS.getThreadInfo(found, true, true)));
                    OwnRuntime.joinRegistrars();
                    assertTrue(dumped.get() instanceof String, "the dump: " + dumped.get());
                    assertFalse(OwnRuntime.nameRegistered(), "the last context closed");
                } finally {
                    OwnRuntime.server().removeNotificationListener(MBeanServerDelegate.DELEGATE_NAME, listener);
                }
            }
        });
    }
}
