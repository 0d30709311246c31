package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: table and lookup switches across yields. */
public class Switches {
    public static final String EXPECTED = "a0,|,b1,|,d,|,x7,|,y1000,|,z,|";
    @CoroutineFn static void body() {
        for (int i = 0; i < 3; i++) {
            switch (i) { case 0: Driver.log("a" + i); break; case 1: Driver.log("b" + i); break; default: Driver.log("d"); }
            Coroutine.yield();
        }
        int[] keys = {7, 1000, -5};
        for (int k : keys) {
            switch (k) { case 7 -> { Driver.log("x" + k); } case 1000 -> Driver.log("y" + k); default -> Driver.log("z"); }
            Coroutine.yield();
        }
    }
    public static Object run() { return Driver.drive(Switches::body); }
}
