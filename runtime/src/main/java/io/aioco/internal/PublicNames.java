package io.aioco.internal;

/**
 * The classes and methods of the public package {@code io.aioco} that this package names as text:
 * it imports nothing public (no import cycle between the runtime's packages), so where it must
 * recognize or load one of them it uses these names. All of them are here, and {@code
 * PublicNamesTest} checks that each names a class (and method) that exists, so a rename fails a
 * test rather than silently changing an error message or a dump. Internal; constants only.
 */
final class PublicNames {
    private PublicNames() {}

    /** {@code io.aioco.AioContext}: loaded by {@link TestAccess#get()}, which registers the kit's access. */
    static final String AIO_CONTEXT = "io.aioco.AioContext";

    /**
     * {@code io.aioco.CoFrame}: the frame protocol of the runtime's coroutine functions, skipped when
     * an error names the frame a refused suspension would cross ({@link CoStack}).
     */
    static final String CO_FRAME = "io.aioco.CoFrame";

    /** {@code io.aioco.SpawnEntry}: a spawned coroutine's entry, skipped like {@link #CO_FRAME}. */
    static final String SPAWN_ENTRY = "io.aioco.SpawnEntry";

    /**
     * {@code io.aioco.CoroutineFn}: the marker, kept at run time, by which {@link CoLinker} tells a
     * callee that is not woven from one that is no longer a coroutine function.
     */
    static final String COROUTINE_FN = "io.aioco.CoroutineFn";

    /** {@code io.aioco.Coroutine}: owner of {@link #WITH_TIMEOUT}. */
    static final String COROUTINE = "io.aioco.Coroutine";

    /**
     * {@code io.aioco.Coroutine.withTimeoutNs}, as a suspension point's callee ({@link CoTables}):
     * the one runtime function that saves a frame of its own below the body's woven frames.
     */
    static final String WITH_TIMEOUT = COROUTINE + ".withTimeoutNs";
}
