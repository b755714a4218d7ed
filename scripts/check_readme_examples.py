#!/usr/bin/env python3
"""Runs every `$ tensorlint …` command shown in README.md and compares what it prints with what the README
shows under it, so that no example output goes stale.

A line of expected output that ends in ` …` matches any line that starts with the text before it (for long
fixes shortened in the README). Commands run from the repository's top folder, with colours off.

    python3 scripts/check_readme_examples.py [--tensorlint .build/release/tensorlint] [--update]
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def blocks(text):
    """(line index of the command, command, expected lines) for each `$ tensorlint` line in a fenced block."""
    lines = text.split("\n")
    fenced = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("```"):
            fenced = not fenced
        elif fenced and line.startswith("$ tensorlint "):
            start = index
            expected = []
            index += 1
            while index < len(lines) and not lines[index].startswith("```") and not lines[index].startswith("$ "):
                expected.append(lines[index])
                index += 1
            yield start, line[2:], expected
            continue
        index += 1


def run(binary, command):
    argv = shlex.split(command)
    argv[0] = binary
    env = dict(os.environ, NO_COLOR="1")
    # Standard error into the same pipe, in the order a terminal shows the two.
    result = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, timeout=120)
    return result.stdout.rstrip("\n").split("\n")


def matches(expected, actual):
    if len(expected) != len(actual):
        return False
    for want, got in zip(expected, actual):
        if want.endswith(" …"):
            if not got.startswith(want[:-2]):
                return False
        elif want != got:
            return False
    return True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tensorlint", default=os.path.join(ROOT, ".build/release/tensorlint"))
    parser.add_argument("--update", action="store_true", help="write what the binary prints into README.md")
    args = parser.parse_args()
    path = os.path.join(ROOT, "README.md")
    text = open(path, encoding="utf-8").read()
    stale = []
    checked = 0
    lines = text.split("\n")
    for start, command, expected in reversed(list(blocks(text))):
        actual = run(os.path.abspath(args.tensorlint), command)
        checked += 1
        if not matches(expected, actual):
            stale.append(command)
            if args.update:
                lines[start + 1:start + 1 + len(expected)] = actual
    if args.update and stale:
        open(path, "w", encoding="utf-8").write("\n".join(lines))
    for command in stale:
        print(f"README.md: the output shown for `{command}` is not what the binary prints" + (" (updated)" if args.update else ""))
    print(f"{checked} README examples checked, {len(stale)} stale")
    return 1 if stale and not args.update else 0


if __name__ == "__main__":
    sys.exit(main())
