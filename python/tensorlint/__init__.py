"""tensorlint, installed with pip: the wheel puts the tensorlint binary itself in the environment's scripts
folder (on PATH), so `tensorlint ...` never starts Python. This package only finds that binary, for
`python -m tensorlint ...` and for tools that want its path.
"""
from __future__ import annotations

import os
import shutil
import sys
import sysconfig

__all__ = ["find_tensorlint_bin"]


def find_tensorlint_bin() -> str:
    """The path of the tensorlint binary this package was installed with.

    Looked for, in order, in the scripts folder of the running interpreter's install scheme (a venv's
    `bin`), of its user scheme (`pip install --user`), in the `bin` folder beside the package
    (`pip install --target DIR`), and last on PATH. Raises FileNotFoundError naming the first place.
    """
    exe = "tensorlint" + (sysconfig.get_config_var("EXE") or "")
    scripts = os.path.join(sysconfig.get_path("scripts"), exe)
    if os.path.isfile(scripts):
        return scripts

    if sys.version_info >= (3, 10):
        user_scheme = sysconfig.get_preferred_scheme("user")
    elif os.name == "nt":
        user_scheme = "nt_user"
    elif sys.platform == "darwin" and getattr(sys, "_framework", None):
        user_scheme = "osx_framework_user"
    else:
        user_scheme = "posix_user"
    candidates = [
        os.path.join(sysconfig.get_path("scripts", scheme=user_scheme), exe),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin", exe),
    ]
    for path in candidates:
        if os.path.isfile(path):
            return path

    on_path = shutil.which(exe)
    if on_path:
        return on_path
    raise FileNotFoundError(scripts)
