/**
 * The instrumenter's public API: what the agent, the Maven plugin and the agent's check command
 * use. {@link io.aioco.instrumenter.Instrumenter} rewrites (or checks) one class;
 * {@link io.aioco.instrumenter.InstrumentationResult}, {@link io.aioco.instrumenter.Diagnostic} and
 * {@link io.aioco.instrumenter.InstrumentationException} are what it answers;
 * {@link io.aioco.instrumenter.ClassLookup} (with {@link io.aioco.instrumenter.ClassPathLookup} and
 * {@link io.aioco.instrumenter.ManifestClassPath}) is where it reads other classes' bytes;
 * {@link io.aioco.instrumenter.WovenMarker} tells whether a class is already woven. The
 * bytecode checker the plugin and the check command run on woven classes is
 * {@link io.aioco.instrumenter.check.BytecodeVerifier}. No QEMU counterpart: QEMU's coroutines
 * need no compiler pass.
 *
 * <p>The sub-packages are internal (not API, may change with any release), in the order the
 * instrumenter uses them: {@code classfile} (reading class files, the hierarchy, which methods
 * are coroutine functions, the runtime's names, shared helpers), {@code analysis} (frames,
 * liveness, monitors), {@code rewrite} (the passes that turn one method into a state machine) and
 * {@code check} (the rule checker and the verifier). See instrumenter/DESIGN.md.
 */
package io.aioco.instrumenter;
