@file:JvmName("KotlinStateMachines")

package io.aioco.bench.coroutine

import kotlin.coroutines.Continuation
import kotlin.coroutines.CoroutineContext
import kotlin.coroutines.EmptyCoroutineContext
import kotlin.coroutines.intrinsics.COROUTINE_SUSPENDED
import kotlin.coroutines.intrinsics.createCoroutineUnintercepted
import kotlin.coroutines.intrinsics.suspendCoroutineUninterceptedOrReturn
import kotlin.coroutines.resume

/*
 * The Kotlin baseline of CoroutineBenchmark's switch and creation rows (KotlinBaselineBenchmark):
 * Kotlin's own state machines, driven with the standard library's intrinsics only: no dispatcher,
 * no interceptor, no kotlinx.coroutines. A suspend function compiles to a state machine object, as
 * a @CoroutineFn method compiles (under aioco's agent) to a resumable one; these drivers resume and
 * suspend them as Coroutine.enter() and Coroutine.yield() do, on the calling thread.
 */

/**
 * A Kotlin coroutine driven as an aioco [io.aioco.Coroutine] is: created over a body,
 * [enter]ed on the caller's thread, runs until it yields ([yieldNow]) or ends, and is entered
 * again after a yield. It is its own completion (one object per coroutine, as aioco's Coroutine
 * is). Only the thread that created it may enter it; not thread-safe.
 */
class KotlinCoroutine(body: suspend KotlinCoroutine.() -> Unit) : Continuation<Unit> {
    /** What [enter] resumes: the body's first state, then the continuation of the last yield. */
    private var next: Continuation<Unit>? = body.createCoroutineUnintercepted(this, this)

    /** Whether the body returned. */
    var terminated = false
        private set

    override val context: CoroutineContext
        get() = EmptyCoroutineContext

    /** The completion: the body returned (or threw: rethrown to the [enter] that resumed it). */
    override fun resumeWith(result: Result<Unit>) {
        terminated = true
        result.getOrThrow()
    }

    /** Runs the coroutine until it yields or ends (aioco's Coroutine.enter()). */
    fun enter() {
        val resumed = next ?: throw IllegalStateException("the coroutine has terminated")
        next = null
        resumed.resume(Unit)
    }

    /** Suspends the coroutine until the next [enter] (aioco's Coroutine.yield()). */
    suspend fun yieldNow(): Unit = suspendCoroutineUninterceptedOrReturn { continuation ->
        next = continuation
        COROUTINE_SUSPENDED
    }
}

/** Never reached (the loops above it never end); keeps each caller a state machine of its own. */
@JvmField
var unreached = 0

suspend fun KotlinCoroutine.yieldForever() {
    while (true) {
        yieldNow()
    }
}

/*
 * NOTE: kotlinc compiles a suspend call in tail position without a state machine (the caller
 * passes its own continuation on); the statement after each call, never reached, keeps each of
 * the ten frames a state machine object of its own, a chain of ten continuations, as aioco's
 * CoroutineBenchmark.descend frames are ten frames. A resume still runs only the innermost one
 * (yieldForever's): Kotlin resumes the continuation that suspended, and the frames around it run
 * again only when it returns; aioco's enter() re-enters all ten.
 */
suspend fun KotlinCoroutine.descend(depth: Int) {
    if (depth == 1) {
        yieldForever()
    } else {
        descend(depth - 1)
    }
    unreached++
}

@Suppress("RedundantSuspendModifier")
suspend fun nothing() {}

/** CoroutineBenchmark.depth1's body: a coroutine that yields forever, one frame deep. */
fun depth1(): KotlinCoroutine = KotlinCoroutine { yieldForever(); unreached++ }

/** CoroutineBenchmark.depth10's body: the lambda, 9 descend frames and yieldForever. */
fun depth10(): KotlinCoroutine = KotlinCoroutine { descend(9); unreached++ }

private val nothingBody: suspend KotlinCoroutine.() -> Unit = { nothing() }
private val yieldOnceBody: suspend KotlinCoroutine.() -> Unit = { yieldNow() }

/** CoroutineBenchmark.createEnterTerminate: create, enter, run to completion. */
fun createEnterTerminate(): KotlinCoroutine {
    val co = KotlinCoroutine(nothingBody)
    co.enter()
    return co
}

/** CoroutineBenchmark.createYieldOnceComplete: create, enter, yield once, enter again, complete. */
fun createYieldOnceComplete(): KotlinCoroutine {
    val co = KotlinCoroutine(yieldOnceBody)
    co.enter()
    co.enter()
    return co
}
