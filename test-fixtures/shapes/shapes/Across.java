package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: exception thrown by callee after resume is caught by caller. */
public class Across {
    public static final String EXPECTED = "callee,|,caught 42,after";
    @CoroutineFn static int callee(int x) {
        Driver.log("callee");
        Coroutine.yield();
        if (x > 0) throw new ArithmeticException(String.valueOf(x));
        return x;
    }
    @CoroutineFn static void body() {
        try { callee(42); } catch (ArithmeticException e) { Driver.log("caught " + e.getMessage()); }
        Driver.log("after");
    }
    public static Object run() { return Driver.drive(Across::body); }
}
