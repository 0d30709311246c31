package shapes;

import io.aioco.*;
import java.util.*;
import java.util.function.*;

/** Shape: inner anonymous record enum generics and varargs. */
public class Kinds {
    public static final String EXPECTED = "|,inner 3,|,anon 4,|,rec 5,|,enum B6,|,gen [a, b],|,var 3";
    interface Step { @CoroutineFn String go(int x); }
    class Inner implements Step { public String go(int x) { Coroutine.yield(); return "inner " + x; } }
    record Rec(int v) { @CoroutineFn String go() { Coroutine.yield(); return "rec " + v; } }
    enum E { A, B; @CoroutineFn String go(int x) { Coroutine.yield(); return "enum " + this + x; } }
    @CoroutineFn static <T> List<T> gen(List<T> in) { Coroutine.yield(); return new ArrayList<>(in); }
    @CoroutineFn static int var(String... xs) { Coroutine.yield(); return xs.length; }
    @CoroutineFn void body() {
        Driver.log(new Inner().go(3));
        Step anon = new Step() { public String go(int x) { Coroutine.yield(); return "anon " + x; } };
        Driver.log(anon.go(4));
        Driver.log(new Rec(5).go());
        Driver.log(E.B.go(6));
        Driver.log("gen " + gen(List.of("a", "b")));
        Driver.log("var " + var("x", "y", "z"));
    }
    public static Object run() { return Driver.drive(new Kinds()::body); }
}
