package io.aioco;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Review rv12b, item 1 (CoroutineDump.contextClosed; the property check predates int12b, the
 * reconciler of 67333c3 keeps it): the unregistration of the last close depends on the property
 * {@code aioco.jmx} read again at the close, not on what was registered. Each runtime is a class
 * loader of its own ({@link OwnRuntime}).
 */
@Timeout(60)
class CoroutinesMBeanJmxPropertyLeakTest {
    /**
     * The MBean is unregistered only if {@code aioco.jmx} is not "false" when the last context closes
     * (CoroutineDump.contextClosed reads the property again): a program (or another deployment in the
     * same process) that sets {@code -Daioco.jmx=false} while a context is open leaves this runtime's
     * MBean registered after its last context closed, and the platform MBean server keeps its class
     * loader (the redeploy leak that the unregistration exists to prevent). What is unregistered
     * should follow what was registered, not the property's value at the close.
     */
    @Test
    void theJmxPropertySetWhileAContextIsOpenDoesNotKeepTheMBeanAfterTheLastClose() throws Exception {
        OwnRuntime.withNameFree(() -> {
            try (OwnRuntime rt = new OwnRuntime()) {
                AutoCloseable ctx = rt.create();
                OwnRuntime.joinRegistrars();
                assertTrue(OwnRuntime.nameRegistered());
                String before = System.getProperty("aioco.jmx");
                boolean leaked;
                try {
                    System.setProperty("aioco.jmx", "false");
                    ctx.close();
                    leaked = OwnRuntime.nameRegistered() || rt.registered();
                } finally {
                    if (before == null) {
                        System.clearProperty("aioco.jmx");
                    } else {
                        System.setProperty("aioco.jmx", before);
                    }
                }
                if (leaked) {
                    rt.create().close(); // clean up: a cycle with the property back unregisters it
                }
                assertFalse(leaked, "no context of this runtime is open, and its MBean is still registered:"
                        + " the platform MBean server keeps the runtime's class loader");
            }
        });
    }
}
