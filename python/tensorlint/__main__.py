"""`python -m tensorlint ARGS` runs the installed tensorlint binary with ARGS; its exit status is this one's."""
from __future__ import annotations

import os
import sys

from tensorlint import find_tensorlint_bin


def main() -> None:
    try:
        binary = os.fsdecode(find_tensorlint_bin())
    except FileNotFoundError as missing:
        sys.stderr.write(f"tensorlint: the tensorlint binary is not installed (looked first for {missing}); "
                         "reinstall with `pip install --force-reinstall tensorlint`\n")
        sys.exit(2)
    if sys.platform == "win32":
        import subprocess

        sys.exit(subprocess.run([binary, *sys.argv[1:]]).returncode)
    os.execv(binary, [binary, *sys.argv[1:]])


if __name__ == "__main__":
    main()
