package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.Arrays;

/** Shape: long, double, float, char and arrays on the operand stack, and uninitialized objects, at suspension points. */
public class WideValues {
    public static final String EXPECTED = "|,|,|,|,|,|,|,9.223372036854776E18 [[1, 9], [3, 4]] [x, x0.5y]"
            + " Pair[left=Pair[left=1, right=2.0], right=1]";

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
    void body() {
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
        Driver.log(mixed + " " + Arrays.deepToString(grid) + " " + Arrays.toString(names) + " " + pair);
    }

    public static Object run() {
        return Driver.drive(new WideValues()::body);
    }
}
