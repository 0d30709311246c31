package shapes;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

/** Shape: try/catch/finally, nested finally and try-with-resources spanning suspension points. */
public class Exceptions {
    public static final String EXPECTED = "try,|,caught code 7,|,finally,|,finally resumed,open a,open b,|,body,close b,"
            + "close a,after close: in body,|,inner finally 0,|,inner finally 1,outer catch code 1";

    static final class Resource implements AutoCloseable {
        private final String name;

        Resource(String name) {
            this.name = name;
            Driver.log("open " + name);
        }

        @Override
        public void close() {
            Driver.log("close " + name);
        }
    }

    @CoroutineFn
    static int failAfterYield(int code) throws java.io.IOException {
        Coroutine.yield();
        if (code > 0) {
            throw new java.io.IOException("code " + code);
        }
        return code;
    }

    @CoroutineFn
    void body() {
        try {
            Driver.log("try");
            failAfterYield(7);
            Driver.log("not reached");
        } catch (java.io.IOException e) {
            Driver.log("caught " + e.getMessage());
            Coroutine.yield();
        } finally {
            Driver.log("finally");
            Coroutine.yield();
            Driver.log("finally resumed");
        }
        try (Resource a = new Resource("a"); Resource b = new Resource("b")) {
            Coroutine.yield();
            Driver.log("body");
            throw new IllegalStateException("in body");
        } catch (IllegalStateException e) {
            Driver.log("after close: " + e.getMessage());
        }
        for (int i = 0; i < 2; i++) {
            try {
                try {
                    if (i == 1) {
                        failAfterYield(i);
                    }
                    Coroutine.yield();
                } finally {
                    Driver.log("inner finally " + i);
                }
            } catch (java.io.IOException e) {
                Driver.log("outer catch " + e.getMessage());
            }
        }
    }

    public static Object run() {
        return Driver.drive(new Exceptions()::body);
    }
}
