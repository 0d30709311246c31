package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;
import org.junit.jupiter.api.Test;

/**
 * A woven class mocked with Mockito's inline mock maker (the default in Mockito 5), which
 * retransforms the class in place: the mock is an instance of the class itself and its stubs sit in
 * the wrapper, the method with the original signature. Woven code that calls a stubbed coroutine
 * function virtually, or through an interface, gets the stub's answer, also through a call site
 * whose inline cache had already taken the class with real instances (CoLinker.linkVirtual: a cache
 * that called the fresh body would run the real method). Under the agent, its watcher sees
 * Mockito's retransformation and the class's calls go through the wrapper from then on; woven by
 * the plugin, without the agent, the caches are off (nothing would see a retransformation), and
 * even with {@code -Daioco.inlineCache=true} Mockito on the class path keeps them off.
 */
class MockedCoroutineFnTest {
    /** Prices, behind an interface. */
    public interface Pricing {
        @CoroutineFn
        int price(int item);
    }

    /** The real shop: yields, then the item plus one. */
    public static class Shop implements Pricing {
        @Override
        public int price(int item) {
            Coroutine.yield();
            return item + 1;
        }
    }

    /** Another, mocked before any call site met it. */
    public static class Stall implements Pricing {
        @Override
        public int price(int item) {
            Coroutine.yield();
            return item + 2;
        }
    }

    @CoroutineFn
    static int shopVirtually(Shop shop, int item) {
        return shop.price(item);
    }

    @CoroutineFn
    static int shopThroughInterface(Pricing pricing, int item) {
        return pricing.price(item);
    }

    @CoroutineFn
    static int stallVirtually(Stall stall, int item) {
        return stall.price(item);
    }

    @CoroutineFn
    static int stallThroughInterface(Pricing pricing, int item) {
        return pricing.price(item);
    }

    /** Another, for the sites linked with {@code -Daioco.inlineCache=true}. */
    public static class Till implements Pricing {
        @Override
        public int price(int item) {
            Coroutine.yield();
            return item + 3;
        }
    }

    @CoroutineFn
    static int tillVirtually(Till till, int item) {
        return till.price(item);
    }

    @CoroutineFn
    static int tillThroughInterface(Pricing pricing, int item) {
        return pricing.price(item);
    }

    private static int result;

    /** @return {@link #result} once {@code entry}, run as a coroutine entered until it ends, has set it */
    private static int run(CoroutineEntry entry) {
        result = -1;
        new Drive().run(entry);
        return result;
    }

    @Test
    void aStubbedCoroutineFunctionAnswersThroughCallSitesCachedWithRealInstances() {
        Shop real = new Shop();
        for (int i = 0; i < 3; i++) {
            assertEquals(4, run(() -> result = shopVirtually(real, 3)));
            assertEquals(4, run(() -> result = shopThroughInterface(real, 3)));
        }

        Shop mocked = mock(Shop.class);
        when(mocked.price(3)).thenReturn(42);

        assertEquals(42, run(() -> result = shopVirtually(mocked, 3)), "the virtual call site runs the stub");
        assertEquals(42, run(() -> result = shopThroughInterface(mocked, 3)), "the interface call site runs the stub");
        verify(mocked, times(2)).price(3);
        assertEquals(4, run(() -> result = shopVirtually(real, 3)), "a real shop still runs its method");
        assertEquals(4, run(() -> result = shopThroughInterface(real, 3)));
    }

    @Test
    void aStubbedCoroutineFunctionAnswersThroughCallSitesFirstMetWithTheMock() {
        Stall mocked = mock(Stall.class);
        when(mocked.price(3)).thenReturn(42);

        assertEquals(42, run(() -> result = stallVirtually(mocked, 3)));
        assertEquals(42, run(() -> result = stallThroughInterface(mocked, 3)));
        Stall real = new Stall();
        assertEquals(5, run(() -> result = stallVirtually(real, 3)));
        assertEquals(5, run(() -> result = stallThroughInterface(real, 3)));
        assertEquals(42, run(() -> result = stallVirtually(mocked, 3)), "after a real stall, the mock still runs its stub");
        assertEquals(42, run(() -> result = stallThroughInterface(mocked, 3)));
        verify(mocked, times(4)).price(3);
    }

    /**
     * With {@code -Daioco.inlineCache=true} (set before these sites link): woven by the plugin,
     * Mockito's inline mock maker on the class path still keeps the caches off; under the agent
     * the watcher sees the mock's retransformation. Either way the stub answers.
     */
    @Test
    void withTheCachesTurnedOnAStubbedCoroutineFunctionStillAnswers() {
        String old = System.setProperty("aioco.inlineCache", "true");
        try {
            Till real = new Till();
            for (int i = 0; i < 3; i++) {
                assertEquals(6, run(() -> result = tillVirtually(real, 3)));
                assertEquals(6, run(() -> result = tillThroughInterface(real, 3)));
            }
            Till mocked = mock(Till.class);
            when(mocked.price(3)).thenReturn(42);
            assertEquals(42, run(() -> result = tillVirtually(mocked, 3)));
            assertEquals(42, run(() -> result = tillThroughInterface(mocked, 3)));
            assertEquals(6, run(() -> result = tillVirtually(real, 3)));
        } finally {
            if (old == null) {
                System.clearProperty("aioco.inlineCache");
            } else {
                System.setProperty("aioco.inlineCache", old);
            }
        }
    }
}
