package s;
import io.aioco.*;
public class Sup { @CoroutineFn public static int inherited(int x) { Coroutine.yield(); return x + 100; } }
