package s;
import io.aioco.*;
public class B {
    @CoroutineFn public static long g(int n, long acc, double d, String... tags) {
        Coroutine.yield();
        return A.f(n, acc, d, tags);
    }
}
