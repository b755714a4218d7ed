#!/usr/bin/env python3
"""Run `tensorlint fix` on every ONNX model of a corpus and onnx's full checker on each fixed copy.

    VENV/bin/python scripts/check_fixed_onnx_models.py ../shared/corpus/onnx [--linter .build/release/tensorlint]

Needs the onnx package. Prints each fixed model the checker refuses, saying whether the original already
failed it, and a summary line; exits 1 when a fix made the checker fail on a model it accepted before.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import onnx


def checker_error(path):
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        return None
    except Exception as error:  # the checker raises several exception types
        return (str(error).strip().splitlines() or [type(error).__name__])[0][:160]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpus")
    parser.add_argument("--linter", default=".build/release/tensorlint")
    args = parser.parse_args()
    files = set()
    for name in sorted(os.listdir(args.corpus)):
        if name.endswith(".jsonl"):
            with open(os.path.join(args.corpus, name), encoding="utf-8") as handle:
                files |= {json.loads(line)["file"] for line in handle if json.loads(line)["id"].startswith("onnx/")}
    passed = introduced = inherited = 0
    with tempfile.TemporaryDirectory() as folder:
        for file in sorted(files):
            source, fixed = os.path.join(args.corpus, file), os.path.join(folder, os.path.basename(file))
            # Every fix, unsafe ones (those that round values) included.
            run = subprocess.run([args.linter, "fix", "--target", "onnxruntime", "--unsafe-fixes", source, "--output", fixed],
                                 capture_output=True)
            if run.returncode != 0:
                continue
            error = checker_error(fixed)
            if error is None:
                passed += 1
                continue
            before = checker_error(source)
            inherited += before is not None
            introduced += before is None
            print(f"CHECKER {file}: {error}" + (" (the original fails it too)" if before else ""))
            os.remove(fixed)
    total = passed + introduced + inherited
    print(f"onnx.checker full_check: {passed}/{total} fixed models pass, {inherited} fail as their originals do, "
          f"{introduced} fail because of the fix")
    return 1 if introduced else 0


if __name__ == "__main__":
    sys.exit(main())
