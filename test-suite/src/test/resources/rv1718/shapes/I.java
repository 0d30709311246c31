package s;
import io.aioco.*;
public interface I {
    @CoroutineFn static int twice(int x) { Coroutine.yield(); return 2 * x; }
}
