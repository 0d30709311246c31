package io.aioco;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The MBean {@code io.aioco:type=Coroutines} lives as long as a context is open (issue 17, redeploy
 * leak): registered when a context opens while none is, unregistered when the last one closes, never
 * the instance of another class loader's aioco, and never registered late by a registrar that the
 * last context's close overtook. Each runtime here is a class loader of its own ({@link OwnRuntime}),
 * as a webapp's copy is; the orderings are forced with latches, not timing.
 */
@Timeout(60)
class CoroutinesMBeanLifecycleTest {

    @Test
    void unregisteredWithTheLastContextAndRegisteredAgainWithTheNext() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                for (int round = 0; round < 2; round++) {
                    AutoCloseable first = rt.create();
                    AutoCloseable second = rt.create();
                    OwnRuntime.joinRegistrars();
                    assertTrue(rt.registered(), "round " + round + ": a context is open: registered");
                    assertTrue(OwnRuntime.nameRegistered());
                    first.close();
                    assertTrue(OwnRuntime.nameRegistered(), "round " + round + ": one context is still open");
                    second.close();
                    assertFalse(OwnRuntime.nameRegistered(), "round " + round + ": the last context closed");
                    assertFalse(rt.registered());
                }
            }
        });
    }

    /**
     * Review rv17c, finding 7: each time the first context opened after the last one closed, a new
     * registrar thread was started (and the MBean registered through it): a create/close cycle of a
     * lone context cost about 1.4 ms against 0.45 ms without JMX. Now one registrar thread starts
     * the MBean server, once; later cycles register on the opening thread, so the MBean is there as
     * soon as the context is, and is still unregistered with the last context. The registrar threads
     * are counted by the hook each one runs before it registers.
     */
    @Test
    void createCloseCyclesStartOneRegistrarThreadInAll() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                java.util.Set<Thread> registrars = java.util.concurrent.ConcurrentHashMap.newKeySet();
                rt.beforeRegister(() -> registrars.add(Thread.currentThread()));
                for (int round = 0; round < 5; round++) {
                    AutoCloseable ctx = rt.create();
                    try {
                        if (round == 0) {
                            OwnRuntime.joinRegistrars(); // the first registration: on the registrar thread
                        }
                        assertTrue(rt.registered(), "round " + round + ": a context is open: registered");
                        assertTrue(OwnRuntime.nameRegistered(), "round " + round);
                    } finally {
                        ctx.close();
                    }
                    assertFalse(OwnRuntime.nameRegistered(), "round " + round + ": the last context closed");
                    assertFalse(rt.registered());
                }
                OwnRuntime.joinRegistrars();
                assertEquals(1, registrars.size(), "registrar threads started by 5 create/close cycles: "
                        + registrars);
                assertEquals(CoroutinesMBean.REGISTRAR, registrars.iterator().next().getName());
            }
        });
    }

    @Test
    void aRegistrarStillStartingTheServerRegistersForTheContextOpenedAgain() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                CountDownLatch reached = new CountDownLatch(1);
                CountDownLatch go = new CountDownLatch(1);
                java.util.Set<Thread> registrars = java.util.concurrent.ConcurrentHashMap.newKeySet();
                rt.beforeRegister(() -> {
                    registrars.add(Thread.currentThread());
                    reached.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                AutoCloseable first = rt.create();
                reached.await(); // the registrar is still "starting the server"
                first.close();
                AutoCloseable second = rt.create(); // opened again before it is done
                try {
                    assertFalse(OwnRuntime.nameRegistered(), "not yet: the registrar has not registered");
                    go.countDown();
                    OwnRuntime.joinRegistrars();
                    assertTrue(OwnRuntime.nameRegistered(), "the registrar registered for the context opened again");
                    assertEquals(1, registrars.size(), "one registrar thread: " + registrars);
                } finally {
                    go.countDown();
                    second.close();
                    OwnRuntime.joinRegistrars();
                }
                assertFalse(OwnRuntime.nameRegistered());
            }
        });
    }

    @Test
    void aRegistrarOvertakenByTheLastCloseRegistersNothing() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                CountDownLatch reached = new CountDownLatch(1);
                CountDownLatch go = new CountDownLatch(1);
                Thread[] registrar = new Thread[1];
                rt.beforeRegister(() -> {
                    registrar[0] = Thread.currentThread();
                    reached.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                AutoCloseable ctx = rt.create();
                reached.await(); // the registrar has the MBean server and is about to register
                ctx.close(); // the last context closes first
                go.countDown();
                registrar[0].join();
                assertFalse(OwnRuntime.nameRegistered(), "registered after the last context closed: leaks the loader");
                assertFalse(rt.registered());

                rt.beforeRegister(null);
                AutoCloseable again = rt.create(); // a new generation registers as usual
                OwnRuntime.joinRegistrars();
                assertTrue(OwnRuntime.nameRegistered());
                again.close();
                assertFalse(OwnRuntime.nameRegistered());
            }
        });
    }

    @Test
    void anotherLoadersInstanceUnderTheNameIsNeverUnregistered() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime first = new OwnRuntime(); OwnRuntime second = new OwnRuntime()) {
                AutoCloseable a = first.create();
                OwnRuntime.joinRegistrars();
                assertTrue(first.registered());
                AutoCloseable b = second.create();
                OwnRuntime.joinRegistrars();
                assertTrue(second.registered(), "the name is taken by the first loader's: the second's registers"
                        + " under its loader's key");
                ObjectName all = new ObjectName(OwnRuntime.NAME + ",*");
                assertEquals(2, OwnRuntime.server().queryNames(all, null).size(), "one instance per loader");
                b.close();
                assertTrue(OwnRuntime.nameRegistered(), "the second loader's close left the first's alone");
                assertEquals(1, OwnRuntime.server().queryNames(all, null).size(), "the second's went with its context");

                // someone (a JMX console) unregisters the first's; the second loader's runtime takes the name
                OwnRuntime.server().unregisterMBean(new ObjectName(OwnRuntime.NAME));
                b = second.create();
                OwnRuntime.joinRegistrars();
                assertTrue(second.registered());
                a.close(); // the first still believes it holds the name: it must check before unregistering
                assertTrue(OwnRuntime.nameRegistered(), "the first loader unregistered the second's instance");
                assertEquals("aioco coroutines", OwnRuntime.server().getMBeanInfo(new ObjectName(OwnRuntime.NAME))
                        .getDescription());
                b.close();
                assertFalse(OwnRuntime.nameRegistered());
            }
        });
    }
}
