#!/usr/bin/env bash
# CI: tensorlint installed with pip, and run by pre-commit, on a PATH without Swift.
#
#     scripts/check_pip_install.sh [BINARY]      (default .build/release/tensorlint)
#
# 1. scripts/build_wheel.py makes the wheel of BINARY in a temporary folder; a fresh venv pip-installs it.
# 2. On a PATH of that venv's bin and /usr/bin and /bin with any swift* left out (macOS and the swift
#    images have /usr/bin/swift; the check fails if swift can still be found), `tensorlint` must be the
#    binary itself, `tensorlint --version` and `python -m tensorlint --version` the wheel's version, and
#    `tensorlint lint examples/models --target onnxruntime` exit 1 (error findings), also through
#    `python -m tensorlint` (exit status passed through).
# 3. pre-commit (from PyPI, in a venv of its own) runs this repository's Python hooks on a scratch git repo:
#    the hook repository is a snapshot of this work tree (tracked and untracked files, not ignored ones)
#    committed in a temporary repository, so uncommitted changes are what is checked, and pip installs
#    the shim with PIP_NO_INDEX=1 PIP_FIND_LINKS=<the wheel's folder>, nothing from an index. With five
#    fp32 ONNX models and an fp16 one holding an fp32 initializer the run must fail (exit 1) with
#    onnxruntime's type-parameter finding, in one report (require_serial); once the bad model is removed
#    it must pass.
# 4. action.yml's steps (scripts/run_action_locally.py) on a folder with two bad models: annotations for
#    both, the SARIF file with its category, and exit 1.
# Every command run is printed. Needs python3 (3.8+), git and network access to PyPI for pre-commit only.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$SECONDS

fail() { echo "check_pip_install: FAILED: $*" >&2; exit 1; }
say() { printf '\n== %s\n' "$*"; }
show() { echo "+ $*"; "$@"; }

binary=${1:-.build/release/tensorlint}
[ -x "$binary" ] || fail "$binary: no executable there (swift build -c release --static-swift-stdlib first)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/tensorlint-pip.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cp "$binary" "$tmp/tensorlint-built"   # a rebuild during the check changes nothing

say "wheel"
show python3 scripts/build_wheel.py --binary "$tmp/tensorlint-built" --out "$tmp/dist"
wheel=$(ls "$tmp"/dist/tensorlint-*.whl)
version=$(basename "$wheel" | cut -d- -f2)

say "pip install into a fresh venv"
show python3 -m venv "$tmp/venv"
show "$tmp/venv/bin/python" -m pip install --quiet --no-index --disable-pip-version-check "$wheel"

# /usr/bin and /bin without Swift: links to their commands but swift*, since macOS (Xcode's shims) and the
# swift images have swift in /usr/bin.
mkdir "$tmp/sysbin"
left_out=""
for f in /usr/bin/* /bin/*; do
    name=${f##*/}
    case $name in swift*) left_out="$left_out $f"; continue ;; esac
    if [ -x "$f" ] && [ ! -e "$tmp/sysbin/$name" ]; then ln -s "$f" "$tmp/sysbin/$name"; fi
done
clean_path="$tmp/venv/bin:$tmp/sysbin"
echo "PATH for the checks: $clean_path (sysbin: links to /usr/bin/* and /bin/*; left out:${left_out:- none})"

# expect STATUS COMMAND...: runs COMMAND with PATH=$clean_path, shows it and the last lines of its output
# (all of them if the status is not STATUS), and stops the check unless it exits with STATUS.
expect() {
    local want=$1 status=0
    shift
    echo "+ $*"
    env PATH="$clean_path" "$@" >"$tmp/out" 2>&1 || status=$?
    if [ "$status" -ne "$want" ]; then
        sed 's/^/    /' "$tmp/out"
        fail "\`$*\` exited $status, expected $want"
    fi
    tail -n "${lines:-2}" "$tmp/out" | sed 's/^/    /'
}

say "the installed binary, without Swift"
env PATH="$clean_path" /bin/sh -c 'command -v swift' >/dev/null && fail "swift is on the check's PATH"
echo "command -v swift: not found"
found=$(env PATH="$clean_path" /bin/sh -c 'command -v tensorlint') || fail "tensorlint is not on the venv's PATH"
[ "$found" = "$tmp/venv/bin/tensorlint" ] || fail "tensorlint on PATH is $found, not the venv's"
[ "$(head -c 2 "$found")" != "#!" ] || fail "$found is a script, not the binary"
echo "command -v tensorlint: $found (the binary, no Python wrapper)"
expect 0 tensorlint --version
[ "$(cat "$tmp/out")" = "$version" ] || fail "tensorlint --version printed $(cat "$tmp/out"), the wheel is $version"
expect 0 python -m tensorlint --version
[ "$(cat "$tmp/out")" = "$version" ] || fail "python -m tensorlint --version printed $(cat "$tmp/out")"
lines=1 expect 1 tensorlint lint examples/models --target onnxruntime
lines=1 expect 1 python -m tensorlint lint examples/models --target onnxruntime

say "pre-commit"
show python3 -m venv "$tmp/pre-commit-venv"
show "$tmp/pre-commit-venv/bin/python" -m pip install --quiet --disable-pip-version-check pre-commit
clean_path="$tmp/pre-commit-venv/bin:$tmp/sysbin"
echo "pre-commit $("$tmp/pre-commit-venv/bin/pre-commit" --version | cut -d' ' -f2); PATH for the checks: $clean_path"

git_() { git -c user.name=tensorlint-ci -c user.email=ci@tensorlint.invalid -c commit.gpgsign=false "$@"; }

hooks="$tmp/hook-repo"
mkdir "$hooks"
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done | tar --null -T - -cf - | tar -xf - -C "$hooks"
git_ -C "$hooks" init --quiet
git_ -C "$hooks" add --all
git_ -C "$hooks" commit --quiet --message "work tree of $repo"
rev=$(git -C "$hooks" rev-parse HEAD)
echo "hook repository: $hooks at $rev (a snapshot of this work tree)"

project="$tmp/project"
mkdir -p "$project/models"
# Six models: pre-commit gives a hook at least 4 files a process, so six are split in two on two cores
# unless the hook has require_serial: true.
for i in 1 2 3 4 5; do cp examples/models/add_fp32.onnx "$project/models/add_fp32_$i.onnx"; done
cp examples/models/add_fp16_fp32_initializer.onnx "$project/models/"
cat >"$project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $hooks
    rev: $rev
    hooks:
      - id: tensorlint
      - id: tensorlint-onnxruntime
EOF
git_ -C "$project" init --quiet
git_ -C "$project" add --all
git_ -C "$project" commit --quiet --message "six models, one bad"
cat "$project/.pre-commit-config.yaml"

export PRE_COMMIT_HOME="$tmp/pre-commit-home" PIP_NO_INDEX=1 PIP_FIND_LINKS="$tmp/dist" \
    VIRTUALENV_OVERRIDE_APP_DATA="$tmp/virtualenv-app-data" PRE_COMMIT_COLOR=never
echo "PRE_COMMIT_HOME=$PRE_COMMIT_HOME PIP_NO_INDEX=1 PIP_FIND_LINKS=$PIP_FIND_LINKS"
cd "$project"
lines=12 expect 1 pre-commit run --all-files
grep -q 'models/add_fp16_fp32_initializer.onnx: error: .*\[ort-type-parameter-mismatch\]' "$tmp/out" ||
    fail "pre-commit failed without tensorlint's ort-type-parameter-mismatch finding on the bad model"
grep -q '^tensorlint (onnxruntime)\.*Failed$' "$tmp/out" || fail "the tensorlint-onnxruntime hook did not fail"
# One report per hook (require_serial): at most one summary line after each hook's status line.
awk '/\.(Passed|Failed)$/ { if (n > 1) bad = 1; n = 0 } /files? linted:/ { n++ } END { exit (n > 1 || bad) }' "$tmp/out" ||
    fail "a hook printed more than one tensorlint report: pre-commit split its files (require_serial)"
grep -q '^6 files linted: 1 error' "$tmp/out" || fail "expected '6 files linted: 1 error': one report of all six models"
show git_ rm --quiet models/add_fp16_fp32_initializer.onnx
git_ commit --quiet --message "the bad model removed"
lines=2 expect 0 pre-commit run --all-files
cd "$repo"

say "the GitHub Action (action.yml's steps, run here as a runner runs them)"
action="$tmp/action-project"
mkdir -p "$action/models"
cp examples/models/add_fp32.onnx examples/models/add_fp16_fp32_initializer.onnx examples/models/celu.fp32.aten.pt2 "$action/models/"
cd "$action"
lines=3 expect 1 python "$repo/scripts/run_action_locally.py" "$repo/action.yml" paths=models sarif-file=reports/tensorlint.sarif
grep -q '^::error file=models/add_fp16_fp32_initializer.onnx,title=tensorlint (ort-type-parameter-mismatch)::' "$tmp/out" ||
    fail "the action printed no annotation for the bad ONNX model"
grep -q '^::error file=models/celu.fp32.aten.pt2,title=tensorlint (coreml-unsupported-op)::' "$tmp/out" ||
    fail "the action printed no annotation for the torch model"
grep -q '"id" : "tensorlint/"' reports/tensorlint.sarif || fail "the action wrote no SARIF with its category"
echo "annotations printed, reports/tensorlint.sarif written, the step failed with 1"
cd "$repo"

say "pip install and pre-commit checks passed in $((SECONDS - start)) s (tensorlint $version, $(basename "$wheel"))"
