#!/usr/bin/env bash
# echo-syscalls.sh: the system calls an echo server makes per round trip (issue 21). Starts one server
# of io.aioco.bench.echo.EchoServer (JDK 25, N = 2), warms it up, drives it with EchoClient for 6 s
# and counts the server JVM's system calls with `perf stat` for 3 s in the middle of that; prints the
# counts and each per `write` (one write per echoed message). Counts, not rates: they hold on a
# loaded machine. Needs perf with the syscalls tracepoints, and the build echo-bench.sh needs.
#
# Usage: benchmarks/echo-syscalls.sh IMPL CONNS SIZE     (IMPL as echo-bench.sh's -i, e.g. aioco-n)
set -euo pipefail
[[ $# == 3 ]] || { sed -n '2,8p' "$0" >&2; exit 64; }
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
impl="$1"; conns="$2"; size="$3"; port=$((12000 + RANDOM % 500))
java25="${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}/bin/java"
jar="$root/benchmarks/target/aioco-benchmarks-jmh.jar"
agent="$root/agent/target/aioco-agent.jar"
command -v perf >/dev/null || { echo "echo-syscalls: perf is missing" >&2; exit 1; }
work="$(mktemp -d /tmp/echo-syscalls.XXXXXX)"
flags=()
if [[ "$impl" == aioco* ]]; then flags+=("-javaagent:$agent=cache=off"); fi
"$java25" -Xms256m -Xmx1g "${flags[@]}" -cp "$jar" io.aioco.bench.echo.EchoServer --impl "$impl" \
    --port "$port" --threads 2 > "$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do grep -qs '^listening on' "$work/server.log" && break; sleep 0.1; done
"$java25" -Xmx512m -cp "$jar" io.aioco.bench.echo.EchoClient --port "$port" --conns 50 --size 64 \
    --seconds 2 --warmup 0 > /dev/null 2>&1
"$java25" -Xmx512m -cp "$jar" io.aioco.bench.echo.EchoClient --port "$port" --conns "$conns" --size "$size" \
    --seconds 6 --warmup 1 --server-pid "$server" > "$work/client.out" 2>&1 &
client=$!
sleep 2
perf stat -x, -e raw_syscalls:sys_enter,context-switches,syscalls:sys_enter_read,syscalls:sys_enter_write \
    -e syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex -p "$server" -- sleep 3 2> "$work/perf.txt"
wait "$client"
echo "$impl, $conns x $size B: $(grep '^RESULT' "$work/client.out")"
writes="$(awk -F, '$3 == "syscalls:sys_enter_write" {print $1}' "$work/perf.txt")"
awk -F, -v w="$writes" '$3 != "" {printf "  %-32s %10d  per write %.2f\n", $3, $1, (w > 0) ? $1 / w : 0}' "$work/perf.txt"
