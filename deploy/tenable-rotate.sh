#!/bin/sh
# Keeper PAM script for Linux gateways: hands the gateway's stdin line to an
# installed tenable-rotate and passes its exit status through (0 = success, see README).
#
# Attach this file to the PAM User record as a post-rotation script, with the Tenable key
# record as a rotation credential. Edit BIN if the binary is installed elsewhere.
BIN="${TENABLE_ROTATE_BIN:-/usr/local/bin/tenable-rotate}"

if [ ! -x "$BIN" ]; then
    echo "tenable-rotate: no executable at $BIN; install the binary there (or set TENABLE_ROTATE_BIN); the Tenable password was not changed" >&2
    exit 2
fi
# exec: the gateway's stdin goes straight to the binary and its exit status is ours.
exec "$BIN" keeper
