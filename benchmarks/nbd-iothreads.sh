#!/usr/bin/env bash
# nbd-iothreads.sh: bin/aioco-nbd with --iothreads 1 and 2 (an IOThreadGroup), driven by fio's nbd
# engine with two jobs (two connections, one per job) of 4 KiB random reads at depth 16 each.
#
# Usage (from anywhere, after the README's build):  benchmarks/nbd-iothreads.sh [SECONDS_PER_RUN] [ROUNDS]
# Rounds alternate the two servers (1, 2, 1, 2, ...) after a 5 s warm-up of each. Per run it prints
# IOPS, mean and p99 completion latency, the CPU used by the server and by fio itself (in % of one
# core, from /proc and getrusage), how idle the whole machine was, and the load average.
# Needs fio with its nbd engine (Debian: apt-get install fio). Uses 127.0.0.1 ports 10941 and 10942
# and a 256 MiB image of random bytes in a temp dir.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-10}"
rounds="${2:-2}"
fio --enghelp 2>/dev/null | grep -qw nbd || { echo "nbd-iothreads: fio with the nbd engine is missing" >&2; exit 1; }
work="$(mktemp -d /tmp/nbd-iothreads.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
dd if=/dev/urandom of="$work/img" bs=1M count=256 status=none
for n in 1 2; do
    "$root/bin/aioco-nbd" --port $((10940 + n)) --iothreads "$n" "$work/img" >"$work/server$n.log" 2>&1 &
    pids+=($!)
done
for n in 1 2; do
    for _ in $(seq 1 150); do grep -q listening "$work/server$n.log" && break; sleep 0.2; done
done
job=(--ioengine=nbd --rw=randread --bs=4k --iodepth=16 --numjobs=2 --size=256M --time_based --group_reporting
     --output-format=json)
for n in 1 2; do
    fio --name=warm "${job[@]}" --uri="nbd://127.0.0.1:$((10940 + n))/" --runtime=5 >/dev/null 2>&1
done
hz="$(getconf CLK_TCK)"
for round in $(seq 1 "$rounds"); do
    for n in 1 2; do
        pid="${pids[$((n - 1))]}"
        s0="$(awk '{print $14 + $15}' "/proc/$pid/stat")"; c0="$(head -1 /proc/stat)"; t0="$(date +%s.%N)"
        l0="$(cut -d' ' -f1 /proc/loadavg)"
        # getrusage of the children: fio's own CPU, its job processes included
        python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=open(sys.argv[1], "w"), stderr=subprocess.DEVNULL)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
open(sys.argv[1] + ".cpu", "w").write(f"{r.ru_utime} {r.ru_stime}")' "$work/fio.json" \
            fio --name=bench "${job[@]}" --uri="nbd://127.0.0.1:$((10940 + n))/" --runtime="$secs"
        t1="$(date +%s.%N)"; c1="$(head -1 /proc/stat)"; s1="$(awk '{print $14 + $15}' "/proc/$pid/stat")"
        l1="$(cut -d' ' -f1 /proc/loadavg)"
        python3 - "$work/fio.json" "$n" "$round" "$s0" "$s1" "$hz" "$t0" "$t1" "$c0" "$c1" "$l0" "$l1" <<'PY'
import json, sys
f, n, rnd, s0, s1, hz, t0, t1, c0, c1, l0, l1 = sys.argv[1:]
text = open(f).read()
job = json.loads(text[text.index("{"):])["jobs"][0]  # fio's nbd engine prints a line before the JSON
wall = float(t1) - float(t0)
fu, fs = map(float, open(f + ".cpu").read().split())
d = [b - a for a, b in zip(map(int, c0.split()[1:]), map(int, c1.split()[1:]))]
r = job["read"]
print(f"| {rnd} | {n} | {r['iops']:.0f} | {r['clat_ns']['mean'] / 1000:.0f} | "
      f"{r['clat_ns']['percentile']['99.000000'] / 1000:.0f} | "
      f"{(int(s1) - int(s0)) / int(hz) / wall * 100:.0f} | {(fu + fs) / wall * 100:.0f} | "
      f"{(d[3] + d[4]) / sum(d) * 100:.0f} | {l0} -> {l1} |")
PY
    done
done
