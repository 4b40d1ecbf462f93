#!/bin/sh
# Drop-in replacement for Keeper's tenable_sc_user sample (update_tenablesc_user.py): attach
# this file in its place, keep the same key record as rotation credential, and nothing else
# changes. It changes the Tenable Security Center user named by the PAM User's login (the key
# record's tenable_sc_host selects Security Center, as in the sample).
#
# It runs the installed tenable-rotate with the sample's target fixed (TENABLE_TARGET=user
# overrides the key record), hands it the gateway's stdin unchanged and exits with its status
# (0 = success; see README). Edit BIN if the binary is installed elsewhere.
BIN="${TENABLE_ROTATE_BIN:-/usr/local/bin/tenable-rotate}"

if [ ! -x "$BIN" ]; then
    echo "tenable-rotate: no executable at $BIN; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed" >&2
    exit 2
fi
TENABLE_TARGET=user
export TENABLE_TARGET
exec "$BIN" keeper
