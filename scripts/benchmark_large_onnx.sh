#!/usr/bin/env bash
# Lints a generated ~1 GB fp32 ONNX model and compares with onnx's own checker on the same file, then
# times `tensorlint fix` on the same model with one fp16 bias (an Add onnxruntime refuses):
#   scripts/benchmark_large_onnx.sh [SIZE_MB] [RUNS]
# The model is written to a temporary folder (never committed) and removed afterwards. PYTHON names an
# interpreter with the onnx package for the comparison (default: python3); without onnx it is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
runs=${2:-5}
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model="$work/large.onnx"
python3 scripts/make_large_onnx_model.py "$model" "$size"
echo "== tensorlint lint --target onnxruntime"
lint=$(scripts/benchmark.sh "$model" "$runs")
echo "$lint"
mixed="$work/mixed.onnx"
python3 scripts/make_large_onnx_model.py "$mixed" "$size" --mixed >/dev/null
echo "== tensorlint fix --target onnxruntime (one fp16 bias in $size MB of weights)"
start=$(date +%s%N)
out=$( { /usr/bin/time -v .build/release/tensorlint fix --target onnxruntime "$mixed" -o "$work/fixed.onnx" >/dev/null; } 2>&1)
end=$(date +%s%N)
echo "wall time: $(awk -v ns="$((end - start))" 'BEGIN { printf "%.1f", ns / 1e6 }') ms (two rounds of reading and linting, one full copy written)"
echo "peak RSS: $(echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}') KiB"
start=$(date +%s%N)
cp "$mixed" "$work/copy.onnx"
end=$(date +%s%N)
echo "for comparison, cp of the same file: $(awk -v ns="$((end - start))" 'BEGIN { printf "%.1f", ns / 1e6 }') ms"
rm -f "$work/fixed.onnx" "$work/copy.onnx" "$mixed"
if ! "$python" -c "import onnx" 2>/dev/null; then
    echo "== onnx.checker: skipped ($python has no onnx package; set PYTHON)"
    exit 0
fi
echo "== python -c \"import onnx; onnx.checker.check_model(onnx.load(PATH), full_check=True)\""
start=$(date +%s%N)
out=$( { /usr/bin/time -v "$python" -c "import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)" "$model"; } 2>&1)
end=$(date +%s%N)
checker_ms=$(awk -v ns="$((end - start))" 'BEGIN { printf "%.1f", ns / 1e6 }')
checker_kib=$(echo "$out" | awk -F': ' '/Maximum resident set size/ {print $2}')
echo "wall time: $checker_ms ms"
echo "peak RSS: $checker_kib KiB"
lint_ms=$(echo "$lint" | awk '/wall time/ {print $4}')
lint_kib=$(echo "$lint" | awk '/peak RSS/ {print $4}')
echo "== tensorlint is $(awk -v a="$checker_ms" -v b="$lint_ms" 'BEGIN { printf "%.0f", a / b }')x faster and uses $(awk -v a="$checker_kib" -v b="$lint_kib" 'BEGIN { printf "%.0f", a / b }')x less memory (${lint_kib} KiB vs ${checker_kib} KiB)"
