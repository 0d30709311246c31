/**
 * Internal, not API (public only so that the instrumenter's other packages can use it): the
 * analyses of one method's code that the rewrite and the verifier read, and never change it.
 * {@link io.aioco.instrumenter.analysis.MonitorRegions} (monitors held at each instruction, to
 * refuse a suspension inside {@code synchronized}), {@link io.aioco.instrumenter.analysis.FrameAnalysis}
 * (the type of every slot and the control-flow graph, with the hierarchy read from class bytes)
 * and {@link io.aioco.instrumenter.analysis.Liveness} (the locals live at each instruction: only
 * those are saved).
 */
package io.aioco.instrumenter.analysis;
