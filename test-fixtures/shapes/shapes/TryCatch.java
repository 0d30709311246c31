package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: try catch finally spanning suspension points. */
public class TryCatch {
    public static final String EXPECTED = "try,|,throwing,caught boom,|,finally,|,after";
    @CoroutineFn static void body() {
        try {
            Driver.log("try");
            Coroutine.yield();
            Driver.log("throwing");
            throw new IllegalStateException("boom");
        } catch (IllegalStateException e) {
            Driver.log("caught " + e.getMessage());
            Coroutine.yield();
        } finally {
            Driver.log("finally");
            Coroutine.yield();
        }
        Driver.log("after");
    }
    public static Object run() { return Driver.drive(TryCatch::body); }
}
