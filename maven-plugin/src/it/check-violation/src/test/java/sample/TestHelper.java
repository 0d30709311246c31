package sample;

public class TestHelper {
    static void drive() {
        Violations.step();
    }
}
