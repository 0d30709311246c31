package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: try with resources closes after resume. */
public class Resources {
    public static final String EXPECTED = "open,|,use,|,close,done";
    static class Res implements AutoCloseable {
        Res() { Driver.log("open"); }
        public void close() { Driver.log("close"); }
    }
    @CoroutineFn static void body() {
        try (Res r = new Res()) {
            Coroutine.yield();
            Driver.log("use");
            Coroutine.yield();
        }
        Driver.log("done");
    }
    public static Object run() { return Driver.drive(Resources::body); }
}
