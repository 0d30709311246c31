package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: string and enum switches with yield inside cases. */
public class StringEnum {
    public static final String EXPECTED = "one,|,after1,two,|,after2,RED,|,GREEN,|,done";
    enum Color { RED, GREEN }
    @CoroutineFn static void body() {
        for (String s : new String[] {"one", "two"}) {
            switch (s) {
                case "one": Driver.log(s); Coroutine.yield(); Driver.log("after1"); break;
                case "two": Driver.log(s); Coroutine.yield(); Driver.log("after2"); break;
            }
        }
        for (Color c : Color.values()) {
            switch (c) { case RED -> { Driver.log(c); Coroutine.yield(); } case GREEN -> { Driver.log(c); Coroutine.yield(); } }
        }
        Driver.log("done");
    }
    public static Object run() { return Driver.drive(StringEnum::body); }
}
