#!/usr/bin/env bash
# nbd-bench.sh: aioco's NBD server (bin/aioco-nbd) next to qemu-nbd, serving the same image, driven
# by the same client in the same run. Rows (PERFORMANCE.md's): 4 KiB random read and write at queue
# depth 16, 1 MiB sequential read at depth 4, with fio's nbd engine (one connection); without fio,
# nbdcopy copies the image there and back instead.
#
# Usage (from anywhere, after the README's build):  benchmarks/nbd-bench.sh [SECONDS_PER_RUN] [ROUNDS]
# Each row runs ROUNDS times per server, alternating the servers (qemu-nbd, aioco, qemu-nbd, ...),
# after a warm-up of aioco's JIT; the median is reported with the ratio aioco / qemu-nbd.
# Prints a Markdown table for benchmarks/RESULTS.md. Needs qemu-nbd (qemu-utils); installs fio if it
# can (root, apt-get). Uses only 127.0.0.1, ports 10911 and 10912, and a 256 MiB image in a temp dir.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-8}"
rounds="${2:-3}"
aioco_port=10911
qemu_port=10912

command -v qemu-nbd >/dev/null || { echo "nbd-bench: qemu-nbd is missing (apt-get install qemu-utils)" >&2; exit 1; }
if ! command -v fio >/dev/null && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    (apt-get install -y -qq fio >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq fio; }) \
        >/dev/null 2>&1 || true
fi
client=nbdcopy
if command -v fio >/dev/null && fio --enghelp 2>/dev/null | grep -qw nbd; then
    client=fio
fi
command -v "$client" >/dev/null || { echo "nbd-bench: neither fio nor nbdcopy is installed" >&2; exit 1; }

work="$(mktemp -d /tmp/nbd-bench.XXXXXX)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
image="$work/bench.img"
head -c 256M /dev/urandom > "$image"

"$root/bin/aioco-nbd" --port "$aioco_port" "$image" > "$work/aioco.log" 2>&1 &
pids+=($!)
qemu-nbd -f raw -t -b 127.0.0.1 -p "$qemu_port" "$image" > "$work/qemu.log" 2>&1 &
pids+=($!)
for port in "$aioco_port" "$qemu_port"; do
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.1
    done
done

# run_fio PORT RW BS DEPTH SECONDS -> IOPS (random rows) or MiB/s (sequential row)
run_fio() {
    local out
    out="$(fio --name=bench --ioengine=nbd --uri="nbd://127.0.0.1:$1/" --rw="$2" --bs="$3" --iodepth="$4" \
        --runtime="$5" --time_based --size=256M --output-format=terse --terse-version=3 2>/dev/null \
        | grep '^3;' | head -1)"
    # terse v3: field 7 read bandwidth KiB/s, 8 read IOPS, 48 write bandwidth KiB/s, 49 write IOPS
    case "$2" in
        randread) awk -F';' '{print $8}' <<<"$out" ;;
        randwrite) awk -F';' '{print $49}' <<<"$out" ;;
        read) awk -F';' '{printf "%.0f\n", $7 / 1024}' <<<"$out" ;;
    esac
}

# run_nbdcopy PORT DIRECTION -> MiB/s for one copy of the image
run_nbdcopy() {
    local start end
    start=$(date +%s%N)
    if [[ "$2" == write ]]; then
        nbdcopy "$image" "nbd://127.0.0.1:$1/" 2>/dev/null
    else
        nbdcopy "nbd://127.0.0.1:$1/" null: 2>/dev/null
    fi
    end=$(date +%s%N)
    echo $(( 256 * 1000000000 / (end - start) ))
}

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }

if [[ "$client" == fio ]]; then
    rows=("4k random read, depth 16|IOPS|randread 4k 16" "4k random write, depth 16|IOPS|randwrite 4k 16"
          "1M sequential read, depth 4|MiB/s|read 1M 4"
          "4k random read, depth 1|IOPS|randread 4k 1" "4k random write, depth 1|IOPS|randwrite 4k 1")
    run_fio "$aioco_port" randread 4k 16 "$secs" >/dev/null   # warm-up: aioco's JIT
    run_fio "$aioco_port" randwrite 4k 16 "$secs" >/dev/null
else
    rows=("sequential write (nbdcopy)|MiB/s|write" "sequential read (nbdcopy)|MiB/s|read")
    for _ in 1 2 3; do run_nbdcopy "$aioco_port" read >/dev/null; done
fi

echo "client: $client; $rounds rounds of ${secs}s per server and row, alternating; median"
echo "JDK: $(java -version 2>&1 | head -1); qemu-nbd: $(qemu-nbd --version | head -1); $(nproc) cores; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo
echo "| row | unit | qemu-nbd | aioco | aioco / qemu-nbd | runs qemu-nbd | runs aioco |"
echo "|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
    IFS='|' read -r name unit args <<<"$row"
    qemu_runs=()
    aioco_runs=()
    for _ in $(seq "$rounds"); do
        if [[ "$client" == fio ]]; then
            # shellcheck disable=SC2086 # args is "RW BS DEPTH"
            qemu_runs+=("$(run_fio "$qemu_port" $args "$secs")")
            # shellcheck disable=SC2086
            aioco_runs+=("$(run_fio "$aioco_port" $args "$secs")")
        else
            qemu_runs+=("$(run_nbdcopy "$qemu_port" "$args")")
            aioco_runs+=("$(run_nbdcopy "$aioco_port" "$args")")
        fi
    done
    q="$(printf '%s\n' "${qemu_runs[@]}" | median)"
    a="$(printf '%s\n' "${aioco_runs[@]}" | median)"
    ratio="$(awk -v a="$a" -v q="$q" 'BEGIN {printf "%.2fx", (q > 0) ? a / q : 0}')"
    echo "| $name | $unit | $q | $a | $ratio | ${qemu_runs[*]} | ${aioco_runs[*]} |"
done
