#!/usr/bin/env bash
# Checks `discover --keeper-import` with Keeper Commander's own JSON importer, offline: starts
# the emulator with users and credentials, writes the import file, and has Commander's
# KeeperJsonImporter read it (conformance/keeper_import.py asserts type, title, login, fields
# and folder of every record, and that no secret is in the file). keepercommander is installed
# from PyPI into target/keeper-import-venv (about 1.5 minutes and 225 MB the first time).
# Usage: conformance/keeper_import.sh BINARY
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
venv="$root/target/keeper-import-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/conformance/keeper-import-requirements.txt"
fi
work="$(mktemp -d)"
access="discover-access-key" secret="discover-secret-key" password="Old-Passw0rd!2024"
"$bin" emulator --access-key "$access" --secret-key "$secret" \
    --user "alice@example.com:$password" --user "bob@example.com:$password" \
    --credential "windows:AD scan:CORP\\svc-scan:$password" \
    --credential "database:PG scan:svc-scan@corp.example.com:$password" \
    --credential "ssh:Linux root:root:$password" --credential "snmp:Switches:x:public-community" \
    >"$work/emulator.out" &
emulator=$!
trap 'kill $emulator 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do grep -q listening "$work/emulator.out" && break; sleep 0.1; done
url="$(awk '/listening/ {print $3}' "$work/emulator.out")"
TENABLE_ACCESS_KEY="$access" TENABLE_SECRET_KEY="$secret" \
    "$bin" discover --url "$url" --keeper-import "$work/import.json" --folder "Tenable PAM" >/dev/null
"$venv/bin/python" "$root/conformance/keeper_import.py" "$work/import.json" "Tenable PAM" \
    "$access" "$secret" "$password" "public-community"
