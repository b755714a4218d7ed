#!/usr/bin/env python3
"""Check that `tensorlint fix` leaves TorchScript archives that torch loads and that compute what the
originals compute.

    python check_fixed_torchscript_models.py --linter .build/release/tensorlint --corpus ../shared/corpus/torchscript [--only REGEX]

For every archive of the corpus that some label says fails, `tensorlint fix` runs with that label's
settings; the fixed archive must load with `torch.jit.load`, and on random inputs shaped as the label's
`inputs` it must compute what the original computes: to fp16 tolerance when the fix widened an fp16/bf16
model (the original runs in its own dtype), to float32 rounding otherwise (exact rewrites). The last line
is the summary. Needs torch; never imports tensorlint's outputs as pickles other than through torch.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import torch

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "int64": torch.int64,
          "int32": torch.int32, "bool": torch.bool, "float64": torch.float64}


def inputs_for(label, generator):
    tensors = []
    for spec in label["inputs"]:
        dtype = DTYPES[spec["dtype"]]
        if dtype.is_floating_point:
            tensors.append(torch.randn(*spec["shape"], generator=generator).to(dtype))
        elif dtype == torch.bool:
            tensors.append(torch.randint(0, 2, spec["shape"], generator=generator).bool())
        else:
            tensors.append(torch.randint(0, 4, spec["shape"], generator=generator).to(dtype))
    return tensors


def flat(value):
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for item in value for t in flat(item)]
    return []


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--linter", required=True)
    parser.add_argument("--corpus", required=True)
    parser.add_argument("--only", help="regular expression on model file names")
    arguments = parser.parse_args()
    first_failure = {}
    for name in sorted(os.listdir(arguments.corpus)):
        if name.endswith(".jsonl"):
            for line in open(os.path.join(arguments.corpus, name)):
                label = json.loads(line)
                if label["verdict"] == "fails" and label["file"] not in first_failure:
                    first_failure[label["file"]] = label
    checked = loaded = same = 0
    problems = []
    with tempfile.TemporaryDirectory() as directory:
        for file, label in sorted(first_failure.items()):
            if arguments.only and not re.search(arguments.only, file):
                continue
            source = os.path.join(arguments.corpus, file)
            fixed = os.path.join(directory, os.path.basename(file))
            command = [arguments.linter, "fix", "--target", "coremltools", "--minimum-deployment-target", label["minimum_deployment_target"],
                       "--compute-precision", label["compute_precision"], "--input-dtype", label.get("input_dtype", "default"), source, "-o", fixed]
            if subprocess.run(command, capture_output=True).returncode != 0 or not os.path.exists(fixed):
                continue
            checked += 1
            try:
                original, repaired = torch.jit.load(source), torch.jit.load(fixed)
            except Exception as error:  # noqa: BLE001 - any refusal is the finding
                problems.append(f"{file}: the fixed archive does not load: {str(error).splitlines()[0]}")
                continue
            loaded += 1
            generator = torch.Generator().manual_seed(0)
            values = inputs_for(label, generator)
            widened = label.get("model_dtype") in ("float16", "bfloat16", "mixed")
            with torch.no_grad():
                expected = flat(original(*values))
                actual = flat(repaired(*[v.float() if v.is_floating_point() else v for v in values]))
            tolerance = 2e-2 if widened else 1e-5
            if len(expected) == len(actual) and all(
                    a.dtype == torch.float32 or not a.is_floating_point() for a in actual) and all(
                    torch.allclose(e.float(), a.float(), rtol=tolerance, atol=tolerance, equal_nan=True) for e, a in zip(expected, actual)):
                same += 1
            else:
                worst = max(((e.float() - a.float()).abs().max().item() for e, a in zip(expected, actual)), default=float("nan"))
                problems.append(f"{file}: the fixed archive computes something else (max difference {worst:.3g})")
    for problem in problems[:20]:
        print(problem)
    print(f"fixed TorchScript archives: {checked} written, {loaded} load with torch.jit.load, {same} compute what the original computes")
    return 0 if checked and same == checked else 1


if __name__ == "__main__":
    sys.exit(main())
