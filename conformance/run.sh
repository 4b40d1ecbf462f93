#!/usr/bin/env bash
# Checks the emulator against pyTenable: creates a virtualenv (reused when it exists), installs
# the pinned pyTenable, starts `tenable-rotate emulator` with the seeds pytenable_check.py
# expects, runs the check and stops the emulator. Usage: conformance/run.sh [BINARY]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="${1:-$here/../target/release/tenable-rotate}"
venv="${CONFORMANCE_VENV:-$here/../target/conformance-venv}"

if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
fi
"$venv/bin/python" -c 'import tenable; print("pyTenable", tenable.__version__ if hasattr(tenable, "__version__") else "")' 2>/dev/null || true

out="$(mktemp)"
"$bin" emulator --access-key conformance-access --secret-key conformance-secret \
    --user 'alice@example.com:Old-Passw0rd!xx' --sc-user 'bob:Old-Passw0rd!xx' \
    --credential 'windows:Windows service:svc-scan:Old-Passw0rd!xx' \
    --credential 'ssh:Linux scanner:scanner:Old-Passw0rd!xx' \
    --sc-credential 'ssh:Linux root:root:Old-Passw0rd!xx' >"$out" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null; rm -f "$out"' EXIT
for _ in $(seq 100); do
    grep -q '^listening on ' "$out" && break
    sleep 0.05
done
url="$(sed -n 's/^listening on //p' "$out" | head -1)"
[ -n "$url" ] || { echo "the emulator did not start" >&2; exit 1; }
"$venv/bin/python" "$here/pytenable_check.py" "$url"
