/**
 * Internal, not API (public only so that {@link io.aioco.instrumenter.Instrumenter} can drive it):
 * the rewrite of one coroutine function into a resumable state machine.
 * {@link io.aioco.instrumenter.rewrite.MethodRewrite} runs the passes in this order:
 * <ol>
 *   <li>refuse a method with too many parameters; {@link io.aioco.instrumenter.rewrite.StateBase}:
 *       the first state number, hashed from the original code;
 *   <li>inline JSR/RET subroutines (ASM's {@code JSRInlinerAdapter}), collect the suspension
 *       points, refuse those inside {@code synchronized} (analysis {@code MonitorRegions});
 *   <li>{@link io.aioco.instrumenter.rewrite.WrapperSplit}: the wrapper with the original
 *       signature, and the body that takes the coroutine's stack and the signal;
 *   <li>analysis {@code FrameAnalysis}, then {@link io.aioco.instrumenter.rewrite.UninitializedObjects}:
 *       allocations whose constructor arguments suspend move to the constructor call;
 *   <li>analysis {@code Liveness}: each {@link io.aioco.instrumenter.rewrite.SuspensionPoint}
 *       with its live locals and stack;
 *   <li>{@link io.aioco.instrumenter.rewrite.StateMachine} (values saved and restored by
 *       {@link io.aioco.instrumenter.rewrite.SlotCodec}): prologue, suspend and resume blocks,
 *       dispatch; again on a copy for the fresh body.
 * </ol>
 * Then, on the finished class, {@link io.aioco.instrumenter.rewrite.LocalDirectCalls}.
 */
package io.aioco.instrumenter.rewrite;
