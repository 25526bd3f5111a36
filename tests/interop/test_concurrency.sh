#!/usr/bin/env bash
# 200 kernel clients connected at once to one `handshake serve --echo`: the
# server demultiplexes by 4-tuple and drains its accept queue; every echo
# (64 KiB each) is verified and every connection closes cleanly (kernel
# clients in TIME-WAIT, nothing left open on the server).
. "$(dirname "$0")/lib.sh"

N=200
start_serve --port 7 --echo --stats --backlog 256
peer many $HADDR 7 $N 65536 >"$TMP/many.log" 2>&1 || fail "clients: $(tail -n 1 "$TMP/many.log")"
echo "kernel: $(tail -n 1 "$TMP/many.log")"
sleep 0.2
stop_serve
grep -q "serve: $N accepted, $N closed, 0 errors" "$TMP/serve.log" || fail "server summary wrong"
[ "$(counter "$TMP/serve.log" PassiveOpens)" = $N ] || fail "PassiveOpens != $N"
grep -q "in use: 0 tcbs, 0 requests" "$TMP/serve.log" || fail "connections left on the server"
echo "server: $(grep 'in use' "$TMP/serve.log")"
echo "PASS: $N concurrent clients echoed and closed"
