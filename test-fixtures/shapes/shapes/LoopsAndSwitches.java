package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;
import java.util.List;

/** Shape: loops and switches on int, String, enum and patterns, with yields inside cases. */
public class LoopsAndSwitches {
    public static final String EXPECTED = "|,|,|,|,|,|,a 1111,|,b 128127,|,RED,GREEN,|,other BLUE,|,area 12,|,area 9"
            + "; enters 12"; // one more than the yields

    enum Color { RED, GREEN, BLUE }

    sealed interface Shape permits Circle, Square {}

    record Circle(int r) implements Shape {}

    record Square(int side) implements Shape {}

    @CoroutineFn
    void body() {
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
                case "alpha" -> Driver.log("a " + sum);
                case "beta" -> { Coroutine.yield(); Driver.log("b " + k); }
                default -> Driver.log("?");
            }
        }
        for (Color color : Color.values()) {
            switch (color) {
                case RED: Coroutine.yield(); Driver.log(color); break;
                case GREEN: Driver.log(color); break;
                default: Coroutine.yield(); Driver.log("other " + color);
            }
        }
        for (Shape shape : List.of(new Circle(2), new Square(3))) {
            int area = shape instanceof Circle c ? yieldAndGet(3 * c.r() * c.r())
                    : shape instanceof Square q ? yieldAndGet(q.side() * q.side()) : -1;
            Driver.log("area " + area);
        }
    }

    @CoroutineFn
    static int yieldAndGet(int value) {
        Coroutine.yield();
        return value;
    }

    public static Object run() {
        return Driver.drive(new LoopsAndSwitches()::body) + "; enters " + Driver.enters();
    }
}
