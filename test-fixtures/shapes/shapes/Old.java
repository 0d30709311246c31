// javac: --release 8
package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: java8 class files are instrumented. */
public class Old {
    public static final String EXPECTED = "|,|,java8 3";
    @CoroutineFn static int two() { Coroutine.yield(); return 2; }
    @CoroutineFn static void body() { int one = 1; Coroutine.yield(); Driver.log("java8 " + (one + two())); }
    public static Object run() { return Driver.drive(new CoroutineEntry() { public void run() { body(); } }); }
}
