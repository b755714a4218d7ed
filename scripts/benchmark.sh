#!/usr/bin/env bash
# Whole-process time and peak memory of `tensorlint lint` (or, with COMMAND=fix, of `tensorlint fix`
# writing a repaired copy) on one model, over N runs (default 10).
#   scripts/benchmark.sh [MODEL] [RUNS]
# Prints the median and range of wall time (nanosecond clock around the process) and the median
# peak resident set (from /usr/bin/time -v). TENSORLINT=path benchmarks another binary. ONNX models are
# linted for onnxruntime, others for coremltools at iOS16 (LINT_ARGS overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-examples/models/batch_norm_relu.fp32.aten.pt2}
runs=${2:-10}
binary=${TENSORLINT:-.build/release/tensorlint}
[ -x "$binary" ] || swift build -c release --static-swift-stdlib >/dev/null
case "$model" in
    *.onnx) default_args="--target onnxruntime" ;;
    *) default_args="--minimum-deployment-target iOS16" ;;
esac
read -r -a lint_args <<< "${LINT_ARGS:-$default_args}"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ "${COMMAND:-lint}" = fix ]; then
    command=(fix "${lint_args[@]}" --output "$scratch/fixed.${model##*.}")
else
    command=(lint --format sarif "${lint_args[@]}")
fi
[ -x /usr/bin/time ] || { echo "benchmark: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }
"$binary" "${command[@]}" "$model" >/dev/null || true  # warm the page cache
times=() rss=()
for _ in $(seq "$runs"); do
    rm -f "$scratch"/fixed.*
    start=$(date +%s%N)
    out=$( { /usr/bin/time -v "$binary" "${command[@]}" "$model" >/dev/null; } 2>&1 || true)
    end=$(date +%s%N)
    times+=("$(awk -v ns="$((end - start))" 'BEGIN { printf "%.1f", ns / 1e6 }')")
    rss+=("$(echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')")
done
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "model: $model ($(stat -c %s "$model") bytes), tensorlint ${command[0]}, $runs runs"
echo "wall time: median $(median "${times[@]}") ms (min $(echo "$sorted" | head -1), max $(echo "$sorted" | tail -1))"
echo "peak RSS: median $(median "${rss[@]}") KiB"
