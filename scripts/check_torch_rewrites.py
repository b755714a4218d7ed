#!/usr/bin/env python3
"""Checks `tensorlint fix` graph rewrites with the real tools: for each torch.export archive given, writes
the fixed copy, loads both with `torch.export.load`, runs them on the archive's example inputs and on
random inputs of the same shapes, and reports the largest difference of the outputs (in the original's
precision: an fp16/bf16 original is compared with the fixed fp32 copy's result rounded to it), then
converts the fixed copy with coremltools.

Needs the oracle venv (torch, coremltools); not part of `swift test`.
    /work/oracle/bin/python scripts/check_torch_rewrites.py --linter .build/release/tensorlint MODEL.pt2...
"""
import argparse
import os
import subprocess
import sys
import tempfile


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--linter", default=".build/release/tensorlint")
    parser.add_argument("--target", default="iOS17", help="minimum deployment target for the fix and the conversion")
    parser.add_argument("--trials", type=int, default=20, help="random inputs per model")
    parser.add_argument("models", nargs="+")
    args = parser.parse_args()

    import torch
    import coremltools as ct

    failures = 0
    with tempfile.TemporaryDirectory() as folder:
        for model in args.models:
            fixed = os.path.join(folder, os.path.basename(model))
            run = subprocess.run([args.linter, "fix", "--target", "coremltools", "--minimum-deployment-target", args.target,
                                  "--output", fixed, model], capture_output=True, text=True)
            if run.returncode != 0:
                print(f"{model}: no fix (exit {run.returncode}) {run.stdout.strip().splitlines()[-1:] or run.stderr.strip()}")
                continue
            original = torch.export.load(model)
            rewritten = torch.export.load(fixed)
            example_args, example_kwargs = original.example_inputs
            generator = torch.Generator().manual_seed(0)
            largest = 0.0
            for trial in range(args.trials + 1):
                if trial == 0:
                    inputs = example_args
                else:
                    inputs = tuple(torch.randn(x.shape, generator=generator).mul(4).to(x.dtype)
                                   if isinstance(x, torch.Tensor) and x.is_floating_point() else x for x in example_args)
                expected = original.module()(*inputs, **example_kwargs)
                actual = rewritten.module()(*[x.float() if isinstance(x, torch.Tensor) and x.is_floating_point() else x
                                              for x in inputs], **example_kwargs)
                expected = expected if isinstance(expected, (tuple, list)) else [expected]
                actual = actual if isinstance(actual, (tuple, list)) else [actual]
                for e, a in zip(expected, actual):
                    # An fp16/bf16 original is compared in its own precision: the fixed copy computes in float32.
                    e, a = e.detach().float(), a.detach().to(e.dtype).float()
                    difference = (e - a).abs()
                    same_nan = torch.isnan(e) == torch.isnan(a)
                    if not bool(same_nan.all()):
                        largest = float("nan")
                    else:
                        largest = max(largest, float(difference.nan_to_num(0).max()))
            try:
                ct.convert(rewritten, minimum_deployment_target=getattr(ct.target, args.target),
                           compute_precision=ct.precision.FLOAT32, convert_to="mlprogram", skip_model_load=True)
                converted = "converts"
            except Exception as error:  # the converter's own verdict
                converted = f"FAILS: {type(error).__name__}: {str(error).splitlines()[0][:160]}"
                failures += 1
            print(f"{os.path.basename(model)}: max |difference| {largest:.3g} over {args.trials + 1} inputs; {converted}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
