package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;

/** Shape: recursion, lambdas (capturing, nested) and bound, static and plain method references. */
public class RecursionLambdasReferences {
    public static final String EXPECTED = "49 c5100 101 8 4,entry lambda 4; enters "
            + (1 + 1 + 1 + 1 + 13 + 1); // fib(6) has 13 leaves

    @CoroutineFn
    static int fib(int n) {
        if (n < 2) {
            Coroutine.yield();
            return n;
        }
        return fib(n - 1) + fib(n - 2);
    }

    interface IntFn {
        @CoroutineFn
        int apply(int x);
    }

    interface Fn<T, R> {
        @CoroutineFn
        R apply(T x);
    }

    private int base = 100;

    @CoroutineFn
    int plusBase(int x) {
        Coroutine.yield();
        return x + base;
    }

    @CoroutineFn
    void body() throws Exception {
        IntFn square = x -> {
            Coroutine.yield();
            return x * x;
        };
        int captured = 5;
        Fn<String, String> concat = s -> {
            Coroutine.yield();
            return s + captured + base;
        };
        IntFn bound = this::plusBase;
        IntFn staticRef = RecursionLambdasReferences::fib;
        Fn<String, Integer> unbound = String::length; // a method reference to plain code: never suspends
        CoroutineEntry nested = () -> Driver.log("entry lambda " + square.apply(2));
        Driver.log(square.apply(7) + " " + concat.apply("c") + " " + bound.apply(1) + " " + staticRef.apply(6) + " "
                + unbound.apply("four"));
        nested.run();
    }

    public static Object run() {
        Driver.drive(() -> new RecursionLambdasReferences().body());
        return Driver.logged() + "; enters " + Driver.enters();
    }
}
