#!/usr/bin/env bash
# 200 kernel clients connected at once to one `handshake serve --echo`: the
# server demultiplexes by 4-tuple and drains its accept queue; every echo
# (64 KiB each) is verified and every connection closes cleanly (kernel
# clients in TIME-WAIT, nothing left open on the server). Then SIGUSR1 must
# print the live table while 20 connections are held open.
. "$(dirname "$0")/lib.sh"

N=200
start_serve --port 7 --echo --stats --backlog 256 ${SERVE_EXTRA:-}
peer many $HADDR 7 $N 65536 >"$TMP/many.log" 2>&1 || true
echo "kernel: $(tail -n 1 "$TMP/many.log")"
sleep 0.2
stop_serve
# Every client connected at once and got its echo intact; every kernel
# socket ended in TIME-WAIT, except where handshake's FIN was resent after
# a stall longer than the RTO and the kernel's second ACK met handshake's
# RST after it had closed (RFC 9293 §3.10.7.1; Linux, with tcp_rfc1337=0,
# then ends its TIME_WAIT). Each such case is one RstSentNoSocket.
rsts=$(counter "$TMP/serve.log" RstSentNoSocket)
python3 - "$TMP/many.log" $N "${rsts:-0}" <<'PY' || fail "clients: $(tail -n 1 "$TMP/many.log")"
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
n, rsts = int(sys.argv[2]), int(sys.argv[3])
assert r["clients"] == n and r["established_at_once"] == n and r["echoes_ok"] == n, r
assert r["other_states"] == [], r
missing = n - r["time_wait"]
assert 0 <= missing <= rsts and missing <= n // 20, (missing, rsts)
if missing:
    print(f"{missing} kernel TIME_WAIT ended by handshake's RST to a late duplicate ACK")
PY
grep -q "serve: $N accepted, $N closed, 0 errors" "$TMP/serve.log" || fail "server summary wrong"
[ "$(counter "$TMP/serve.log" PassiveOpens)" = $N ] || fail "PassiveOpens != $N"
grep -q "in use: 0 tcbs, 0 requests" "$TMP/serve.log" || fail "connections left on the server"
echo "server: $(grep 'in use' "$TMP/serve.log")"

start_serve --port 7 --echo
ip netns exec "$NS" timeout --foreground -k 10 30 python3 "$PEER" hold $HADDR 7 20 1.5 >"$TMP/hold.log" 2>&1 &
HOLD_PID=$!
for _ in $(seq 1000); do   # up to 20 s: the ASan build on a loaded machine
	grep -q holding "$TMP/hold.log" && break
	sleep 0.02
done
grep -q holding "$TMP/hold.log" || fail "hold: $(cat "$TMP/hold.log")"
serve_signal USR1
sleep 0.3
wait $HOLD_PID || fail "holding clients failed"
grep -q "^LISTEN .* 0.0.0.0:7 .* 0/0" "$TMP/serve.log" || fail "no LISTEN row in the SIGUSR1 table"
[ "$(grep -c "^ESTABLISHED .* 198.18.0.2:7 " "$TMP/serve.log")" = 20 ] ||
	fail "SIGUSR1 table does not list the 20 open connections"
grep "^total" "$TMP/serve.log" | head -n 1 | sed 's/^/SIGUSR1 table: /'
stop_serve
echo "PASS: $N concurrent clients echoed and closed"
