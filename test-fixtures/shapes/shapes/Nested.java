package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: nested coroutines yield to their enterer. */
public class Nested {
    public static final String EXPECTED = "outer1,inner1,back-in-outer,|,inner2,outer-end,|,inner-done,outer-done";
    @CoroutineFn static void body() {
        Coroutine inner = Coroutine.create(() -> {
            Driver.log("inner1"); Coroutine.yield();
            Driver.log("inner2"); Coroutine.yield();
            Driver.log("inner-done");
        });
        Driver.log("outer1");
        inner.enter();
        Driver.log("back-in-outer");
        Coroutine.yield();
        inner.enter();
        Driver.log("outer-end");
        Coroutine.yield();
        inner.enter();
        Driver.log("outer-done");
    }
    public static Object run() { return Driver.drive(Nested::body); }
}
