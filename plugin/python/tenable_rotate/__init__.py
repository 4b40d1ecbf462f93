"""The tenable-rotate binary, installed by this wheel.

The wheel's real content is the binary, which pip puts in the interpreter's scripts
directory. This module only finds it (for programs that want the path, such as Keeper's
SaaS plugin), and `python -m tenable_rotate ...` runs it.
"""

from __future__ import annotations

import os
import sys
import sysconfig

__all__ = ["find_binary"]

_NAME = "tenable-rotate" + (".exe" if os.name == "nt" else "")


def _candidates():
    yield sysconfig.get_path("scripts")
    # pip install --user
    user_scheme = {"nt": "nt_user", "posix": "posix_user"}.get(os.name)
    if user_scheme is not None:
        try:
            yield sysconfig.get_path("scripts", scheme=user_scheme)
        except KeyError:  # pragma: no cover - a Python built without user schemes
            pass
    # pip install --target DIR: the scripts land in DIR/bin next to this package.
    yield os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin")


def find_binary() -> str:
    """The absolute path of the installed tenable-rotate binary.

    Raises FileNotFoundError naming the places looked in.
    """
    looked = []
    for directory in _candidates():
        if not directory:
            continue
        path = os.path.join(directory, _NAME)
        looked.append(directory)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        f"{_NAME} is not installed next to {sys.executable} (looked in {', '.join(looked)}); "
        "reinstall the tenable-rotate wheel"
    )
