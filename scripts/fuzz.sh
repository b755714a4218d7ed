#!/usr/bin/env bash
# Builds the libFuzzer harnesses of Fuzz/ (AddressSanitizer, coverage-guided) and runs each of them.
#
#   scripts/fuzz.sh --seconds 60             # every harness for 60 s (CI's smoke test)
#   scripts/fuzz.sh --runs 10000000 pickle   # the harnesses whose name has `pickle`, 10^7 executions each
#
# Seeds come from examples/ (models, broken files, configuration and rule files, pickles and code taken out
# of the archives), with a dictionary of format tokens per harness (scripts/fuzz/*.dict). Corpora grow in
# .build-fuzz/corpus/<harness>; a crash is written to .build-fuzz/crashes/<harness>/ and fails the run. The
# last line of each harness's log is libFuzzer's summary: executions, coverage (cov), features (ft).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=""; runs=""; filter=""
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        *) filter="$1"; shift ;;
    esac
done
[ -n "$seconds$runs" ] || { echo "usage: scripts/fuzz.sh (--seconds N | --runs N) [harness]"; exit 2; }
toolchain=$(dirname "$(dirname "$(command -v swiftc)")")
driver=$(ls "$toolchain"/lib/swift/clang/lib/linux/libclang_rt.fuzzer_no_main-*.a | head -1)
scratch=.build-fuzz
echo "== building the harnesses (AddressSanitizer, libFuzzer coverage)"
mkdir -p "$scratch"
swift build --package-path Fuzz -c release --scratch-path "$scratch" \
    -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,inline-8bit-counters,pc-table,trace-cmp \
    -Xlinker "$driver" -Xlinker -lstdc++ >"$scratch/build.log" 2>&1 || { grep -E "error" "$scratch/build.log" | head; exit 1; }
bin="$scratch/release"

seeds() {  # harness → seed files (one per line)
    case "$1" in
        fuzz-onnx-*) ls examples/models/*.onnx examples/broken/*.onnx ;;
        fuzz-torch-export-*) ls examples/models/*.pt2 examples/broken/*.pt2 ;;
        fuzz-config) ls .tensorlint.yml rules/*/*.yml ;;
        *) ;;
    esac
}

extract() {  # harness, folder: seeds taken out of archives (pickles, code files)
    python3 - "$1" "$2" <<'PY'
import glob, os, sys, zipfile
harness, folder = sys.argv[1], sys.argv[2]
for path in sorted(glob.glob("examples/models/*.pt") + glob.glob("examples/models/*.pt2")):
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if harness == "fuzz-pickle" and name.endswith(".pkl"):
                pass
            elif harness == "fuzz-pickle" and name.endswith("serialized_state_dict.pt"):
                import io
                with zipfile.ZipFile(io.BytesIO(data)) as inner:
                    data = inner.read([n for n in inner.namelist() if n.endswith("data.pkl")][0])
            elif harness == "fuzz-torchscript-code" and name.endswith(".py"):
                pass
            else:
                continue
            with open(os.path.join(folder, os.path.basename(path) + "." + name.replace("/", "_")), "wb") as out:
                out.write(data)
PY
}

failed=0
for harness in fuzz-onnx-reader fuzz-onnx-fix fuzz-torch-export-reader fuzz-torch-export-fix fuzz-pickle fuzz-config fuzz-torchscript-code; do
    [[ -z "$filter" || "$harness" == *"$filter"* ]] || continue
    corpus="$scratch/corpus/$harness"; crashes="$scratch/crashes/$harness"
    mkdir -p "$corpus" "$crashes"
    seeds "$harness" | while read -r file; do cp "$file" "$corpus/"; done
    extract "$harness" "$corpus"
    limit=(); [ -n "$seconds" ] && limit+=(-max_total_time="$seconds"); [ -n "$runs" ] && limit+=(-runs="$runs")
    echo "== $harness"
    scratch_files=$(mktemp -d /dev/shm/tensorlint-fuzz-XXXXXX 2>/dev/null || mktemp -d)
    TENSORLINT_FUZZ_SCRATCH="$scratch_files" TENSORLINT_FUZZ_TEMPLATE=examples/models/linear.fp32.pt ASAN_OPTIONS=detect_leaks=0 \
        "$bin/$harness" "$corpus" -dict="scripts/fuzz/$harness.dict" -artifact_prefix="$crashes/" \
        -close_fd_mask=3 -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 "${limit[@]}" \
        >"$scratch/$harness.log" 2>&1 && status=0 || status=$?
    rm -rf "$scratch_files"
    grep -E "(INITED|DONE) " "$scratch/$harness.log" | tail -2 || true
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$scratch/$harness.log" || true
    if [ "$status" -ne 0 ]; then
        echo "$harness FAILED (exit $status): $(grep -E 'ERROR|Fatal error|==ERROR' "$scratch/$harness.log" | head -2)"
        ls "$crashes"
        failed=1
    fi
done
exit $failed
