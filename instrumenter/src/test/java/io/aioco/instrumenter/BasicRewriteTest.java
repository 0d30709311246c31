package io.aioco.instrumenter;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class BasicRewriteTest {
    private static final String HEADER = "package t;\nimport io.aioco.*;\nimport java.util.*;\n";

    static Object run(String className, String body) {
        InstrumentingLoader loader = InstrumentingLoader.of(Map.of("t." + className, HEADER + body));
        return loader.callStatic("t." + className, "run");
    }

    @Test
    void yieldInLoopResumesWithLocals() {
        Object result = run("Loop", """
                public class Loop {
                    static List<String> trace = new ArrayList<>();
                    @CoroutineFn static void body() {
                        long total = 0;
                        for (int i = 0; i < 3; i++) {
                            total += i * 10L;
                            trace.add("i=" + i);
                            Coroutine.yield();
                            trace.add("back " + total);
                        }
                    }
                    public static String run() {
                        Coroutine co = Coroutine.create(Loop::body);
                        int enters = 0;
                        while (!co.isTerminated()) { co.enter(); enters++; trace.add("|"); }
                        return String.join(",", trace) + " enters=" + enters;
                    }
                }
                """);
        assertEquals("i=0,|,back 0,i=1,|,back 10,i=2,|,back 30,| enters=4", result);
    }
}
