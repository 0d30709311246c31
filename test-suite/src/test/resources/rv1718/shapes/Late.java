package s;
import io.aioco.*;
public class Late {
    static { System.out.println("Late.<clinit> ran"); if (Boolean.getBoolean("fail")) throw new IllegalStateException("boom"); }
    @CoroutineFn public static int v() { Coroutine.yield(); return 7; }
}
