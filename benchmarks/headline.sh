#!/usr/bin/env bash
# headline.sh: runs exactly the rows of the headline table at the top of benchmarks/RESULTS.md, on
# JDK 17 and JDK 25, and keeps the raw results in benchmarks/results/ for headline.py (which writes
# the table and benchmarks/headline.svg from them). Per JDK:
#   1. one JMH run, every row with 2 forks (the include regexes below), under the agent
#      (cache=off), JSON out: PREFIX-jdkNN-jmh.json (the console log: PREFIX-jdkNN-jmh.log);
#   2. TimerLatenessBench twice, each in a JVM of its own (a main program: percentiles over whole
#      samples, not JMH): PREFIX-jdkNN-timer-1.txt and -2.txt;
#   3. ColdStartOverhead (fresh JVMs loading the corpus, with and without the agent, alternately;
#      its startup cache starts empty, so the first pair is a first start): PREFIX-jdkNN-coldstart.txt.
# PREFIX-meta.json records the commit, the JDKs, the commands, the times and the load average
# (/proc/loadavg at the start and end of each step, and sampled every 15 s meanwhile).
#
# Builds nothing: first `mvn -B -o -q package -pl agent,benchmarks,corpus-test -am -DskipTests`
# (corpus-test copies the corpus jars that ColdStartOverhead loads to corpus-test/target/corpus).
#
# Usage: benchmarks/headline.sh [-j "17 25"] [-o DIR] [-p PREFIX] [-J "JMH OPTIONS"] [-x REGEX]...
#                               [-t SAMPLES] [-c RUNS] [-T] [-C]
#   -j  JDKs (default "17 25"): 17 is $JAVA17_HOME or the PATH's java, 25 is $JAVA25_HOME or
#       /usr/lib/jvm/temurin-25-jdk-amd64
#   -o  output folder (default benchmarks/results)    -p  file prefix (default: today, UTC, YYYY-MM-DD)
#   -J  JMH options (default "-f 2 -wi 3 -w 1s -i 5 -r 1s": about 7 minutes for JDK 25's 24 rows,
#       5.5 for JDK 17's 19; the timer and cold-start steps add 1.5-3 minutes per JDK)
#   -x  an include regex instead of the headline ones (repeatable; for a short test run)
#   -t  TimerLatenessBench samples per row (default 2000)   -c  ColdStartOverhead runs (default 5)
#   -T  skip TimerLatenessBench                             -C  skip ColdStartOverhead
# A short test: benchmarks/headline.sh -o /tmp/hl -J "-f 2 -wi 1 -i 1 -w 200ms -r 200ms" \
#     -x 'CoroutineBenchmark\.yieldResumeDepth1$' -t 200 -c 2
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quote() { # an argument as a shell would need it, quoted only when it has to be
    if [[ "$1" =~ ^[A-Za-z0-9_./=:,+@-]+$ ]]; then printf '%s' "$1"; else printf "'%s'" "$1"; fi
}
invocation="benchmarks/headline.sh"
for a in "$@"; do invocation+=" $(quote "$a")"; done
jdks="17 25"
out="$root/benchmarks/results"
prefix="$(date -u +%F)"
jmh_opts="-f 2 -wi 3 -w 1s -i 5 -r 1s"
includes=()
timer_samples=2000
cold_runs=5
run_timer=1
run_cold=1
while getopts "j:o:p:J:x:t:c:TCh" opt; do
    case "$opt" in
        j) jdks="$OPTARG" ;;
        o) out="$OPTARG" ;;
        p) prefix="$OPTARG" ;;
        J) jmh_opts="$OPTARG" ;;
        x) includes+=("$OPTARG") ;;
        t) timer_samples="$OPTARG" ;;
        c) cold_runs="$OPTARG" ;;
        T) run_timer=0 ;;
        C) run_cold=0 ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 64 ;;
    esac
done

# The headline rows. JMH matches each regex anywhere in the benchmark's full name.
headline_common=(
    'io\.aioco\.bench\.coroutine\.CoroutineBenchmark\.(yieldResumeDepth1|yieldResumeDepth10|createEnterTerminate|createYieldOnceComplete)$'
    # the Kotlin baseline of the four rows above: Kotlin's state machines, standard library only
    'io\.aioco\.bench\.coroutine\.KotlinBaselineBenchmark\.(yieldResumeDepth1|yieldResumeDepth10|createEnterTerminate|createYieldOnceComplete)$'
    'io\.aioco\.bench\.locks\.CoMutexBenchmark\.(contendedHandOff|uncontendedLockUnlock)$'
    'io\.aioco\.bench\.loop\.BottomHalfBench\.(loopThreadChainedBatch|crossThreadOneshotStream)$'
    'io\.aioco\.bench\.locks\.CrossThreadWakeBenchmark\.(ioThreadCoroutines|longLivedThreads)$'
)
# JDK 21+ only: Loom's Continuation, and virtual threads (started per invocation: see the class)
headline_loom=(
    'io\.aioco\.bench\.coroutine\.LoomBaselineBenchmark\.(yieldResumeDepth1|yieldResumeDepth10|createEnterTerminate|createYieldOnceComplete)$'
    'io\.aioco\.bench\.locks\.CrossThreadWakeBenchmark\.virtualThreadsParkUnpark$'
)

java25="${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
if [[ -n "${JAVA17_HOME:-}" ]]; then java17="$JAVA17_HOME/bin/java"; else java17="$(command -v java)"; fi
jar="$root/benchmarks/target/aioco-benchmarks-jmh.jar"
agent="$root/agent/target/aioco-agent.jar"
corpus="$root/corpus-test/target/corpus"
for f in "$jar" "$agent"; do
    [[ -f "$f" ]] || { echo "headline: $f is missing: build first (see the top of this script)" >&2; exit 1; }
done
if [[ "$run_cold" == 1 && ! -d "$corpus" ]]; then
    echo "headline: $corpus is missing: build corpus-test first (see the top of this script), or pass -C" >&2
    exit 1
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$root"

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
now() { date -u +%FT%TZ; }
json_str() { # a JSON string literal
    local s="${1//\\/\\\\}"
    s="${s//\"/\\\"}"
    printf '"%s"' "$s"
}

loadlog="$out/$prefix-load.txt"
: > "$loadlog"
# each line: time, the three load averages, and how many JVMs run on the machine (this run's included)
( while true; do echo "$(now) $(loadavg) jvms=$(pgrep -c -x java || true)" >> "$loadlog"; sleep 15; done ) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

exec 3>&2
# JMH refuses to start while another JMH run (of any user of this machine) holds /tmp/jmh.lock:
# wait for it (up to 15 minutes) rather than run two benchmarks at once.
jmh_waiting() { # log file, command...
    local log="$1"; shift
    local tries=0
    while true; do
        "$@" > "$log" 2>&1 && return 0
        if grep -q 'Unable to acquire the JMH lock' "$log" && [[ $tries -lt 90 ]]; then
            tries=$((tries + 1))
            echo "   another JMH run holds /tmp/jmh.lock; waiting ($tries)" >&3
            sleep 10
        else
            return 1
        fi
    done
}
steps=()
step() { # name, command...: runs the command, records its times and load average
    local name="$1"; shift
    local t0 l0 t1 l1 status=0
    t0="$(now)"; l0="$(loadavg)"
    echo "== $name ($t0, load average $l0)" >&3
    "$@" || status=$?
    t1="$(now)"; l1="$(loadavg)"
    local cmd=""
    for a in "$@"; do cmd+="${cmd:+ }$(quote "$a")"; done
    cmd="${cmd//$root\//}"
    cmd="${cmd#jmh_waiting * }"
    steps+=("{\"step\": $(json_str "$name"), \"start\": \"$t0\", \"end\": \"$t1\", \"load_start\": \"$l0\", \"load_end\": \"$l1\", \"exit\": $status, \"command\": $(json_str "$cmd")}")
    return 0
}

jdk_versions=()
for jdk in $jdks; do
    case "$jdk" in
        17) java="$java17" ;;
        25) java="$java25" ;;
        *) echo "headline: unknown JDK $jdk (17 or 25)" >&2; exit 64 ;;
    esac
    [[ -x "$java" ]] || { echo "headline: no JDK $jdk at $java" >&2; exit 1; }
    version="$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.runtime\.version = //p')"
    jdk_versions+=("\"$jdk\": $(json_str "$version")")
    jvm=("$java")
    regexes=("${includes[@]}")
    if [[ ${#includes[@]} -eq 0 ]]; then
        regexes=("${headline_common[@]}")
        if [[ "$jdk" != 17 ]]; then regexes+=("${headline_loom[@]}"); fi
    fi
    jmh_extra=()
    if [[ "$jdk" != 17 ]]; then
        # Loom's Continuation is internal: exported to the JMH host and its forks
        jvm+=(--add-exports java.base/jdk.internal.vm=ALL-UNNAMED)
        jmh_extra=(-jvmArgsAppend --add-exports=java.base/jdk.internal.vm=ALL-UNNAMED)
    fi
    # shellcheck disable=SC2206
    opts=($jmh_opts)
    step "jdk$jdk jmh" jmh_waiting "$out/$prefix-jdk$jdk-jmh.log" \
        "${jvm[@]}" -javaagent:agent/target/aioco-agent.jar=cache=off \
        -jar benchmarks/target/aioco-benchmarks-jmh.jar "${regexes[@]}" "${opts[@]}" "${jmh_extra[@]}" \
        -rf json -rff "$out/$prefix-jdk$jdk-jmh.json"
    sed -n '/^Benchmark /,$p' "$out/$prefix-jdk$jdk-jmh.log" >&2
    if [[ "$run_timer" == 1 ]]; then
        for k in 1 2; do
            step "jdk$jdk timer $k" "$java" -cp "$jar" io.aioco.bench.loop.TimerLatenessBench "$timer_samples" \
                > "$out/$prefix-jdk$jdk-timer-$k.txt" 2>&1
        done
    fi
    if [[ "$run_cold" == 1 ]]; then
        step "jdk$jdk coldstart" "$java" -cp "$jar" io.aioco.bench.agent.ColdStartOverhead --runs "$cold_runs" \
            --agent "$agent" "$corpus" > "$out/$prefix-jdk$jdk-coldstart.txt" 2>&1
    fi
done

commit="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [[ -n "$(git -C "$root" status --porcelain --untracked-files=no -- runtime instrumenter agent benchmarks/src 2>/dev/null)" ]]; then
    commit+=" (with uncommitted changes)"
fi
{
    echo "{"
    echo "  \"prefix\": $(json_str "$prefix"),"
    echo "  \"commit\": $(json_str "$commit"),"
    echo "  \"invocation\": $(json_str "$invocation"),"
    echo "  \"machine\": $(json_str "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"),"
    echo "  \"jmh_options\": $(json_str "$jmh_opts"),"
    echo "  \"timer_samples\": $timer_samples,"
    echo "  \"coldstart_runs\": $cold_runs,"
    echo "  \"jdks\": {$(IFS=,; echo "${jdk_versions[*]}")},"
    echo "  \"steps\": ["
    for i in "${!steps[@]}"; do
        sep=","; [[ $i -eq $((${#steps[@]} - 1)) ]] && sep=""
        echo "    ${steps[$i]}$sep"
    done
    echo "  ]"
    echo "}"
} > "$out/$prefix-meta.json"
echo "headline: results in $out/$prefix-*; next: python3 benchmarks/headline.py $out/$prefix" >&2
