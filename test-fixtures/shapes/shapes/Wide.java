package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: long double arrays in locals and on the operand stack. */
public class Wide {
    public static final String EXPECTED = "|,|,|,result 1.2345678901E10 2.75 [1, 2, 3] x7";
    @CoroutineFn static long l(long v) { Coroutine.yield(); return v; }
    @CoroutineFn static double d(double v) { Coroutine.yield(); return v; }
    @CoroutineFn static int[] a() { Coroutine.yield(); return new int[] {1, 2, 3}; }
    @CoroutineFn static void body() {
        long big = 12345678901L;
        double half = 0.5;
        String s = "x";
        // operand stack below each call: a long, a double, a String
        double sum = big + d(1.0) - 1.0;
        double third = half * 7.0 + l(1L) - 0.75 - 1;
        int[] arr = a();
        Driver.log("result " + sum + " " + third + " " + Arrays.toString(arr) + " " + s + (arr.length + 4));
    }
    public static Object run() { return Driver.drive(Wide::body); }
}
