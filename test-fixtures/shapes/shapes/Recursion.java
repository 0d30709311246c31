package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: recursion suspends at every depth. */
public class Recursion {
    public static final String EXPECTED = "|,|,|,|,|,fib 5";
    @CoroutineFn static int fib(int n) {
        if (n < 2) { if (n == 1) Coroutine.yield(); return n; }
        return fib(n - 1) + fib(n - 2);
    }
    @CoroutineFn static void body() { Driver.log("fib " + fib(5)); }
    public static Object run() { return Driver.drive(Recursion::body); }
}
