package sample.api;

import io.aioco.CoroutineFn;

/** Declared in the api jar: implementations elsewhere are coroutine functions through this marker. */
public interface Source<T> {
    @CoroutineFn
    T next();
}
