package s;
import io.aioco.*;
public class A {
    static int clinitRuns;
    static { clinitRuns++; }
    @CoroutineFn public static long f(int n, long acc, double d, String... tags) {
        if (n == 0) return acc + (long) d + tags.length;
        Coroutine.yield();
        return B.g(n - 1, acc + n, d * 2, tags);
    }
    @CoroutineFn private static int secret(int x) { Coroutine.yield(); return x * 3; }
    static class Inner {
        @CoroutineFn static int callSecret(int x) { return secret(x) + 1; }
    }
}
