package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.mockito.Mockito.doReturn;
import static org.mockito.Mockito.spy;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;
import org.junit.jupiter.api.Test;

/**
 * Mockito spies ({@code spy()} + {@code doReturn}) of a subclass that only inherits a woven
 * coroutine function, and of a class that inherits a woven default method, at call sites that
 * cached those very classes with real instances first (under the agent; woven by the plugin, with
 * Mockito on the class path, the caches are off): each spy answers its stubs (from the hostile
 * review rv13b).
 */
class MockitoSpyOfCachedClassTest {
    public interface Tariff {
        @CoroutineFn
        default int fee(int item) {
            Coroutine.yield();
            return item + 10;
        }
    }

    public static class Booth implements Tariff {}

    public static class Shop {
        @CoroutineFn
        public int price(int item) {
            Coroutine.yield();
            return item + 1;
        }
    }

    public static class Kiosk extends Shop {}

    @CoroutineFn
    static int viaShop(Shop shop, int item) {
        return shop.price(item);
    }

    @CoroutineFn
    static int viaTariff(Tariff tariff, int item) {
        return tariff.fee(item);
    }

    private static int result;

    private static int run(CoroutineEntry entry) {
        result = -1;
        new Drive().run(entry);
        return result;
    }

    @Test
    void spiesOfClassesTheSitesCachedAnswerTheirStubs() {
        Kiosk kiosk = new Kiosk();
        Booth booth = new Booth();
        for (int i = 0; i < 3; i++) {
            assertEquals(4, run(() -> result = viaShop(kiosk, 3)));
            assertEquals(13, run(() -> result = viaTariff(booth, 3)));
        }
        Kiosk kioskSpy = spy(new Kiosk());
        doReturn(42).when(kioskSpy).price(3);
        Booth boothSpy = spy(new Booth());
        doReturn(43).when(boothSpy).fee(3);
        assertEquals(42, run(() -> result = viaShop(kioskSpy, 3)), "the spy's stub through the virtual site");
        assertEquals(43, run(() -> result = viaTariff(boothSpy, 3)), "the spy's stub through the interface site");
        assertEquals(5, run(() -> result = viaShop(kioskSpy, 4)), "the spy's real method for another argument");
        assertEquals(14, run(() -> result = viaTariff(boothSpy, 4)));
        assertEquals(4, run(() -> result = viaShop(kiosk, 3)));
        assertEquals(13, run(() -> result = viaTariff(booth, 3)));
    }
}
