#!/usr/bin/env python3
"""Sets tensorlint's version everywhere it is written, then prints the git commands to commit and tag it.

    python3 scripts/bump_version.py NEW_VERSION [--root DIR]

- Sources/TensorlintCLI/Tensorlint.swift: `public let toolVersion = "…"` (what `tensorlint --version` prints,
  hence the wheel's version);
- pyproject.toml: the pre-commit shim's version and its `tensorlint==…` dependency;
- action.yml: the `version` input's default (the action installs its own version);
- README.md and python/README.md (the PyPI description): `rev: v…` lines and `tensorlint/tensorlint@v…`.

Every file is checked before any is written: a pattern that no longer matches stops the script with nothing
changed. --root edits another copy of the repository (for trying it out).
"""
from __future__ import annotations

import argparse
import os
import re
import sys

VERSION = re.compile(r"^\d+\.\d+\.\d+((a|b|rc)\d+)?$")
V = r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?"

# (file, pattern whose group 1 is the version, how many matches at least)
EDITS = [
    ("Sources/TensorlintCLI/Tensorlint.swift", rf'^public let toolVersion = "({V})"$', 1),
    ("pyproject.toml", rf'^version = "({V})"$', 1),
    ("pyproject.toml", rf'^    "tensorlint==({V})",$', 1),
    ("action.yml", rf'^    default: "({V})"  # the action\'s own version', 1),
    ("action.yml", rf'tensorlint/tensorlint@v({V})\b', 1),
    ("README.md", rf'^\s*rev: v({V})\s*$', 1),
    ("README.md", rf'tensorlint/tensorlint@v({V})\b', 0),
    ("python/README.md", rf'^\s*rev: v({V})\s*$', 1),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the new version, e.g. 0.2.0")
    parser.add_argument("--root", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    args = parser.parse_args()
    if not VERSION.match(args.version):
        sys.exit(f"bump_version: {args.version!r} is not a version like 1.2.3 or 1.2.3rc1")

    texts: dict[str, str] = {}
    old_versions = set()
    for path, pattern, at_least in EDITS:
        if path not in texts:
            with open(os.path.join(args.root, path), encoding="utf-8") as f:
                texts[path] = f.read()
        regex = re.compile(pattern, re.M)
        matches = list(regex.finditer(texts[path]))
        if len(matches) < at_least:
            sys.exit(f"bump_version: {path}: nothing matches {pattern!r}; nothing was changed")
        old_versions.update(m.group(1) for m in matches)
        texts[path] = regex.sub(lambda m: m.group(0)[:m.start(1) - m.start(0)] + args.version
                                + m.group(0)[m.end(1) - m.start(0):], texts[path])

    changed = []
    for path, text in texts.items():
        full = os.path.join(args.root, path)
        with open(full, encoding="utf-8") as f:
            if f.read() == text:
                continue
        with open(full, "w", encoding="utf-8") as f:
            f.write(text)
        changed.append(path)

    print(f"version {', '.join(sorted(old_versions))} -> {args.version} in: {', '.join(changed) or 'nothing (already)'}")
    print("Then, once `swift build -c release` and `swift test` pass:")
    print(f"    git add {' '.join(sorted(set(changed)))}")
    print(f'    git commit -m "tensorlint {args.version}"')
    print(f'    git tag -a v{args.version} -m "tensorlint {args.version}"')
    print(f"    git push origin HEAD v{args.version}    # the tag starts .github/workflows/release.yml")


if __name__ == "__main__":
    main()
