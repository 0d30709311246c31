package io.aioco.suite;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.aioco.Coroutine;
import io.aioco.CoroutineEntry;
import io.aioco.CoroutineFn;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * INSTRUMENTATION.md's "What must be supported", on classes compiled by Maven and instrumented by
 * the agent at load time, with exact results after many enters.
 */
class SupportedShapesTest {
    private final Drive drive = new Drive();

    // ---- loops and switches ----

    enum Color { RED, GREEN, BLUE }

    sealed interface Shape permits Circle, Square {}

    record Circle(int r) implements Shape {}

    record Square(int side) implements Shape {}

    @CoroutineFn
    void loopsAndSwitches() {
        int sum = 0;
        for (int i = 0; i < 4; i++) {
            switch (i) {
                case 0: sum += 1; break;
                case 1: sum += 10; Coroutine.yield(); break;
                case 2: sum += 100; break;
                default: sum += 1000;
            }
            Coroutine.yield();
        }
        int k = 0;
        while (k < 100_000) {
            switch (k) {
                case 7 -> { Coroutine.yield(); k = 1000; }
                case 100_000 - 1 -> k++;
                default -> k = k * 2 + 1;
            }
        }
        String word = "beta";
        for (String s : new String[] {"alpha", word}) {
            switch (s) {
                case "alpha" -> drive.log("a " + sum);
                case "beta" -> { Coroutine.yield(); drive.log("b " + k); }
                default -> drive.log("?");
            }
        }
        for (Color color : Color.values()) {
            switch (color) {
                case RED: Coroutine.yield(); drive.log(color); break;
                case GREEN: drive.log(color); break;
                default: Coroutine.yield(); drive.log("other " + color);
            }
        }
        for (Shape shape : List.of(new Circle(2), new Square(3))) {
            int area = shape instanceof Circle c ? yieldAndGet(3 * c.r() * c.r())
                    : shape instanceof Square q ? yieldAndGet(q.side() * q.side()) : -1;
            drive.log("area " + area);
        }
    }

    @CoroutineFn
    static int yieldAndGet(int value) {
        Coroutine.yield();
        return value;
    }

    @Test
    void loopsAndSwitchesOnIntStringEnumAndPatterns() {
        assertEquals("|,|,|,|,|,|,a 1111,|,b 128127,|,RED,GREEN,|,other BLUE,|,area 12,|,area 9",
                drive.run(this::loopsAndSwitches));
        assertEquals(12, drive.enters); // one more than the yields
    }

    // ---- exceptions ----

    static final class Resource implements AutoCloseable {
        private final Drive drive;
        private final String name;

        Resource(Drive drive, String name) {
            this.drive = drive;
            this.name = name;
            drive.log("open " + name);
        }

        @Override
        public void close() {
            drive.log("close " + name);
        }
    }

    @CoroutineFn
    int failAfterYield(int code) throws java.io.IOException {
        Coroutine.yield();
        if (code > 0) {
            throw new java.io.IOException("code " + code);
        }
        return code;
    }

    @CoroutineFn
    void exceptions() {
        try {
            drive.log("try");
            failAfterYield(7);
            drive.log("not reached");
        } catch (java.io.IOException e) {
            drive.log("caught " + e.getMessage());
            Coroutine.yield();
        } finally {
            drive.log("finally");
            Coroutine.yield();
            drive.log("finally resumed");
        }
        try (Resource a = new Resource(drive, "a"); Resource b = new Resource(drive, "b")) {
            Coroutine.yield();
            drive.log("body");
            throw new IllegalStateException("in body");
        } catch (IllegalStateException e) {
            drive.log("after close: " + e.getMessage());
        }
        for (int i = 0; i < 2; i++) {
            try {
                try {
                    if (i == 1) {
                        failAfterYield(i);
                    }
                    Coroutine.yield();
                } finally {
                    drive.log("inner finally " + i);
                }
            } catch (java.io.IOException e) {
                drive.log("outer catch " + e.getMessage());
            }
        }
    }

    @Test
    void tryCatchFinallyAndTryWithResourcesSpanningSuspensionPoints() {
        assertEquals("try,|,caught code 7,|,finally,|,finally resumed,open a,open b,|,body,close b,close a,"
                + "after close: in body,|,inner finally 0,|,inner finally 1,outer catch code 1", drive.run(this::exceptions));
    }

    @Test
    void exceptionEscapingAfterResumeReachesEnter() {
        Coroutine co = Coroutine.create(() -> failAfterYield(3));
        co.enter();
        io.aioco.CoroutineException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.aioco.CoroutineException.class, co::enter);
        assertEquals("code 3", e.getCause().getMessage());
    }

    // ---- wide values, arrays, the operand stack, uninitialized objects ----

    @CoroutineFn
    static long wide(long value) {
        Coroutine.yield();
        return value;
    }

    @CoroutineFn
    static double real(double value) {
        Coroutine.yield();
        return value;
    }

    record Pair(Object left, Object right) {}

    @CoroutineFn
    void wideValues() {
        long big = Long.MAX_VALUE - 5;
        double pi = 3.25;
        float f = 1.5f;
        int[][] grid = {{1, 2}, {3, 4}};
        String[] names = {"x", "y"};
        char c = 'q';
        // values of every kind below a suspension point on the operand stack
        double mixed = big + wide(5L) - pi * real(2.0) + f + grid[1][0] + c;
        grid[0][1] = (int) wide(9);
        names[1] = names[0] + real(0.5) + names[1];
        Pair pair = new Pair(new Pair(wide(1), real(2)), new int[] {(int) wide(3)}.length);
        drive.log(mixed + " " + Arrays.deepToString(grid) + " " + Arrays.toString(names) + " " + pair);
    }

    @Test
    void longDoubleFloatCharArraysAndUninitializedObjectsOnTheStack() {
        assertEquals("|,|,|,|,|,|,|,9.223372036854776E18 [[1, 9], [3, 4]] [x, x0.5y] Pair[left=Pair[left=1, right=2.0], right=1]",
                drive.run(this::wideValues));
    }

    // ---- kinds of methods and classes ----

    interface Greeter {
        @CoroutineFn
        String greet(String name);

        @CoroutineFn
        default String twice(String name) {
            String first = greet(name);
            Coroutine.yield();
            return first + "+" + greet(name);
        }

        @CoroutineFn
        static String shout(String text) {
            Coroutine.yield();
            return text.toUpperCase();
        }
    }

    abstract static class Base implements Greeter {
        @CoroutineFn
        protected abstract String prefix();

        @Override
        public String greet(String name) { // a coroutine function by inheritance: no marker here
            Coroutine.yield();
            return prefix() + name;
        }
    }

    static final class Polite extends Base {
        private int calls;

        @Override
        protected String prefix() {
            calls++;
            return "dear ";
        }

        @CoroutineFn
        private String secret() {
            Coroutine.yield();
            return "#" + calls;
        }

        @CoroutineFn
        final String all(String name) {
            return twice(name) + " " + Greeter.shout(secret());
        }
    }

    enum Op {
        ADD {
            @Override
            int apply(int a, int b) {
                Coroutine.yield();
                return a + b;
            }
        };

        @CoroutineFn
        abstract int apply(int a, int b);
    }

    record Point(int x, int y) {
        @CoroutineFn
        int norm1() {
            Coroutine.yield();
            return Math.abs(x) + Math.abs(y);
        }
    }

    class Inner {
        @CoroutineFn
        String where() {
            Coroutine.yield();
            return "inner of " + drive.trace.size();
        }
    }

    @CoroutineFn
    @SafeVarargs
    static <T extends Comparable<T>> T max(T... values) {
        T best = values[0];
        for (T value : values) {
            Coroutine.yield();
            best = value.compareTo(best) > 0 ? value : best;
        }
        return best;
    }

    @CoroutineFn
    void methodKinds() {
        Polite polite = new Polite();
        drive.log(polite.all("ann"));
        drive.log(Op.ADD.apply(2, 3));
        drive.log(new Point(-2, 5).norm1());
        drive.log(new Inner().where());
        Greeter anonymous = new Greeter() {
            @Override
            public String greet(String name) {
                Coroutine.yield();
                return "yo " + name;
            }
        };
        drive.log(anonymous.twice("bo"));
        drive.log(max(3, 9, 4));
        drive.log(max("pear", "apple"));
    }

    @Test
    void staticInstancePrivateFinalAbstractDefaultInterfaceStaticEnumRecordInnerAnonymousGenericVarargs() {
        String trace = drive.run(this::methodKinds);
        assertEquals(List.of("dear ann+dear ann #2", "5", "7", "inner of 11", "yo bo+yo bo", "9", "pear"),
                Arrays.stream(trace.split(",")).filter(s -> !s.equals("|")).toList());
        assertEquals(5 + 1 + 1 + 1 + 3 + 3 + 2, drive.enters - 1);
    }

    // ---- recursion, lambdas and method references ----

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
    void lambdas() throws Exception {
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
        IntFn staticRef = SupportedShapesTest::fib;
        Fn<String, Integer> unbound = String::length; // a method reference to plain code: never suspends
        CoroutineEntry nested = () -> drive.log("entry lambda " + square.apply(2));
        drive.log(square.apply(7) + " " + concat.apply("c") + " " + bound.apply(1) + " " + staticRef.apply(6) + " "
                + unbound.apply("four"));
        nested.run();
    }

    @Test
    void recursionLambdasAndMethodReferences() {
        assertEquals(List.of("49 c5100 101 8 4", "entry lambda 4"),
                Arrays.stream(drive.run(() -> lambdas()).split(",")).filter(s -> !s.equals("|")).toList());
        assertEquals(1 + 1 + 1 + 13 + 1, drive.enters - 1); // fib(6) has 13 leaves
    }

    @Test
    void plainLambdaCallingANonSuspendingCoroutineFunctionWorks() {
        Supplier<Integer> plain = () -> fib(0) + 1; // fib(0) yields: must throw naming the lambda
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> drive.run(() -> drive.log(plain.get())));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("SupportedShapesTest.lambda$"),
                e.getMessage());
        List<Integer> collected = new ArrayList<>();
        drive.run(() -> collected.add(((Supplier<Integer>) () -> Op.values().length).get()));
        assertEquals(List.of(1), collected);
    }
}
