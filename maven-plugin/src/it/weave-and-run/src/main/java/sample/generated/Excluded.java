package sample.generated;

import io.aioco.Coroutine;
import io.aioco.CoroutineFn;

/** Excluded by the plugin's configuration: neither woven nor checked. */
public final class Excluded {
    @CoroutineFn
    public static void suspends() {
        Coroutine.yield();
    }

    public static void breaksTheRuleButIsExcluded() {
        suspends();
    }
}
