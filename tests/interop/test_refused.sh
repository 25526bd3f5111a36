#!/usr/bin/env bash
# Connecting to a closed port, each way: the RST must surface as
# ECONNREFUSED on the connecting side.
. "$(dirname "$0")/lib.sh"

start_serve --port 7 --echo --stats
peer refused $HADDR 9999 >"$TMP/refused.log" 2>&1 || fail "kernel: $(tail -n 1 "$TMP/refused.log")"
echo "kernel -> handshake:9999: $(tail -n 1 "$TMP/refused.log")"
stop_serve
[ "$(counter "$TMP/serve.log" OutRsts)" -ge 1 ] || fail "handshake counted no RST sent"

set +e
hsk_connect $KADDR:9999 --stats >"$TMP/connect.log" 2>&1
rc=$?
set -e
[ $rc = 1 ] || fail "connect exited $rc, expected 1"
grep -q "ECONNREFUSED" "$TMP/connect.log" || fail "no ECONNREFUSED from connect"
echo "handshake -> kernel:9999: $(grep ECONNREFUSED "$TMP/connect.log")"
echo "PASS: ECONNREFUSED both ways"
