#!/usr/bin/env bash
# The measurement behind the ONNX reader's design: decoding a generated ~1 GB model with swift-protobuf
# (message types as protoc-gen-swift generates them, benchmarks/protobuf-choice) versus tensorlint's own
# memory-mapped wire-format reader, whole process, same file:
#   scripts/benchmark_protobuf_choice.sh [SIZE_MB] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
runs=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model="$work/large.onnx"
python3 scripts/make_large_onnx_model.py "$model" "$size"
build_start=$(date +%s)
swift build -c release --package-path benchmarks/protobuf-choice >/dev/null
echo "swift-protobuf comparison built in $(( $(date +%s) - build_start )) s (incremental if built before)"
[ -x .build/release/tensorlint ] || swift build -c release --static-swift-stdlib >/dev/null
for _ in $(seq "$runs"); do
    /usr/bin/time -f "  swift-protobuf: %e s wall, %M KiB peak" benchmarks/protobuf-choice/.build/release/ProtobufChoice "$model"
done
for _ in $(seq "$runs"); do
    /usr/bin/time -f "  tensorlint lint (own reader, whole lint): %e s wall, %M KiB peak" \
        .build/release/tensorlint lint --target onnxruntime --format sarif "$model" >/dev/null
done
