package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: lambdas and method references to coroutine interfaces. */
public class Lambdas {
    public static final String EXPECTED = "|,lambda 2,|,captured 10 3,|,bound 4,|,unbound 5,|,entry";
    interface Fn { @CoroutineFn int apply(int x); }
    interface Gen<T, R> { @CoroutineFn R apply(T x); }
    int base = 3;
    @CoroutineFn int plus(int x) { Coroutine.yield(); return x + 1; }
    @CoroutineFn static String show(Lambdas self) { Coroutine.yield(); return "unbound " + 5; }
    @CoroutineFn void body() throws Exception {
        Fn f = x -> { Coroutine.yield(); return x * 2; };
        Driver.log("lambda " + f.apply(1));
        int ten = 10;
        Gen<String, String> g = s -> { Coroutine.yield(); return s + " " + ten + " " + base; };
        Driver.log(g.apply("captured"));
        Fn bound = this::plus;
        Driver.log("bound " + bound.apply(3));
        Gen<Lambdas, String> unbound = Lambdas::show;
        Driver.log(unbound.apply(this));
        CoroutineEntry e = () -> { Coroutine.yield(); Driver.log("entry"); };
        e.run();
    }
    public static Object run() { return Driver.drive(() -> new Lambdas().body()); }
}
