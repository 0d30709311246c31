package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: uninitialized object on the stack at suspension point. */
public class Uninit {
    public static final String EXPECTED = "|,|,Pair(Box[v=5], 6)";
    record Box(int v) {}
    record Pair(Object a, Object b) { public String toString() { return "Pair(" + a + ", " + b + ")"; } }
    @CoroutineFn static int next(int v) { Coroutine.yield(); return v + 1; }
    @CoroutineFn static void body() {
        Pair p = new Pair(new Box(next(4)), next(5));
        Driver.log(p);
    }
    public static Object run() { return Driver.drive(Uninit::body); }
}
