#!/usr/bin/env bash
# The Windows .exe, proven under wine (issue 16): builds the release .exe
# (x86_64-pc-windows-gnu, the same cargo command as scripts/release.sh, so what ships), builds
# the test-only bcryptprimitives.dll shim beside a copy of it in target/wine-test/ (Debian 12's
# wine 8 lacks ProcessPrng; see tests/windows/README.md; never shipped), starts one persistent
# wineserver with its prefix in target/wine-prefix, then:
#   1. the Windows-only checks: the stdin line in each encoding a PowerShell script pipes,
#      --config and TENABLE_CA_FILE given as Windows paths (Z:\ and C:\), a non-ASCII user
#      name in the one-line result, against the Linux emulator over TLS;
#   2. the whole end-to-end suite against the .exe, through tests/windows/wine-run
#      (TENABLE_ROTATE_TEST_BIN), with the tests that cannot apply to Windows skipped, each
#      saying why (util::skip_on_windows).
# Usage: scripts/windows-e2e.sh [cargo test filter...]   Installs wine, wine64 and mingw-w64.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
started=$SECONDS

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for p in wine wine64 gcc-mingw-w64-x86-64; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
rustup target add x86_64-pc-windows-gnu >/dev/null

echo "== build: the release .exe"
cargo build --release --locked --quiet --target x86_64-pc-windows-gnu
cargo build --locked --quiet # the Linux binary serves the emulator below
linux_bin="$root/target/debug/tenable-rotate"

# The test directory: a copy of the .exe and the shim, built from source, beside it.
dir="$root/target/wine-test"
rm -rf "$dir" && mkdir -p "$dir"
cp target/x86_64-pc-windows-gnu/release/tenable-rotate.exe "$dir/"
x86_64-w64-mingw32-gcc -shared -O2 -Wall -o "$dir/bcryptprimitives.dll" \
    tests/windows/bcryptprimitives.c -ladvapi32

export WINEDEBUG=-all WINEPREFIX="$root/target/wine-prefix"
export TENABLE_ROTATE_WINE_EXE="$dir/tenable-rotate.exe"
launcher="$root/tests/windows/wine-run"
# One wineserver for the whole run, started first: each process then starts in a fraction
# of a second, and wine's services are started once, here (see below).
mkdir -p "$WINEPREFIX"
wineserver -p 2>/dev/null || true # (fails only when one already runs for this prefix)
trap 'wineserver -k 2>/dev/null || true; [ -n "${emu_pid:-}" ] && kill "$emu_pid" 2>/dev/null || true' EXIT
if [ ! -f "$WINEPREFIX/system.reg" ]; then
    t=$SECONDS
    # No Mono or Gecko: nothing here needs them, and their installers would ask.
    WINEDLLOVERRIDES="mscoree,mshtml=" wineboot -i </dev/null >/dev/null 2>&1
    echo "== wine: a new prefix in $WINEPREFIX ($((SECONDS - t)) s)"
fi
# The first process in a prefix starts wine's own services (services.exe, winedevice.exe...),
# which live as long as the wineserver and inherit that process's standard streams: a test's
# pipe would never see its end. So the first run gets /dev/null for all three.
ms() { date +%s%3N; }
t=$(ms)
"$launcher" --version </dev/null >/dev/null 2>&1
echo "wine start-up, first run (with its services): $(($(ms) - t)) ms"
t=$(ms)
"$launcher" --version
echo "wine start-up, a later run: $(($(ms) - t)) ms"

echo "== Windows-only checks"
scratch="$(mktemp -d)"
# A Unix path as the .exe sees it (Z: is / in every wine prefix).
winpath() { printf 'Z:%s' "$1" | tr / '\\'; }
fail() { echo "windows-e2e: $*" >&2; exit 1; }

ak=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
sk=fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
user='zoë.ünïcode@example.com'
p1='Old-Passw0rd!one' p2='N3w-Passw0rd!two' p3='Thr33-Passw0rd!x' p4='F0ur-Passw0rd!yy'
"$linux_bin" emulator --access-key "$ak" --secret-key "$sk" --user "$user:$p1" \
    --tls --write-ca "$scratch/ca.pem" >"$scratch/emulator.out" 2>&1 &
emu_pid=$!
for _ in $(seq 100); do grep -q '^listening on ' "$scratch/emulator.out" && break; sleep 0.1; done
url="$(sed -n 's/^listening on //p' "$scratch/emulator.out" | head -1)"
[ -n "$url" ] || fail "the emulator did not start: $(cat "$scratch/emulator.out")"

# The gateway's line for USER, NEW, OLD: the key record carries no URL (it comes from the
# config file), the keys do.
line() {
    local records
    records="$(printf '[{"uid":"K1","title":"Tenable Authentication Record","tenable_access_key":"%s","tenable_secret_key":"%s"}]' "$ak" "$sk" | base64 -w0)"
    printf '{"user":"%s","newPassword":"%s","oldPassword":"%s","userRecordUid":"U1","records":"%s"}' \
        "$user" "$2" "$1" "$records" | base64 -w0
}
# Runs the .exe with stdin from a file and `$@`; checks the exit status and that no secret
# shows; leaves the output in $scratch/out.
run_exe() {
    local want="$1" input="$2"; shift 2
    local code=0
    "$launcher" "$@" <"$input" >"$scratch/out" 2>&1 || code=$?
    for secret in "$ak" "$sk" "$p1" "$p2" "$p3" "$p4"; do
        ! grep -qF -- "$secret" "$scratch/out" || fail "a secret shows in the output of $*"
    done
    [ "$code" = "$want" ] || fail "exit $code, not $want, for $*: $(cat "$scratch/out")"
}

# --config as a Z:\ path, TENABLE_CA_FILE (inside it) as a Z:\ path, and the line as Windows
# PowerShell 5.1 pipes it by default: ASCII, CRLF.
printf 'url = "%s"\nca_file = '"'"'%s'"'"'\n' "$url" "$(winpath "$scratch/ca.pem")" >"$scratch/config.toml"
printf '%s\r\n' "$(line "$p1" "$p2")" >"$scratch/ascii-crlf"
run_exe 0 "$scratch/ascii-crlf" keeper --config "$(winpath "$scratch/config.toml")"
grep -q "changed the password of user '$user'" "$scratch/out" ||
    fail "no UTF-8 user name in the result: $(od -c "$scratch/out" | head)"
echo "ok: --config Z:\\..., ca_file Z:\\..., ASCII+CRLF stdin; the result line is UTF-8: $(cat "$scratch/out")"

# The same run again is in sync (a login with the new password proves it).
run_exe 0 "$scratch/ascii-crlf" keeper --config "$(winpath "$scratch/config.toml")"
grep -q "already in sync" "$scratch/out" || fail "not in sync: $(cat "$scratch/out")"

# --config as a C:\ path inside the prefix, TENABLE_CA_FILE from the environment as a Z:\
# path, and the line as PowerShell sends it with $OutputEncoding = [Text.Encoding]::Unicode:
# UTF-16 LE with its byte-order mark.
mkdir -p "$WINEPREFIX/drive_c/tenable-rotate"
printf 'url = "%s"\n' "$url" >"$WINEPREFIX/drive_c/tenable-rotate/config.toml"
{ printf '\xff\xfe'; printf '%s\r\n' "$(line "$p2" "$p3")" | iconv -f ASCII -t UTF-16LE; } >"$scratch/utf16"
TENABLE_CA_FILE="$(winpath "$scratch/ca.pem")" \
    run_exe 0 "$scratch/utf16" keeper --config 'C:\tenable-rotate\config.toml'
echo "ok: --config C:\\..., TENABLE_CA_FILE=Z:\\..., UTF-16 LE stdin with BOM"

# The line with a UTF-8 byte-order mark ([Text.Encoding]::UTF8 in Windows PowerShell 5.1),
# the config file through TENABLE_ROTATE_CONFIG.
{ printf '\xef\xbb\xbf'; printf '%s\r\n' "$(line "$p3" "$p4")"; } >"$scratch/utf8bom"
TENABLE_ROTATE_CONFIG="$(winpath "$scratch/config.toml")" run_exe 0 "$scratch/utf8bom" keeper
echo "ok: TENABLE_ROTATE_CONFIG=Z:\\..., UTF-8 stdin with BOM"

# Without the CA file the emulator's certificate is not trusted: exit 6, not a silent pass.
printf 'url = "%s"\n' "$url" >"$scratch/no-ca.toml"
printf '%s\r\n' "$(line "$p4" "$p1")" >"$scratch/back"
run_exe 6 "$scratch/back" keeper --config "$(winpath "$scratch/no-ca.toml")"
echo "ok: an untrusted certificate is exit 6: $(cat "$scratch/out")"

kill "$emu_pid" 2>/dev/null || true
rm -rf "$scratch"

echo "== end-to-end tests against the .exe under wine"
t=$SECONDS
log="$root/target/wine-test/e2e.log"
# suite LOG [FILTER...]: the suite against the .exe, its whole output in LOG.
suite() {
    local out="$1"; shift
    TENABLE_ROTATE_TEST_BIN="$launcher" TENABLE_ROTATE_TEST_TARGET=windows \
        cargo test --locked --test e2e -- --show-output "$@" 2>&1 | tee "$out" |
        awk '/^successes:$/ { quiet = 1 } /^failures:$/ || /^test result:/ { quiet = 0 }
             !quiet && !/^test .* ok$/' # failures in full; passing tests' output only in $log
}
if ! suite "$log" "$@"; then
    # wine itself has been seen (once, in four CI runs of this step) to end a run of the
    # .exe with exit 1 and no output at all (not our panic, which prints a line). A test that
    # failed is run once more, on its own; it must pass then, and the note says it. More than
    # three failures, or one that fails again, fail the step. The Linux suite has no second
    # run.
    failed="$(awk '/^failures:$/ { n++; next } n == 2 && /^    [A-Za-z0-9_:]+$/ { print $1 }' "$log")"
    count="$(printf '%s' "$failed" | grep -c . || true)"
    if [ "$count" -lt 1 ] || [ "$count" -gt 3 ]; then
        echo "windows-e2e: $count tests failed under wine" >&2
        exit 1
    fi
    echo "== once more, on their own: $(echo $failed)"
    # shellcheck disable=SC2086 # one argument per test name
    suite "$log.again" --exact $failed || { echo "windows-e2e: failed again under wine: $(echo $failed)" >&2; exit 1; }
    echo "NOTE: passed on a second run under wine: $(echo $failed)"
fi
# Which tests did not apply to Windows, and why (libtest shows a passing test's output
# under its name).
awk '/^---- .* stdout ----$/ { name = $2 } /^skipped on Windows: / { print "  " name ": " $0 }' "$log"
echo "end-to-end suite under wine: $((SECONDS - t)) s; the whole Windows step: $((SECONDS - started)) s"
