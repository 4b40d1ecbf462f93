#!/bin/sh
# Drop-in replacement for Keeper's tenable_credential_record sample
# (update_tenable_credential.py): attach this file in its place, keep the same key record as
# rotation credential, and nothing else changes. It changes the Vulnerability Management
# managed credential whose NAME is the PAM User's login, never a user of that name.
#
# It runs the installed tenable-rotate with the sample's target fixed
# (TENABLE_TARGET=credential overrides the key record), hands it the gateway's stdin unchanged
# and exits with its status (0 = success; see README). Edit BIN if the binary is installed
# elsewhere.
BIN="${TENABLE_ROTATE_BIN:-/usr/local/bin/tenable-rotate}"

if [ ! -x "$BIN" ]; then
    echo "tenable-rotate: no executable at $BIN; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed" >&2
    exit 2
fi
TENABLE_TARGET=credential
export TENABLE_TARGET
# The sample (pyTenable) takes its base URL from TIO_URL; so does this, unless TENABLE_URL is set.
if [ -z "${TENABLE_URL:-}" ] && [ -n "${TIO_URL:-}" ]; then
    TENABLE_URL="$TIO_URL"
    export TENABLE_URL
fi
exec "$BIN" keeper
