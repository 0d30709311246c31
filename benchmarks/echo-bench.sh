#!/usr/bin/env bash
# echo-bench.sh: the echo ping-pong benchmark of issue 21. Each server (io.aioco.bench.echo.EchoServer:
# aioco with one IOThread, aioco with N, virtual threads, platform threads, Netty NIO, Netty native
# epoll) runs in its own JVM; for every row a fresh client JVM (io.aioco.bench.echo.EchoClient) drives
# C connections in closed loop, one S-byte message in flight on each, and reports round trips per
# second, latency percentiles, and the CPU time the server and the client spent per round trip
# (user + system, over the measured seconds: less dependent on the machine's load). Each server is warmed up first by an unreported client run (50
# connections of 64 B for WARMUP seconds); each row then has its own WARMUP seconds that are not
# counted. Prints one Markdown table for benchmarks/RESULTS.md.
#
# Builds nothing: run the README's build first (mvn -B -q install -DskipTests, or at least
# `mvn -B -q package -pl benchmarks -am -DskipTests`), which leaves agent/target/aioco-agent.jar and
# benchmarks/target/aioco-benchmarks-jmh.jar.
#
# Usage: benchmarks/echo-bench.sh [-s SECONDS] [-w WARMUP] [-i "IMPLS"] [-c "CONNS"] [-z "SIZES"]
#                                 [-n N] [-j "JDKS"]
#   -s  measured seconds per row (default 10)      -w  warm-up seconds per row, not counted (default 5;
#       the 1,000-connection rows were still ramping up after 1 s in the first runs)
#   -i  servers (default "aioco aioco-n vthreads threads netty-nio netty-epoll"; also "aioco-n-conn":
#       aioco-n with a read buffer per connection instead of per IOThread, see AiocoEchoServer, and
#       "aioco-n-nopoll": aioco-n with the IOThreads' adaptive polling off, and "aioco-n-drain":
#       aioco-n reading until read returns 0 before it waits, as the servers did before 2026-12-07)
#   -c  connection counts (default "1 50 1000")    -z  message sizes in bytes (default "64 16384")
#   -n  N: IOThreads of aioco-n, carriers of vthreads, worker event loops of Netty (default: nproc)
#   -j  JDKs to run the servers on, "25" and/or "17" (default "25"; vthreads is skipped on 17)
# The client always runs on JDK 25, so that only the server changes between rows. JDK 25 is taken
# from $JAVA25_HOME (default /usr/lib/jvm/temurin-25-jdk-amd64), JDK 17 from $JAVA17_HOME (default:
# the `java` on the PATH). Uses 127.0.0.1, ports from 11900 up.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs=10
warmup=5
impls="aioco aioco-n vthreads threads netty-nio netty-epoll"
conns_list="1 50 1000"
sizes="64 16384"
n="$(nproc)"
jdks="25"
while getopts "s:w:i:c:z:n:j:h" opt; do
    case "$opt" in
        s) secs="$OPTARG" ;;
        w) warmup="$OPTARG" ;;
        i) impls="$OPTARG" ;;
        c) conns_list="$OPTARG" ;;
        z) sizes="$OPTARG" ;;
        n) n="$OPTARG" ;;
        j) jdks="$OPTARG" ;;
        *) sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 64 ;;
    esac
done

java25="${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
if [[ -n "${JAVA17_HOME:-}" ]]; then java17="$JAVA17_HOME/bin/java"; else java17="$(command -v java)"; fi
jar="$root/benchmarks/target/aioco-benchmarks-jmh.jar"
agent="$root/agent/target/aioco-agent.jar"
for f in "$jar" "$agent"; do
    [[ -f "$f" ]] || { echo "echo-bench: $f is missing: build first (see the top of this script)" >&2; exit 1; }
done
[[ -x "$java25" ]] || { echo "echo-bench: no JDK 25 at $java25 (set JAVA25_HOME)" >&2; exit 1; }

work="$(mktemp -d /tmp/echo-bench.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# Stops the server started last, if it still runs.
stop_server() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=""
    fi
}

# start_server JAVA IMPL PORT -> 0 when it listens, 2 when unavailable here (reason in $work/server.log)
start_server() {
    local java="$1" impl="$2" port="$3" flags=()
    if [[ "$impl" == aioco* ]]; then flags+=("-javaagent:$agent=cache=off"); fi
    "$java" -Xms256m -Xmx1g "${flags[@]}" -cp "$jar" io.aioco.bench.echo.EchoServer \
        --impl "$impl" --port "$port" --threads "$n" > "$work/server.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 300); do
        if grep -q '^listening on' "$work/server.log"; then return 0; fi
        if ! kill -0 "$server_pid" 2>/dev/null; then
            wait "$server_pid" 2>/dev/null && rc=0 || rc=$?
            server_pid=""
            [[ "$rc" == 2 ]] && return 2
            echo "echo-bench: server $impl failed to start:" >&2; cat "$work/server.log" >&2; return 1
        fi
        sleep 0.1
    done
    echo "echo-bench: server $impl did not listen within 30 s" >&2
    return 1
}

# field NAME LINE -> the value of NAME=VALUE in LINE
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

echo "echo ping-pong, client and server in separate JVMs on one machine ($(nproc) cores; load average at start:"\
     "$(cut -d' ' -f1-3 /proc/loadavg)); N = $n; ${warmup}s warm-up + ${secs}s measured per row;"\
     "client on $("$java25" -version 2>&1 | head -1); $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| server | JDK | conns | size | round trips/s | p50 µs | p99 µs | p99.9 µs | server CPU µs/rt | client CPU µs/rt |"
echo "|---|---|---|---|---|---|---|---|---|---|"
port=11900
for jdk in $jdks; do
    case "$jdk" in
        25) java="$java25" ;;
        17) java="$java17" ;;
        *) echo "echo-bench: -j takes 25 and/or 17, not $jdk" >&2; exit 64 ;;
    esac
    jdk_name="$("$java" -version 2>&1 | head -1 | sed -E 's/.*version "([^"]+)".*/\1/')"
    for impl in $impls; do
        port=$((port + 1))
        label="$impl"
        case "$impl" in aioco-n|aioco-n-conn|aioco-n-nopoll|aioco-n-drain|vthreads|netty-nio|netty-epoll) label="$impl (N=$n)" ;; esac
        rc=0
        start_server "$java" "$impl" "$port" || rc=$?
        if [[ "$rc" == 2 ]]; then
            echo "| $label | $jdk_name | - | - | unavailable: $(sed -n 's/^unavailable: [^:]*: //p' "$work/server.log" | head -1) | | | | | |"
            continue
        elif [[ "$rc" != 0 ]]; then
            exit 1
        fi
        # the server's own warm-up (its JIT), not reported: 50 connections of 64 B for WARMUP seconds
        "$java25" -Xmx512m -cp "$jar" io.aioco.bench.echo.EchoClient --port "$port" --conns 50 --size 64 \
            --seconds "$warmup" --warmup 0 > /dev/null 2>&1 || true
        for conns in $conns_list; do
            for size in $sizes; do
                if ! line="$("$java25" -Xmx512m -cp "$jar" io.aioco.bench.echo.EchoClient --port "$port" \
                        --conns "$conns" --size "$size" --seconds "$secs" --warmup "$warmup" \
                        --server-pid "$server_pid" 2>"$work/client.err" \
                        | grep '^RESULT')"; then
                    echo "| $label | $jdk_name | $conns | $size | failed: $(head -c 200 "$work/client.err" | tr '\n' ' ') | | | | | |"
                    continue
                fi
                echo "| $label | $jdk_name | $conns | $size | $(field rps "$line") | $(field p50_us "$line")" \
                     "| $(field p99_us "$line") | $(field p999_us "$line") | $(field server_cpu_us_per_rt "$line")" \
                     "| $(field client_cpu_us_per_rt "$line") |"
            done
        done
        stop_server
    done
done
