#!/usr/bin/env python3
"""Runs action.yml's shell steps in order, as a GitHub runner runs a composite action: each `run:` under
`bash --noprofile --norc -eo pipefail`, with its `env:`, `${{ inputs.* }}` (given or default) and
`${{ steps.<id>.outputs.* }}` substituted, and GITHUB_PATH / GITHUB_OUTPUT honoured between steps.
`uses:` steps are named and skipped. Exits with the status of the first step that fails.

    run_action_locally.py ACTION_YML [input=value ...]      (needs PyYAML)
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml


def main():
    action = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
    inputs = {name: str(spec.get("default", "")) for name, spec in action.get("inputs", {}).items()}
    for pair in sys.argv[2:]:
        name, _, value = pair.partition("=")
        if name not in inputs:
            sys.exit(f"run_action_locally: the action has no input `{name}`")
        inputs[name] = value
    outputs = {}
    temp = tempfile.mkdtemp(prefix="runner-temp-")
    path_file, output_file = os.path.join(temp, "github_path"), os.path.join(temp, "github_output")
    extra_path = []

    def expand(text):
        def value(match):
            expression = match.group(1).strip()
            if expression.startswith("inputs."):
                return inputs[expression[len("inputs."):]]
            step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
            if step:
                return outputs.get(step.group(1), {}).get(step.group(2), "")
            sys.exit(f"run_action_locally: cannot evaluate `{expression}`")
        return re.sub(r"\$\{\{(.*?)\}\}", value, str(text))

    for step in action["runs"]["steps"]:
        name = step.get("name", step.get("id", "?"))
        if "uses" in step:
            print(f"-- {name}: `uses: {step['uses']}` (not run here)", flush=True)
            continue
        print(f"-- {name}", flush=True)
        open(output_file, "w").close()
        env = dict(os.environ, RUNNER_TEMP=temp, GITHUB_PATH=path_file, GITHUB_OUTPUT=output_file)
        env.update({key: expand(value) for key, value in step.get("env", {}).items()})
        env["PATH"] = os.pathsep.join(extra_path + [env["PATH"]])
        status = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", expand(step["run"])], env=env).returncode
        if step.get("id"):
            outputs[step["id"]] = dict(line.split("=", 1) for line in open(output_file).read().splitlines() if "=" in line)
        if os.path.exists(path_file):
            extra_path = [line for line in open(path_file).read().splitlines() if line] [::-1]
        if status != 0:
            print(f"-- {name}: exit {status}", flush=True)
            return status
    return 0


if __name__ == "__main__":
    sys.exit(main())
