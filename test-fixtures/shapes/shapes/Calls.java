package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: super calls nestmate private calls and static calls across classes. */
public class Calls {
    public static final String EXPECTED = "|,|,base 1+sub,|,private 2,|,|,other 3";
    static class Base { @CoroutineFn String name(int n) { Coroutine.yield(); return "base " + n; } }
    static class Sub extends Base {
        @Override String name(int n) { String b = super.name(n); Coroutine.yield(); return b + "+sub"; }
    }
    @CoroutineFn private int secret(int v) { Coroutine.yield(); return v + 1; }
    class Inner { @CoroutineFn int reach() { return secret(1); } }   // a private method of the nest host
    @CoroutineFn private static int other() { return Other.three(); }
    @CoroutineFn void body() {
        Driver.log(new Sub().name(1));
        Driver.log("private " + new Inner().reach());
        Driver.log("other " + other());
    }
    public static Object run() { return Driver.drive(new Calls()::body); }
}
class Other { @CoroutineFn static int three() { Coroutine.yield(); Coroutine.yield(); return 3; } }
