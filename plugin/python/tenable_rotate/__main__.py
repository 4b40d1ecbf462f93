"""`python -m tenable_rotate ARGS`: runs the installed binary with ARGS."""

import os
import subprocess
import sys

from tenable_rotate import find_binary


def main() -> int:
    binary = find_binary()
    if os.name == "nt":
        return subprocess.call([binary, *sys.argv[1:]])
    os.execv(binary, [binary, *sys.argv[1:]])
    return 1  # pragma: no cover - execv does not return


if __name__ == "__main__":
    sys.exit(main())
