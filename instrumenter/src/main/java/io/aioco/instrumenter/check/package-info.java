/**
 * The checks that change no code. {@link io.aioco.instrumenter.check.BytecodeVerifier} is API (the
 * Maven plugin and the agent's check command verify woven classes with it);
 * {@link io.aioco.instrumenter.check.CoroutineFnRule} is internal, not API (public only for
 * {@link io.aioco.instrumenter.Instrumenter#checkCoroutineFnRule(byte[])}, through which it is
 * called): QEMU's {@code coroutine_fn} rule (only a coroutine function may call one), which QEMU
 * checks by static analysis. Both read class bytes only (no class is loaded), from any thread.
 */
package io.aioco.instrumenter.check;
