#!/usr/bin/env bash
# Runs Keeper's own three Tenable samples, and tenable-rotate through the drop-in that replaces
# each, against the emulator, and checks that both leave the same state (keeper_samples.py).
# The samples are run from ../shared/vendor/keeper-pam-scripts (beside the checkout), never
# copied. They need pyTenable and restfly<2, installed into a virtualenv reused when it exists.
# Usage: conformance/keeper_samples.sh [BINARY]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
bin="${1:-$root/target/release/tenable-rotate}"
case "$bin" in /*) ;; *) bin="$PWD/$bin" ;; esac
samples="${KEEPER_SAMPLES_DIR:-$root/../shared/vendor/keeper-pam-scripts/tenable}"
venv="${KEEPER_SAMPLES_VENV:-$root/target/keeper-samples-venv}"

[ -x "$bin" ] || { echo "no executable at $bin" >&2; exit 2; }
[ -d "$samples" ] || { echo "Keeper's samples are not at $samples (set KEEPER_SAMPLES_DIR)" >&2; exit 2; }

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/keeper-samples-requirements.txt"
fi
# What the samples import, checked before they run.
"$venv/bin/python" -c 'import tenable.io, tenable.sc, restfly; from restfly.errors import UnauthorizedError; print("pyTenable", __import__("importlib.metadata").metadata.version("pytenable"), "restfly", restfly.__version__)'
"$venv/bin/python" "$here/keeper_samples.py" "$bin" "$samples"
