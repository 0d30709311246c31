package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: instance private final and interface methods. */
public class Members {
    public static final String EXPECTED = "|,|,|,|,sum 1111";
    interface Api {
        @CoroutineFn int value();
        @CoroutineFn default int twice() { Coroutine.yield(); return 2 * value(); }
        @CoroutineFn static int hundred() { Coroutine.yield(); return 100; }
    }
    static final class Impl implements Api {
        private final int base;
        Impl(int base) { this.base = base; }
        public int value() { Coroutine.yield(); return base; }   // implicitly a coroutine function
        @CoroutineFn private int secret() { Coroutine.yield(); return 1000; }
        @CoroutineFn final int all() { return secret() + twice() + Api.hundred(); }
    }
    @CoroutineFn static void body() {
        Impl impl = new Impl(5);
        Driver.log("sum " + (impl.all() + 1));
    }
    public static Object run() { return Driver.drive(Members::body); }
}
