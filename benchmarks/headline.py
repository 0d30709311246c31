#!/usr/bin/env python3
"""Writes the headline chart (benchmarks/headline.svg) and prints the headline table (Markdown,
for the top of benchmarks/RESULTS.md) from the files benchmarks/headline.sh leaves in
benchmarks/results/: PREFIX-jdkNN-jmh.json (JMH's JSON), PREFIX-jdkNN-timer-K.txt
(TimerLatenessBench), PREFIX-jdkNN-coldstart.txt (ColdStartOverhead), PREFIX-meta.json and
PREFIX-load.txt. Python 3 standard library only.

Usage: python3 benchmarks/headline.py benchmarks/results/PREFIX [--svg FILE] [--md FILE]
(defaults: --svg benchmarks/headline.svg; the table goes to standard output, and to FILE with --md).

Ratios are aioco / baseline (below 1: aioco takes less time). A JMH score's ± is JMH's 99.9%
confidence half-width over all forks' iterations; a ratio's ± is propagated to first order from
both scores' (relative errors added in quadrature), so it is as rough as they are.
"""
import argparse
import html
import json
import math
import os
import re
import sys

B = "io.aioco.bench."

# The headline rows measured by JMH. Each: key, title, scenario, the aioco series and its baselines
# (label, benchmark, params), all in the same JMH run of the same JDK.
JMH_ROWS = [
    dict(key="d1", title="yield + resume, depth 1",
         scenario="one thread, warm: resume a coroutine that yields 1 instrumented frame deep (`CoroutineBenchmark.yieldResumeDepth1`)",
         aioco=(B + "coroutine.CoroutineBenchmark.yieldResumeDepth1", {}),
         baselines=[("Kotlin state machine", B + "coroutine.KotlinBaselineBenchmark.yieldResumeDepth1", {}),
                    ("Loom Continuation", B + "coroutine.LoomBaselineBenchmark.yieldResumeDepth1", {})]),
    dict(key="d10", title="yield + resume, depth 10",
         scenario="the same, the yield 10 instrumented frames deep (`yieldResumeDepth10`); a Kotlin resume runs only the innermost of its 10 state machines, aioco re-enters all 10 frames",
         aioco=(B + "coroutine.CoroutineBenchmark.yieldResumeDepth10", {}),
         baselines=[("Kotlin state machine", B + "coroutine.KotlinBaselineBenchmark.yieldResumeDepth10", {}),
                    ("Loom Continuation", B + "coroutine.LoomBaselineBenchmark.yieldResumeDepth10", {})]),
    dict(key="create", title="create + run + terminate",
         scenario="create a coroutine, enter it, it returns at once (QEMU's perf_lifecycle; `createEnterTerminate`)",
         aioco=(B + "coroutine.CoroutineBenchmark.createEnterTerminate", {}),
         baselines=[("Kotlin state machine", B + "coroutine.KotlinBaselineBenchmark.createEnterTerminate", {}),
                    ("Loom Continuation", B + "coroutine.LoomBaselineBenchmark.createEnterTerminate", {})]),
    dict(key="createyield", title="create + yield once + complete",
         scenario="create, enter, it yields, enter again, it returns (`createYieldOnceComplete`)",
         aioco=(B + "coroutine.CoroutineBenchmark.createYieldOnceComplete", {}),
         baselines=[("Kotlin state machine", B + "coroutine.KotlinBaselineBenchmark.createYieldOnceComplete", {}),
                    ("Loom Continuation", B + "coroutine.LoomBaselineBenchmark.createYieldOnceComplete", {})]),
    dict(key="handoff", title="CoMutex hand-off",
         scenario="two coroutines on one thread; the holder unlocks, the waiter gets the lock: an unlock, a lock that waits, two switches (`CoMutexBenchmark.contendedHandOff`)",
         aioco=(B + "locks.CoMutexBenchmark.contendedHandOff", {}),
         baselines=[]),
    dict(key="uncontended", title="CoMutex lock + unlock, uncontended",
         scenario="a free CoMutex, inside a coroutine, 100 per resume (`uncontendedLockUnlock`)",
         aioco=(B + "locks.CoMutexBenchmark.uncontendedLockUnlock", {}),
         baselines=[]),
    dict(key="bhlocal", title="bottom halves, same thread",
         scenario="tasks scheduled from the loop thread, per task: 100 batches of 1000, each batch scheduled by the last task of the one before, per pair of cross-thread wake-ups (`BottomHalfBench.loopThreadChainedBatch`; aioco on an IOThread, Netty `execute()` on its loop)",
         aioco=(B + "loop.BottomHalfBench.loopThreadChainedBatch", {"loop": "aioco"}),
         baselines=[("Netty NioEventLoop", B + "loop.BottomHalfBench.loopThreadChainedBatch", {"loop": "netty-nio"}),
                    ("Netty DefaultEventLoop", B + "loop.BottomHalfBench.loopThreadChainedBatch", {"loop": "netty-default"})]),
    dict(key="bhcross", title="bottom halves, cross thread",
         scenario="another thread hands 100,000 new one-shot tasks to a loop, then waits for the last, per task (`crossThreadOneshotStream`; aioco `scheduleOneshot`, Netty `execute()`)",
         aioco=(B + "loop.BottomHalfBench.crossThreadOneshotStream", {"loop": "aioco"}),
         baselines=[("Netty NioEventLoop", B + "loop.BottomHalfBench.crossThreadOneshotStream", {"loop": "netty-nio"}),
                    ("Netty DefaultEventLoop", B + "loop.BottomHalfBench.crossThreadOneshotStream", {"loop": "netty-default"})]),
    dict(key="wake", title="cross-thread wake round trip",
         scenario="two coroutines on two IOThreads wake each other (the IOThreads busy-poll up to 32.8 µs, then park), per round trip; baselines: the JMH thread and one long-lived thread on a volatile flag (`CrossThreadWakeBenchmark`)",
         aioco=(B + "locks.CrossThreadWakeBenchmark.ioThreadCoroutines", {}),
         baselines=[("park/unpark", B + "locks.CrossThreadWakeBenchmark.longLivedThreads", {"spinNs": "0"}),
                    ("spin 32.8 µs, then park", B + "locks.CrossThreadWakeBenchmark.longLivedThreads", {"spinNs": "32768"}),
                    ("virtual threads (2 started per 200 round trips)", B + "locks.CrossThreadWakeBenchmark.virtualThreadsParkUnpark", {})]),
]

# Figures from elsewhere, not measured by headline.sh: shown with their source and date.
QEMU_HANDOFF_NS = 26.0

COLORS = {
    "aioco": "#1f5fa8",
    "Loom Continuation": "#e07b00",
    "Kotlin state machine": "#7f52ff",
    "Netty NioEventLoop": "#2a9d3a",
    "Netty DefaultEventLoop": "#9bd49a",
    "park/unpark": "#c0392b",
    "spin 32.8 µs, then park": "#f1948a",
    "virtual threads (2 started per 200 round trips)": "#7d5ba6",
    "parkNanos": "#8c564b",
    "aioco, loop on this thread": "#1f5fa8",
    "aioco IOThread, armed on its thread": "#6fa8dc",
    "no agent": "#7f7f7f",
    "agent, later starts": "#1f5fa8",
    "agent, first start": "#6fa8dc",
}


def load_jmh(path):
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        data = json.load(f)
    out = {}
    for b in data:
        key = (b["benchmark"], tuple(sorted((b.get("params") or {}).items())))
        pm = b["primaryMetric"]
        out[key] = dict(score=float(pm["score"]), error=float(pm["scoreError"]), unit=pm["scoreUnit"], forks=b["forks"],
                        iterations=b["measurementIterations"], fork_means=[sum(r) / len(r) for r in pm["rawData"] if r])
    return out


def find(results, bench, params):
    return results.get((bench, tuple(sorted(params.items()))))


TIMER_LINE = re.compile(r"^\s+(.+?)\s+([0-9.]+) /\s+([0-9.]+)\s+\(")


def load_timer(path):
    """{delay_us: {row name: (p50, p99)}} from one TimerLatenessBench output."""
    if not os.path.exists(path):
        return None
    out = {}
    delay = None
    samples = None
    with open(path) as f:
        for line in f:
            m = re.match(r"^JDK .*?, (\d+) samples per row", line)
            if m:
                samples = int(m.group(1))
            m = re.match(r"^(\d+) us timer", line)
            if m:
                delay = int(m.group(1))
                out[delay] = {}
                continue
            m = TIMER_LINE.match(line)
            if m and delay is not None:
                out[delay][m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return dict(rows=out, samples=samples)


COLD_RUN = re.compile(r"^run (\d+): whole start: plain\s+([0-9.]+) ms, agent\s+([0-9.]+) ms, ratio ([0-9.]+); loading: plain\s+([0-9.]+) ms,\s+agent\s+([0-9.]+) ms, ratio ([0-9.]+)")


def load_cold(path):
    if not os.path.exists(path):
        return None
    runs = []
    first_empty = False
    with open(path) as f:
        for line in f:
            m = COLD_RUN.match(line)
            if m:
                runs.append(dict(plain=float(m.group(2)), agent=float(m.group(3)), ratio=float(m.group(4)),
                                 load_ratio=float(m.group(7))))
            if "(empty at the first run)" in line:
                first_empty = True
    if not runs:
        return None
    return dict(runs=runs, first_empty=first_empty)


def median(values):
    v = sorted(values)
    n = len(v)
    if n == 0:
        return float("nan")
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def fmt(x):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    if x == 0:
        return "0"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 100:
        return f"{x:.0f}"
    if a >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def fmt_score(r):
    unit = r["unit"].replace("/op", "").replace("us", "µs")
    err = r["error"]
    if err is None or math.isnan(err):
        return f"{fmt(r['score'])} {unit}"
    return f"{fmt(r['score'])} ± {fmt(err)} {unit}"


def ratio(a, b):
    """aioco / baseline and its first-order error, from two JMH results."""
    r = a["score"] / b["score"]
    ea, eb = a["error"], b["error"]
    if ea is None or eb is None or math.isnan(ea) or math.isnan(eb):
        return r, float("nan")
    return r, r * math.hypot(ea / a["score"], eb / b["score"])


def fmt_ratio(r, e):
    if math.isnan(e):
        return f"{r:.2f}x"
    return f"{r:.2f}x ± {e:.2f}"


def short_jdk(v):
    return v.split("+")[0] if v else "?"


# ---------------------------------------------------------------------------------------------
# the table

def table(prefix, meta, jmh, timers, colds, load):
    jdks = sorted(jmh.keys(), key=int)
    versions = meta.get("jdks", {})
    lines = []
    lines.append("| row | scenario | JDK | aioco | baseline | aioco / baseline | forks | same run |")
    lines.append("|---|---|---|---|---|---|---|---|")
    for row in JMH_ROWS:
        first = True
        for jdk in jdks:
            res = jmh[jdk]
            a = find(res, *row["aioco"])
            if a is None:
                continue
            base_cells, ratio_cells = [], []
            for label, bench, params in row["baselines"]:
                b = find(res, bench, params)
                if b is None:
                    continue
                base_cells.append(f"{label}: {fmt_score(b)}")
                ratio_cells.append(f"{fmt_ratio(*ratio(a, b))} ({label.split(' (')[0]})")
            same = "yes: one JMH run, the rows one after the other" if base_cells else "-"
            if row["key"] == "handoff":
                base_cells.append(f"QEMU's C CoMutex: {QEMU_HANDOFF_NS:.0f} ns, **from elsewhere** (the project's performance targets, not in this repository; not measured here; a hand-off between 2 threads, not 2 coroutines on one)")
                ratio_cells.append("none: a different scenario (2 threads there, 1 here), other machine and run")
                same = "no: QEMU's figure is from elsewhere"
            if row["key"] in ("d1", "d10", "create", "createyield") and jdk == "17":
                base_cells.append("Loom: none on JDK 17")
            if not base_cells:
                base_cells.append("none measured")
            forks = f"{a['forks']} forks x {a['iterations']} iterations"
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
                f"**{row['title']}**" if first else "", row["scenario"] if first else "", short_jdk(versions.get(jdk, jdk)),
                fmt_score(a), "; ".join(base_cells), "; ".join(ratio_cells) or "-", forks, same))
            first = False
    # timer lateness
    for delay, name in ((100, "timer lateness, 100 µs timer"), (1000, "timer lateness, 1 ms timer")):
        first = True
        for jdk in sorted(timers.keys(), key=int):
            runs = [t for t in timers[jdk] if t and delay in t["rows"]]
            if not runs:
                continue
            cells_a, cells_b, cells_r = [], [], []
            for label, rowname in (("loop on this thread", "aioco (loop on this thread)"),
                                   ("IOThread, armed on its thread", "aioco IOThread (armed on its thread)")):
                vals = [t["rows"][delay].get(rowname) for t in runs]
                cells_a.append(f"{label}: p50 " + ", ".join(fmt(v[0]) for v in vals) + " / p99 " + ", ".join(fmt(v[1]) for v in vals) + " µs")
                rs = []
                for t, v in zip(runs, vals):
                    p = t["rows"][delay]["parkNanos"]
                    rs.append(f"{v[0] / p[0]:.2f}x / {v[1] / p[1]:.2f}x")
                cells_r.append(f"{label}: " + ", ".join(rs))
            pvals = [t["rows"][delay]["parkNanos"] for t in runs]
            cells_b.append("`parkNanos`: p50 " + ", ".join(fmt(v[0]) for v in pvals) + " / p99 " + ", ".join(fmt(v[1]) for v in pvals) + " µs")
            samples = runs[0]["samples"]
            lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
                f"**{name}**" if first else "",
                ("fire time minus deadline, measured in the callback; p50 / p99 of each JVM run, two runs (`TimerLatenessBench`, a main program, not JMH)" if first else ""),
                short_jdk(versions.get(jdk, jdk)), "; ".join(cells_a), "; ".join(cells_b),
                "p50 / p99 ratios, per run: " + "; ".join(cells_r),
                f"{len(runs)} JVMs x {samples} samples", "yes: rows take turns sample by sample in each JVM"))
            first = False
    # the agent's start
    first = True
    for jdk in sorted(colds.keys(), key=int):
        c = colds[jdk]
        if not c:
            continue
        runs = c["runs"]
        later = runs[1:] if c["first_empty"] else runs
        ratios = [r["ratio"] for r in later]
        cell_a = (f"whole start with `-javaagent` (cache filled): median {fmt(median([r['agent'] for r in later]))} ms"
                  + (f"; first start (empty cache) {fmt(runs[0]['agent'])} ms" if c["first_empty"] else ""))
        cell_b = f"no agent: median {fmt(median([r['plain'] for r in later]))} ms"
        cell_r = (f"later starts: median {median(ratios):.3f}x (min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(later)} pairs"
                  + (f"; first start {runs[0]['ratio']:.3f}x" if c["first_empty"] else ""))
        lines.append("| {} | {} | {} | {} | {} | {} | {} | {} |".format(
            "**the agent's start overhead**" if first else "",
            ("fresh JVMs each loading all ~14,400 classes of the 20 corpus jars from the class path, with and without the agent, alternately; the whole start as the parent sees it (JVM start, premain, loading, exit) (`ColdStartOverhead`)" if first else ""),
            short_jdk(versions.get(jdk, jdk)), cell_a, cell_b, cell_r, f"{2 * len(runs)} JVMs ({len(runs)} pairs)",
            "yes: pairs alternate which goes first"))
        first = False
    lines.append("| **NBD server vs qemu-nbd** | fio 3.33 `nbd` engine, one connection, 256 MiB raw image: 4 KiB random read / write at depth 16, 1 MiB sequential read at depth 4 (`nbd-bench.sh 10 3`) | 17.0.15 | 21,598 IOPS / 23,577 IOPS / 1,146 MiB/s | qemu-nbd 7.2.22: 22,004 / 23,367 / 588 | 0.98x / 1.01x / 1.95x (throughput: above 1 is better) | 3 runs of 10 s per server, medians | **from elsewhere: 2026-11-22 02:44-02:48 UTC, not rerun** (the NBD server has changed since); servers alternated |")
    lines.append("| **echo ping-pong** | TCP echo, 1-1,000 connections, 64 B and 16 KiB, client and server JVMs on one machine (`echo-bench.sh`) | 25.0.3, 17.0.15 | see \"Echo ping-pong\" below | virtual threads, platform threads, Netty NIO and epoll | **none: smoke runs only** (3 s rows under load 9-23), not results | - | **smoke only** (2026-12-07 05:48-07:53 UTC) |")
    return "\n".join(lines)


def header(prefix, meta, load, jmh):
    versions = meta.get("jdks", {})
    steps = meta.get("steps", [])
    start = steps[0]["start"] if steps else "?"
    end = steps[-1]["end"] if steps else "?"
    loads = [float(x.split()[1]) for x in load] if load else []
    jvms = [int(m.group(1)) for m in (re.search(r"jvms=(\d+)", x) for x in load) if m]
    l_start = steps[0]["load_start"].split()[0] if steps else "?"
    l_end = steps[-1]["load_end"].split()[0] if steps else "?"
    cmds = "\n".join("    " + s["command"] for s in steps if s["step"].endswith("jmh") or s["step"].endswith("timer 1") or s["step"].endswith("coldstart"))
    failed = [s["step"] for s in steps if s.get("exit", 0) != 0]
    text = []
    text.append(f"Run: `{meta.get('invocation', 'benchmarks/headline.sh')}` at commit {meta.get('commit', '?')}, {start[:10]} {start[11:16]}-{end[11:16]} UTC, "
                f"on {meta.get('machine', '?')}; JDK " + " and ".join(versions[k] for k in sorted(versions, key=int))
                + f"; JMH `{meta.get('jmh_options', '?')}`, under the agent (`cache=off`). "
                f"**Under load**: load average {l_start} at the start and {l_end} at the end"
                + (f", {min(loads):.1f}-{max(loads):.1f} in samples every 15 s" if loads else "")
                + (f", with {min(jvms)}-{max(jvms)} JVMs on the machine (counting this run's own)" if jvms else "")
                + f", on {meta.get('machine', '?').split(',')[0]}: read ratios within a run, not absolute figures.")
    text.append("")
    text.append("Commands (from the repository root; `headline.sh` runs them all, then "
                f"`python3 benchmarks/headline.py benchmarks/results/{prefix}` writes this table and the chart):")
    text.append("")
    text.append(cmds)
    text.append("")
    kotlin = any(find(res, B + "coroutine.KotlinBaselineBenchmark." + m, {}) for res in jmh.values()
                 for m in ("yieldResumeDepth1", "yieldResumeDepth10", "createEnterTerminate", "createYieldOnceComplete"))
    text.append("Not measured by this run: "
                + ("" if kotlin else "Kotlin's state machines (no `KotlinBaselineBenchmark` rows in this run), ")
                + "QEMU's C CoMutex (its figure is quoted), the NBD server against qemu-nbd and the echo servers "
                "(rows marked below).")
    if failed:
        text.append("")
        text.append("Steps that failed: " + ", ".join(failed))
    return "\n".join(text)


# ---------------------------------------------------------------------------------------------
# the chart

def svg_chart(prefix, meta, jmh, timers, colds, load, path):
    versions = meta.get("jdks", {})
    jdks = sorted(set(jmh.keys()) | set(timers.keys()) | set(colds.keys()), key=int)
    panels = []  # (title, unit, note, {series: {jdk: (value, lo, hi)}}, reference)
    for row in JMH_ROWS:
        series = {}
        unit = None
        for jdk in jdks:
            res = jmh.get(jdk, {})
            for label, (bench, params) in [("aioco", row["aioco"])] + [(l, (b, p)) for l, b, p in row["baselines"]]:
                r = find(res, bench, params)
                if r is None:
                    series.setdefault(label, {})
                    continue
                unit = r["unit"].replace("us", "µs")
                e = r["error"] if r["error"] is not None and not math.isnan(r["error"]) else 0.0
                series.setdefault(label, {})[jdk] = (r["score"], max(0.0, r["score"] - e), r["score"] + e)
        series = {k: v for k, v in series.items() if v}
        if not series:
            continue
        ref = (QEMU_HANDOFF_NS, "QEMU C 26 ns (from elsewhere)") if row["key"] == "handoff" else None
        panels.append((row["title"], unit or "", "whiskers: JMH 99.9% CI", series, ref))
    for delay, name in ((100, "timer lateness p99, 100 µs timer"), (1000, "timer lateness p99, 1 ms timer")):
        series = {}
        for jdk in jdks:
            runs = [t for t in timers.get(jdk, []) if t and delay in t["rows"]]
            if not runs:
                continue
            for label, rowname in (("parkNanos", "parkNanos"), ("aioco, loop on this thread", "aioco (loop on this thread)"),
                                   ("aioco IOThread, armed on its thread", "aioco IOThread (armed on its thread)")):
                vals = [t["rows"][delay][rowname][1] for t in runs if rowname in t["rows"][delay]]
                if vals:
                    series.setdefault(label, {})[jdk] = (sum(vals) / len(vals), min(vals), max(vals))
        if series:
            panels.append((name, "µs", "bar: mean of 2 JVM runs; whiskers: the runs", series, None))
    series = {}
    for jdk in jdks:
        c = colds.get(jdk)
        if not c:
            continue
        later = c["runs"][1:] if c["first_empty"] else c["runs"]
        pl = [r["plain"] for r in later]
        ag = [r["agent"] for r in later]
        series.setdefault("no agent", {})[jdk] = (median(pl), min(pl), max(pl))
        series.setdefault("agent, later starts", {})[jdk] = (median(ag), min(ag), max(ag))
        if c["first_empty"]:
            v = c["runs"][0]["agent"]
            series.setdefault("agent, first start", {})[jdk] = (v, v, v)
    if series:
        panels.append(("whole start, corpus loaded (fresh JVMs)", "ms", "bar: median; whiskers: min-max", series, None))

    cols = 3
    pw, ph = 420, 300
    top = 78
    rows = (len(panels) + cols - 1) // cols
    width = cols * pw + 20
    height = top + rows * ph + 20
    steps = meta.get("steps", [])
    start = steps[0]["start"] if steps else "?"
    end = steps[-1]["end"] if steps else "?"
    loads = [float(x.split()[1]) for x in load] if load else []
    out = []
    out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif">')
    out.append(f'<rect width="{width}" height="{height}" fill="white"/>')
    title = (f"aioco against its baselines, {start[:10]} {start[11:16]}-{end[11:16]} UTC, JDK "
             + " and ".join(versions[k] for k in sorted(versions, key=int)))
    out.append(f'<text x="12" y="24" font-size="17" font-weight="bold">{html.escape(title)}</text>')
    sub = (f"JMH {meta.get('jmh_options', '')}, commit {meta.get('commit', '?')}, {meta.get('machine', '')}; "
           + (f"under load: load average {min(loads):.1f}-{max(loads):.1f}" if loads else "")
           + "; lower is better everywhere")
    out.append(f'<text x="12" y="44" font-size="12">{html.escape(sub)}</text>')
    out.append('<text x="12" y="62" font-size="12">Within a panel, a JDK\'s bars come from the same run; '
               'JDK 17 has no Loom Continuation nor virtual threads. Figures: benchmarks/RESULTS.md.</text>')
    for i, (ptitle, unit, note, series, ref) in enumerate(panels):
        x0 = 10 + (i % cols) * pw
        y0 = top + (i // cols) * ph
        out.extend(panel(x0, y0, pw - 14, ph - 14, ptitle, unit, note, series, ref, jdks, versions))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def nice_scale(v):
    """(top, step): a round step (1, 2, 2.5 or 5 times a power of ten) giving at most 5 intervals."""
    if v <= 0:
        return 1.0, 0.25
    raw = v / 5
    e = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if m * e >= raw:
            step = m * e
            break
    return math.ceil(v / step) * step, step


def panel(x0, y0, w, h, title, unit, note, series, ref, jdks, versions):
    o = []
    o.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{h}" fill="#fafafa" stroke="#ddd"/>')
    o.append(f'<text x="{x0 + 8}" y="{y0 + 18}" font-size="13" font-weight="bold">{html.escape(title)}</text>')
    o.append(f'<text x="{x0 + 8}" y="{y0 + 33}" font-size="10" fill="#555">{html.escape(unit)}; {html.escape(note)}</text>')
    names = list(series.keys())
    # legend at the bottom, two per line
    leg_cols = 1 if any(len(n) > 30 for n in names) else 2
    leg_lines = (len(names) + leg_cols - 1) // leg_cols
    leg_h = 14 * leg_lines + 4
    px, py = x0 + 46, y0 + 44
    pw, ph = w - 56, h - 44 - 22 - leg_h
    vmax = max([hi for s in series.values() for (_, _, hi) in s.values()] + [ref[0] if ref else 0])
    vmax, step = nice_scale(vmax * 1.08)
    for k in range(int(round(vmax / step)) + 1):
        v = step * k
        y = py + ph - ph * v / vmax
        o.append(f'<line x1="{px}" y1="{y:.1f}" x2="{px + pw}" y2="{y:.1f}" stroke="#e4e4e4"/>')
        label = f"{v:,.0f}" if step >= 1 and step == int(step) else fmt(v)
        o.append(f'<text x="{px - 4}" y="{y + 3:.1f}" font-size="9" text-anchor="end" fill="#555">{label}</text>')
    o.append(f'<line x1="{px}" y1="{py + ph}" x2="{px + pw}" y2="{py + ph}" stroke="#888"/>')
    gw = pw / max(1, len(jdks))
    nb = len(names)
    bw = min(34.0, (gw - 16) / max(1, nb))
    for j, jdk in enumerate(jdks):
        gx = px + j * gw + (gw - bw * nb) / 2
        o.append(f'<text x="{px + j * gw + gw / 2:.1f}" y="{py + ph + 14}" font-size="11" text-anchor="middle">JDK {html.escape(versions.get(jdk, jdk).split("+")[0])}</text>')
        for s, name in enumerate(names):
            bx = gx + s * bw
            color = COLORS.get(name, "#999")
            val = series[name].get(jdk)
            if val is None:
                o.append(f'<text x="{bx + bw / 2:.1f}" y="{py + ph - 4}" font-size="8" text-anchor="middle" fill="#999">n/a</text>')
                continue
            v, lo, hi = val
            bh = ph * v / vmax
            o.append(f'<rect x="{bx + 1:.1f}" y="{py + ph - bh:.1f}" width="{bw - 2:.1f}" height="{bh:.1f}" fill="{color}"><title>{html.escape(name)}, JDK {html.escape(jdk)}: {fmt(v)} {html.escape(unit)} ({fmt(lo)}-{fmt(hi)})</title></rect>')
            if hi > lo:
                cx = bx + bw / 2
                ylo, yhi = py + ph - ph * lo / vmax, py + ph - ph * hi / vmax
                o.append(f'<line x1="{cx:.1f}" y1="{ylo:.1f}" x2="{cx:.1f}" y2="{yhi:.1f}" stroke="#222"/>')
                o.append(f'<line x1="{cx - 4:.1f}" y1="{yhi:.1f}" x2="{cx + 4:.1f}" y2="{yhi:.1f}" stroke="#222"/>')
                o.append(f'<line x1="{cx - 4:.1f}" y1="{ylo:.1f}" x2="{cx + 4:.1f}" y2="{ylo:.1f}" stroke="#222"/>')
            ty = py + ph - ph * hi / vmax - 3
            o.append(f'<text x="{bx + bw / 2:.1f}" y="{ty:.1f}" font-size="8.5" text-anchor="middle">{fmt(v)}</text>')
    if ref:
        y = py + ph - ph * ref[0] / vmax
        o.append(f'<line x1="{px}" y1="{y:.1f}" x2="{px + pw}" y2="{y:.1f}" stroke="#b03a2e" stroke-dasharray="5,3"/>')
        o.append(f'<text x="{px + 4}" y="{y - 3:.1f}" font-size="9" fill="#b03a2e">{html.escape(ref[1])}</text>')
    ly = py + ph + 22
    for s, name in enumerate(names):
        lx = x0 + 10 + (s % leg_cols) * (w / 2)
        yy = ly + (s // leg_cols) * 14
        o.append(f'<rect x="{lx:.1f}" y="{yy}" width="10" height="10" fill="{COLORS.get(name, "#999")}"/>')
        o.append(f'<text x="{lx + 14:.1f}" y="{yy + 9}" font-size="10">{html.escape(name)}</text>')
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("prefix", help="benchmarks/results/PREFIX (the files headline.sh wrote)")
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--svg", default=os.path.join(here, "headline.svg"))
    ap.add_argument("--md", default=None)
    args = ap.parse_args()
    prefix = args.prefix
    name = os.path.basename(prefix)
    meta_path = prefix + "-meta.json"
    meta = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    load = []
    if os.path.exists(prefix + "-load.txt"):
        load = [l for l in open(prefix + "-load.txt").read().splitlines() if l.strip()]
    jdks = sorted(meta.get("jdks", {}).keys() or ["17", "25"], key=int)
    jmh = {j: load_jmh(f"{prefix}-jdk{j}-jmh.json") for j in jdks}
    jmh = {j: r for j, r in jmh.items() if r}
    timers = {j: [load_timer(f"{prefix}-jdk{j}-timer-{k}.txt") for k in (1, 2)] for j in jdks}
    timers = {j: [t for t in ts if t] for j, ts in timers.items() if any(ts)}
    colds = {j: load_cold(f"{prefix}-jdk{j}-coldstart.txt") for j in jdks}
    colds = {j: c for j, c in colds.items() if c}
    if not jmh and not timers and not colds:
        sys.exit(f"headline.py: no results under {prefix}-*")
    svg_chart(name, meta, jmh, timers, colds, load, args.svg)
    md = header(name, meta, load, jmh) + "\n\n" + table(name, meta, jmh, timers, colds, load) + "\n"
    if args.md:
        with open(args.md, "w") as f:
            f.write(md)
    sys.stdout.write(md)


if __name__ == "__main__":
    main()
