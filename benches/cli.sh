#!/bin/sh
# Whole `workflow run` processes with the CLI's defaults (events counted for the history's limit, not
# kept), but for the quotas the big workloads pass (`--history-limit 0 --payload-limit 1 GiB`),
# against the in-place floor run as a process (`EXECUTOR_FLOOR`, benches/executor.rs:
# read the input file, do the same work in place, print the output), in the same run, on the
# workloads of benches/executor.rs written out at full size. Also `workflow run --history
# --format json` (the history read and printed) against the plain run, and each side's CPU time
# over wall time and peak memory (`/usr/bin/time`).
#
#   sh benches/cli.sh [ROUNDS]        (default 3; each figure is the median of the rounds)
#
# Needs a release build (it builds one: `cargo build --release -p workflow-cli` and the executor
# bench); EXECUTOR_BIG=<n> shrinks the big workloads (default 1,000,000).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "benches/cli.sh needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release -q -p workflow-cli
BENCH=$(cargo bench --bench executor --no-run --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*\/executor-[^"]*\)".*/\1/p' | tail -n 1)
[ -x "$BENCH" ] || { echo "cannot find the executor bench binary" >&2; exit 2; }
CLI=target/release/workflow
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
EXECUTOR_WRITE="$DIR" "$BENCH" --bench >/dev/null

# One timed process: prints "wall cpu maxrss_kib" (wall to the millisecond from `date +%s%N`;
# `time`'s own %e has 10 ms steps, the size of the small floors).
timed() {
    start=$(date +%s%N)
    "$TIME" -f '%U %S %M' -o "$DIR/time" "$@" >"$DIR/out" 2>/dev/null
    end=$(date +%s%N)
    awk -v ms="$(( (end - start) / 1000000 ))" '{ printf "%.3f %.2f %s\n", ms / 1000, $1 + $2, $3 }' "$DIR/time"
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "| workload | floor process | workflow run | run/floor | CPU/wall (run) | workflow run --history --format json | history/run | peak MiB (history) |"
echo "|---|---|---|---|---|---|---|---|"
for name in w1_chain w2_loop w3_parallel w4_map dollar dollar_plain loop_1m map_1m; do
    def="$DIR/$name.asl.json"
    input="$DIR/$name.input.json"
    : >"$DIR/f"; : >"$DIR/r"; : >"$DIR/h"
    i=0
    while [ "$i" -lt "$ROUNDS" ]; do
        EXECUTOR_FLOOR=$name EXECUTOR_TRANSITIONS=$(cat "$DIR/$name.transitions") \
            timed "$BENCH" "$input" >>"$DIR/f"
        timed "$CLI" run "$def" --input "@$input" --format json --history-limit 0 --payload-limit 1073741824 >>"$DIR/r"
        timed "$CLI" run "$def" --input "@$input" --format json --history-limit 0 --payload-limit 1073741824 --history >>"$DIR/h"
        i=$((i + 1))
    done
    f=$(cut -d' ' -f1 "$DIR/f" | median)
    r=$(cut -d' ' -f1 "$DIR/r" | median)
    h=$(cut -d' ' -f1 "$DIR/h" | median)
    rc=$(awk '{ c += $2; w += $1 } END { if (w > 0) printf "%.2f", c / w; else print "-" }' "$DIR/r")
    hm=$(cut -d' ' -f3 "$DIR/h" | sort -n | tail -n 1)
    awk -v n="$name" -v f="$f" -v r="$r" -v h="$h" -v rc="$rc" -v hm="$hm" 'BEGIN {
        fr = (f > 0) ? sprintf("%.2f×", r / f) : "-";
        hr = (r > 0) ? sprintf("%.2f×", h / r) : "-";
        printf "| %s | %s s | %s s | %s | %s | %s s | %s | %.0f |\n", n, f, r, fr, rc, h, hr, hm / 1024
    }'
done
