#!/usr/bin/env python3
"""Builds the `tensorlint` platform wheel from a release binary, the way ruff's and maturin's wheels are made.

    python3 scripts/build_wheel.py [--binary .build/release/tensorlint] [--out dist]

writes dist/tensorlint-<version>-py3-none-<platform>.whl, where the version is what `BINARY --version`
prints. The wheel holds:

- tensorlint-<version>.data/scripts/tensorlint: a stripped copy of the binary, mode 0755, which pip installs
  into the environment's scripts folder (a venv's bin/), so `tensorlint` on PATH is the binary itself: no
  Python start-up in front of a 15 ms lint;
- tensorlint/ (from python/tensorlint/): `find_tensorlint_bin()` and `python -m tensorlint ARGS`, which
  execs that binary;
- tensorlint-<version>.dist-info: METADATA (description from python/README.md), WHEEL (Root-Is-Purelib:
  false), RECORD.

The platform tag comes from the binary, not from the machine. On Linux it is manylinux_<x>_<y>_<arch>, x.y
the highest GLIBC_x.y symbol version named in the binary's version needs (.gnu.version_r), as
`objdump -T` shows them; a binary that needs a library manylinux systems need not have (a Swift runtime not
linked in statically) is refused; a fully static one (no interpreter, no version needs: Swift's static
Linux SDK) is tagged manylinux_2_17 + musllinux_1_1. On macOS it is macosx_<minos>_<arch>, from the
LC_BUILD_VERSION load command (universal2 for a fat arm64 + x86_64 binary).
The wheel is reproducible (see python/wheel_writer.py); SOURCE_DATE_EPOCH sets its timestamps.
Needs `strip` (binutils on Linux, Xcode's on macOS) and Python 3.8+; standard library only.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import struct
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "python"))
import wheel_writer  # noqa: E402  (python/wheel_writer.py, shared with the pre-commit shim's build backend)

SUMMARY = "Static analyzer for ML model files: predicts coremltools and onnxruntime conversion failures."
URL = "https://github.com/tensorlint/tensorlint"
REQUIRES_PYTHON = ">=3.8"  # only `python -m tensorlint` runs Python
VERSION = re.compile(r"^\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?$")

ELF_MACHINES = {3: "i686", 40: "armv7l", 62: "x86_64", 183: "aarch64", 21: "ppc64le", 22: "s390x", 243: "riscv64"}
MACHO_CPUS = {0x01000007: "x86_64", 0x0100000C: "arm64"}
# The libraries a manylinux system provides (PEP 600 and auditwheel's policy), without the graphical ones.
MANYLINUX_LIBRARIES = {"libc.so.6", "libm.so.6", "libdl.so.2", "librt.so.1", "libpthread.so.0", "libgcc_s.so.1",
                       "libstdc++.so.6", "libz.so.1", "libutil.so.1", "libresolv.so.2", "libnsl.so.1", "libexpat.so.1"}
LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}


def elf_platform_tags(data: bytes) -> list[str]:
    """manylinux tags for an ELF executable, from its machine and the GLIBC versions it needs."""
    is64, little = data[4] == 2, data[5] == 1
    end = "<" if little else ">"
    machine = struct.unpack_from(end + "H", data, 18)[0]
    arch = ELF_MACHINES.get(machine)
    if arch is None:
        raise SystemExit(f"build_wheel: unknown ELF machine {machine}")
    if arch == "ppc64le" and not little:
        arch = "ppc64"
    if is64:
        phoff, shoff = struct.unpack_from(end + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x36)
    else:
        phoff, shoff = struct.unpack_from(end + "II", data, 0x1C)
        phentsize, phnum, shentsize, shnum = struct.unpack_from(end + "HHHH", data, 0x2A)

    interpreter = None
    for i in range(phnum):
        base = phoff + i * phentsize
        if is64:
            p_type, _, off, _, _, size = struct.unpack_from(end + "IIQQQQ", data, base)
        else:
            p_type, off, _, _, size = struct.unpack_from(end + "IIIII", data, base)
        if p_type == 3:  # PT_INTERP: the dynamic loader's path
            interpreter = data[off:off + size].rstrip(b"\0").decode()

    sections = []
    for i in range(shnum):
        base = shoff + i * shentsize
        if is64:
            _, sh_type, _, _, off, size, link, info = struct.unpack_from(end + "IIQQQQII", data, base)
        else:
            _, sh_type, _, _, off, size, link, info = struct.unpack_from(end + "IIIIIIII", data, base)
        sections.append((sh_type, off, size, link, info))

    def string(table: int, offset: int) -> str:
        start = sections[table][1] + offset
        return data[start:data.index(b"\0", start)].decode()

    needed = []
    for sh_type, off, size, link, _ in sections:
        if sh_type == 6:  # SHT_DYNAMIC: (tag, value) pairs; DT_NEEDED (1) names a library
            entry_size = 16 if is64 else 8
            for entry in range(off, off + size, entry_size):
                tag, value = struct.unpack_from(end + ("qQ" if is64 else "iI"), data, entry)
                if tag == 0:
                    break
                if tag == 1:
                    needed.append(string(link, value))
    outside = [lib for lib in needed if lib not in MANYLINUX_LIBRARIES and not lib.startswith("ld-linux")]
    if outside:
        hint = " (build with --static-swift-stdlib)" if any("swift" in lib or "Foundation" in lib for lib in outside) else ""
        raise SystemExit(f"build_wheel: the binary needs {', '.join(outside)}, which a manylinux system need not "
                         f"have{hint}")

    glibc = []
    for sh_type, off, _, link, count in sections:
        if sh_type != 0x6FFFFFFE:  # SHT_GNU_verneed: per needed library, the symbol versions asked of it
            continue
        entry = off
        for _ in range(count):
            _, aux_count, _, aux, next_entry = struct.unpack_from(end + "HHIII", data, entry)
            vernaux = entry + aux
            for _ in range(aux_count):
                _, _, _, name, next_aux = struct.unpack_from(end + "IHHII", data, vernaux)
                label = string(link, name)
                found = re.fullmatch(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?", label)
                if found:
                    glibc.append((int(found.group(1)), int(found.group(2))))
                vernaux += next_aux
            entry += next_entry

    if interpreter is None and not glibc:
        # Fully static: runs on any Linux of its architecture, glibc or musl.
        return [f"manylinux_2_17_{arch}", f"manylinux2014_{arch}", f"musllinux_1_1_{arch}"]
    if interpreter and "musl" in interpreter:
        raise SystemExit(f"build_wheel: the binary is linked against musl dynamically ({interpreter}): "
                         "build it static (Swift's static Linux SDK) or with glibc")
    if not glibc:
        raise SystemExit("build_wheel: dynamically linked but no GLIBC symbol versions found: not a glibc binary?")
    major, minor = max(glibc)
    tags = [f"manylinux_{major}_{minor}_{arch}"]
    legacy = LEGACY_MANYLINUX.get((major, minor))
    if legacy and (legacy == "manylinux2014" or arch in ("x86_64", "i686")):
        tags.append(f"{legacy}_{arch}")
    return tags


def macho_platform_tags(data: bytes) -> list[str]:
    """The macosx tag for a Mach-O executable (thin or fat), from its minimum OS version and architectures."""
    slices = []
    if data[:4] == b"\xca\xfe\xba\xbe":  # fat header, big-endian
        for i in range(struct.unpack_from(">I", data, 4)[0]):
            cputype, _, offset, size, _ = struct.unpack_from(">IIIII", data, 8 + 20 * i)
            slices.append((cputype, data[offset:offset + size]))
    else:
        slices.append((struct.unpack_from("<I", data, 4)[0], data))
    archs, minos = set(), (0, 0)
    for cputype, body in slices:
        if body[:4] != b"\xcf\xfa\xed\xfe":
            raise SystemExit("build_wheel: not a 64-bit little-endian Mach-O slice")
        archs.add(MACHO_CPUS.get(cputype, f"cpu{cputype:#x}"))
        ncmds = struct.unpack_from("<I", body, 16)[0]
        offset = 32
        for _ in range(ncmds):
            cmd, size = struct.unpack_from("<II", body, offset)
            version = None
            if cmd == 0x32:  # LC_BUILD_VERSION: platform, minos, sdk, ntools
                platform_id, version = struct.unpack_from("<II", body, offset + 8)
                if platform_id != 1:  # PLATFORM_MACOS
                    version = None
            elif cmd == 0x24:  # LC_VERSION_MIN_MACOSX: version, sdk
                version = struct.unpack_from("<I", body, offset + 8)[0]
            if version is not None:
                minos = max(minos, (version >> 16, (version >> 8) & 0xFF))
            offset += size
    if minos == (0, 0):
        raise SystemExit("build_wheel: no macOS minimum version (LC_BUILD_VERSION) in the binary")
    if archs == {"arm64", "x86_64"}:
        arch = "universal2"
    elif len(archs) == 1 and next(iter(archs)) in MACHO_CPUS.values():
        arch = next(iter(archs))
    else:
        raise SystemExit(f"build_wheel: unsupported architectures {sorted(archs)}")
    # From macOS 11 pip only knows <major>_0 tags.
    major, minor = minos if minos[0] < 11 else (minos[0], 0)
    return [f"macosx_{major}_{minor}_{arch}"]


def platform_tags(path: str) -> list[str]:
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] == b"\x7fELF":
        tags = elf_platform_tags(data)
    elif data[:4] in (b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"):
        tags = macho_platform_tags(data)
    else:
        raise SystemExit(f"build_wheel: {path} is neither an ELF nor a Mach-O executable")
    arch = re.search(r"(x86_64|aarch64|arm64|universal2|i686|armv7l|ppc64le|ppc64|s390x|riscv64)$", tags[0]).group(1)
    host = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine().lower(), platform.machine().lower())
    if arch != "universal2" and {"arm64": "aarch64"}.get(arch, arch) != host:
        print(f"build_wheel: note: the binary is for {arch}, this machine is {platform.machine()}", file=sys.stderr)
    return tags


def binary_version(path: str) -> str:
    version = subprocess.run([path, "--version"], check=True, capture_output=True, text=True).stdout.strip()
    if not VERSION.match(version):
        raise SystemExit(f"build_wheel: `{path} --version` printed {version!r}, not a release version")
    return version


def stripped_copy(path: str, work: str) -> bytes:
    copy = os.path.join(work, "tensorlint")
    shutil.copyfile(path, copy)
    strip = shutil.which("strip")
    if strip is None:
        raise SystemExit("build_wheel: `strip` not found (binutils on Linux, Xcode command line tools on macOS)")
    # GNU strip removes every symbol and debug section by default; on macOS keep global symbols (-x).
    args = [strip, "-S", "-x", copy] if sys.platform == "darwin" else [strip, copy]
    subprocess.run(args, check=True)
    with open(copy, "rb") as f:
        return f.read()


def package_files() -> list[tuple[str, bytes]]:
    root = os.path.join(REPO, "python", "tensorlint")
    files = []
    for name in sorted(os.listdir(root)):
        if name.endswith(".py"):
            with open(os.path.join(root, name), "rb") as f:
                files.append((f"tensorlint/{name}", f.read()))
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "tensorlint"))
    parser.add_argument("--out", default=os.path.join(REPO, "dist"))
    args = parser.parse_args()
    if not os.access(args.binary, os.X_OK):
        raise SystemExit(f"build_wheel: {args.binary}: no executable there (swift build -c release first)")

    version = binary_version(args.binary)
    tags = [f"py3-none-{tag}" for tag in platform_tags(args.binary)]
    with open(os.path.join(REPO, "python", "README.md"), encoding="utf-8") as f:
        description = f.read()
    with tempfile.TemporaryDirectory() as work:
        binary = stripped_copy(args.binary, work)

    wheel = wheel_writer.WheelWriter("tensorlint", version, tags=tags, root_is_purelib=False)
    for archive_path, data in package_files():
        wheel.add(archive_path, data)
    wheel.add(wheel.data_path("scripts", "tensorlint"), binary, mode=0o755)
    text = wheel_writer.metadata(
        "tensorlint", version, SUMMARY, requires_python=REQUIRES_PYTHON, description=description,
        project_urls=(("Homepage", URL), ("Source", URL), ("Issues", URL + "/issues")),
        classifiers=("Development Status :: 3 - Alpha", "Environment :: Console",
                     "Intended Audience :: Developers", "Intended Audience :: Science/Research",
                     "Operating System :: MacOS", "Operating System :: POSIX :: Linux",
                     "Topic :: Scientific/Engineering :: Artificial Intelligence",
                     "Topic :: Software Development :: Quality Assurance"))
    path = wheel.write(args.out, text)
    print(f"{path}  ({os.path.getsize(path) / 1e6:.1f} MB; binary {len(binary) / 1e6:.1f} MB stripped)")


if __name__ == "__main__":
    main()
