"""PEP 517 build backend for `tensorlint-pre-commit`, the distribution at this repository's root.

pre-commit installs a `language: python` hook repository with `pip install .`. What it must get is the
`tensorlint` wheel (the prebuilt binary, from PyPI), never a Swift build, so the root's pyproject.toml
describes a shim whose only content is its metadata: `Requires-Dist: tensorlint==<version>`. This backend
(`backend-path = ["python"]`, `requires = []`) writes that wheel with python/wheel_writer.py, so building it
needs nothing from any index: `PIP_NO_INDEX=1 PIP_FIND_LINKS=dist pip install .` works offline.

It reads name, version, description, requires-python and dependencies from pyproject.toml's [project]
table: with tomllib (Python 3.11+), else with a reader of the subset that table uses (strings and arrays of
strings, one `key = value` per line or an array over several lines, `#` comments on lines of their own).
"""
from __future__ import annotations

import ast
import gzip
import io
import os
import re
import tarfile

import wheel_writer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# What an sdist needs to build the wheel again.
SDIST_FILES = ("pyproject.toml", "python/pre_commit_backend.py", "python/wheel_writer.py")


def project() -> dict:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        text = f.read()
    try:
        import tomllib
    except ImportError:
        return _project_table(text.decode())
    return tomllib.loads(text.decode())["project"]


def _project_table(text: str) -> dict:
    table, pending, in_project = {}, "", False
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if not pending and re.fullmatch(r"\[[^\]]*\]", stripped):
            in_project = stripped == "[project]"
            continue
        if not in_project:
            continue
        pending += line + "\n"
        key, _, value = pending.partition("=")
        if value.count("[") > value.count("]"):
            continue  # an array going on on the next line
        table[key.strip()] = ast.literal_eval(value.strip())
        pending = ""
    return table


def _metadata(meta: dict) -> str:
    return wheel_writer.metadata(meta["name"], meta["version"], meta.get("description", ""),
                                 requires_python=meta.get("requires-python"),
                                 requires_dist=tuple(meta.get("dependencies", ())))


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    meta = project()
    wheel = wheel_writer.WheelWriter(meta["name"], meta["version"], tags=["py3-none-any"], root_is_purelib=True)
    return os.path.basename(wheel.write(wheel_directory, _metadata(meta)))


def build_sdist(sdist_directory, config_settings=None):
    meta = project()
    base = f"{wheel_writer.normalize_name(meta['name'])}-{meta['version']}"
    members = [("PKG-INFO", _metadata(meta).encode())]
    for path in SDIST_FILES:
        with open(os.path.join(ROOT, path), "rb") as f:
            members.append((path, f.read()))
    path = os.path.join(sdist_directory, base + ".tar.gz")
    mtime = int(os.environ.get("SOURCE_DATE_EPOCH", 315532800))  # 1980-01-01, as the wheels
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=mtime, filename="") as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in sorted(members):
            info = tarfile.TarInfo(f"{base}/{name}")
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            archive.addfile(info, io.BytesIO(data))
    return os.path.basename(path)
