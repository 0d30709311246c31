package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

/**
 * Shape: static, instance, private, final, abstract, default and static interface methods, enum
 * constant bodies, records, inner and anonymous classes, generic varargs.
 */
public class MethodKinds {
    public static final String EXPECTED = "dear ann+dear ann #2,5,7,inner of 11,yo bo+yo bo,9,pear; enters "
            + (1 + 5 + 1 + 1 + 1 + 3 + 3 + 2);

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

    /** Public: the test suite's SupportedShapesTest touches it from a plain lambda. */
    public enum Op {
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
            return "inner of " + Driver.TRACE.size();
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
    void body() {
        Polite polite = new Polite();
        Driver.log(polite.all("ann"));
        Driver.log(Op.ADD.apply(2, 3));
        Driver.log(new Point(-2, 5).norm1());
        Driver.log(new Inner().where());
        Greeter anonymous = new Greeter() {
            @Override
            public String greet(String name) {
                Coroutine.yield();
                return "yo " + name;
            }
        };
        Driver.log(anonymous.twice("bo"));
        Driver.log(max(3, 9, 4));
        Driver.log(max("pear", "apple"));
    }

    public static Object run() {
        Driver.drive(new MethodKinds()::body);
        return Driver.logged() + "; enters " + Driver.enters();
    }
}
